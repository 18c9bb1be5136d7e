"""The SDK's error tree: one class per way a call can fail, modelled on openai-python.

Every class's docstring is its default message.
"""

from __future__ import annotations

from typing import Any

import httpx

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "EClipsError",
    "InternalServerError",
    "NotFoundError",
    "PaymentRequiredError",
    "PermissionDeniedError",
    "RateLimitError",
    "UnprocessableEntityError",
    "WaitTimeoutError",
]


class EClipsError(Exception):
    """Something went wrong in the EClips SDK."""

    def __init__(self, message: str | None = None) -> None:
        self.message = message or (type(self).__doc__ or "").strip()
        super().__init__(self.message)


class APIError(EClipsError):
    """The EClips API call failed."""

    request: httpx.Request | None

    def __init__(self, message: str | None = None, *, request: httpx.Request | None = None) -> None:
        super().__init__(message)
        self.request = request


class APIConnectionError(APIError):
    """Could not connect to the EClips server."""


class APITimeoutError(APIConnectionError):
    """The request to the EClips server timed out."""


class APIResponseValidationError(APIError):
    """The EClips server sent a response the SDK could not read."""


class APIStatusError(APIError):
    """The EClips server answered with an error status."""

    status_code: int
    response: httpx.Response
    body: Any

    def __init__(self, message: str | None = None, *, response: httpx.Response, body: Any) -> None:
        super().__init__(message, request=response.request)
        self.response = response
        self.status_code = response.status_code
        self.body = body

    def __str__(self) -> str:
        return f"{self.status_code}: {self.message}"


class BadRequestError(APIStatusError):
    """The request was invalid (400)."""


class AuthenticationError(APIStatusError):
    """The API key is missing or not valid (401)."""


class PaymentRequiredError(APIStatusError):
    """The organisation has no credits left for this (402)."""


class PermissionDeniedError(APIStatusError):
    """The API key lacks the scope this endpoint needs (403)."""


class NotFoundError(APIStatusError):
    """The object does not exist in your organisation (404)."""


class ConflictError(APIStatusError):
    """The object is not in a state that allows this (409)."""


class UnprocessableEntityError(APIStatusError):
    """The request was well-formed but could not be processed (422)."""


class RateLimitError(APIStatusError):
    """Too many requests (429)."""


class InternalServerError(APIStatusError):
    """The EClips server failed (5xx)."""


class WaitTimeoutError(EClipsError, TimeoutError):
    """Waiting for a run or batch job took longer than the timeout."""


_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    402: PaymentRequiredError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def status_error_class(status_code: int) -> type[APIStatusError]:
    """The most specific error class for an HTTP status."""
    if status_code >= 500:
        return InternalServerError
    return _BY_STATUS.get(status_code, APIStatusError)
