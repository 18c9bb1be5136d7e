"""What the sync and async clients share: configuration, request building, retries, errors."""

from __future__ import annotations

import email.utils
import os
import random
import time
import uuid
from collections.abc import Mapping
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
import pydantic

from eclips.sdk._exceptions import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    status_error_class,
)
from eclips.sdk._models import EClipsModel
from eclips.sdk._version import __version__

ENV_API_KEY = "ECLIPS_API_KEY"
ENV_BASE_URL = "ECLIPS_BASE_URL"
DEFAULT_BASE_URL = "http://127.0.0.1:8080"
DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_RETRIES = 2

# Backoff between retries: 0.5 s, 1 s, 2 s ... capped at 8 s, each minus up to 25 % jitter.
INITIAL_RETRY_DELAY = 0.5
MAX_RETRY_DELAY = 8.0
# A Retry-After longer than this is not honoured; the client falls back to its own backoff.
MAX_RETRY_AFTER = 60.0

IDEMPOTENCY_HEADER = "Idempotency-Key"

ModelT = TypeVar("ModelT", bound=EClipsModel)


def new_idempotency_key() -> str:
    """A key for one creating call, sent unchanged on each of its retries, so the server
    creates the run or batch once however many attempts reach it."""
    return f"eclips-python-{uuid.uuid4()}"


def path_segment(value: object) -> str:
    """An id made safe to put in a URL path (an id can never address another endpoint)."""
    return quote(str(value), safe="")


def normalize_base_url(base_url: str) -> str:
    """Drop a trailing slash and a trailing ``/v1``: every path the SDK sends starts there."""
    url = base_url.strip().rstrip("/")
    return url.removesuffix("/v1")


def should_retry(response: httpx.Response) -> bool:
    """Rate limits, request timeouts and server errors are worth another try; so is a 409
    to a request with an ``Idempotency-Key`` (its first attempt is still in progress)."""
    code = response.status_code
    if code == 409:
        return IDEMPOTENCY_HEADER in response.request.headers
    return code in (408, 429) or code >= 500


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """The wait the server asked for (``retry-after-ms``, or ``Retry-After`` in seconds or as
    an HTTP date), or None when absent, unreadable or unreasonably long."""
    value: float | None = None
    raw_ms = headers.get("retry-after-ms")
    raw = headers.get("retry-after")
    if raw_ms is not None:
        try:
            value = float(raw_ms) / 1000
        except ValueError:
            value = None
    if value is None and raw is not None:
        try:
            value = float(raw)
        except ValueError:
            try:
                parsed = email.utils.parsedate_to_datetime(raw)
            except (TypeError, ValueError):
                parsed = None
            if parsed is not None and parsed.tzinfo is not None:
                value = parsed.timestamp() - time.time()
    if value is None or not 0 <= value <= MAX_RETRY_AFTER:
        return None
    return value


def retry_delay(attempt: int, headers: Mapping[str, str] | None = None) -> float:
    """Seconds to wait before retry number ``attempt + 1`` (``attempt`` starts at 0)."""
    if headers is not None:
        asked = retry_after_seconds(headers)
        if asked is not None:
            return asked
    delay = min(INITIAL_RETRY_DELAY * 2.0**attempt, MAX_RETRY_DELAY)
    return delay * (1 - 0.25 * random.random())


def error_message(response: httpx.Response) -> tuple[str, Any]:
    """The server's message (``{"error": "..."}``) and the decoded body."""
    try:
        body: Any = response.json()
    except ValueError:
        body = response.text
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, str) and error:
            return error, body
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return error["message"], body
        detail = body.get("detail")
        if isinstance(detail, str) and detail:
            return detail, body
    text = body.strip()[:500] if isinstance(body, str) else ""
    return text or response.reason_phrase or f"HTTP {response.status_code}", body


def connection_error(exc: httpx.TransportError, request: httpx.Request) -> APIConnectionError:
    if isinstance(exc, httpx.TimeoutException):
        return APITimeoutError(request=request)
    host = f"{request.url.scheme}://{request.url.netloc.decode()}"
    return APIConnectionError(
        f"Could not connect to the EClips server at {host}: {exc}", request=request
    )


class BaseClient:
    """Configuration and the pieces of a call that do not depend on sync or async I/O."""

    api_key: str | None
    base_url: str
    max_retries: int
    timeout: float | httpx.Timeout

    def __init__(
        self,
        *,
        api_key: str | None,
        base_url: str | None,
        max_retries: int,
        timeout: float | httpx.Timeout,
    ) -> None:
        if max_retries < 0:
            raise ValueError("max_retries must be 0 or more")
        self.api_key = api_key if api_key is not None else (os.environ.get(ENV_API_KEY) or None)
        self.base_url = normalize_base_url(
            base_url if base_url is not None else (os.environ.get(ENV_BASE_URL) or DEFAULT_BASE_URL)
        )
        self.max_retries = max_retries
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r})"

    def _headers(self, accept: str, idempotency_key: str | None) -> dict[str, str]:
        headers = {"Accept": accept, "User-Agent": f"eclips-python/{__version__}"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        if idempotency_key is not None:
            headers[IDEMPOTENCY_HEADER] = idempotency_key
        return headers

    def _build_request(
        self,
        http: httpx.Client | httpx.AsyncClient,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None,
        json: Any,
        accept: str,
        idempotency_key: str | None,
    ) -> httpx.Request:
        query = {k: v for k, v in (params or {}).items() if v is not None}
        return http.build_request(
            method,
            self.base_url + path,
            params=query or None,
            json=json,
            headers=self._headers(accept, idempotency_key),
            timeout=self.timeout,
        )

    def _status_error(self, response: httpx.Response) -> APIStatusError:
        """The typed error for a failed response whose body has been read."""
        message, body = error_message(response)
        cls = status_error_class(response.status_code)
        if cls is AuthenticationError and not self.api_key:
            message += f" (no API key was given: pass api_key= or set {ENV_API_KEY})"
        return cls(message, response=response, body=body)

    @staticmethod
    def _json(response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError as exc:
            raise APIResponseValidationError(
                f"Expected JSON from {response.request.url.path}, got: {response.text[:200]!r}",
                request=response.request,
            ) from exc

    @staticmethod
    def _cast(model: type[ModelT], value: Any, request: httpx.Request) -> ModelT:
        try:
            return model.model_validate(value)
        except pydantic.ValidationError as exc:
            raise APIResponseValidationError(
                f"The response of {request.url.path} does not match {model.__name__}: {exc}",
                request=request,
            ) from exc

    @staticmethod
    def _envelope(body: Any, key: str, request: httpx.Request) -> Any:
        """``body[key]`` of an enveloped answer such as ``{"job": {...}}``."""
        if not isinstance(body, dict) or key not in body:
            raise APIResponseValidationError(
                f"The response of {request.url.path} has no {key!r} field", request=request
            )
        return body[key]
