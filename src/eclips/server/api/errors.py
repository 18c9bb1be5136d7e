"""Render every failure as ``{"error": "..."}``, the manual's error shape."""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from eclips.server.errors import AppError

log = logging.getLogger(__name__)


def _location(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts)


def validation_message(errors: list[dict[str, Any]]) -> str:
    """One readable sentence naming the first offending field, as the manual's 400s do."""
    first = errors[0]
    if first.get("type") == "json_invalid":
        return "Request body is not valid JSON"
    where = _location(first.get("loc", ()))
    if first.get("type") == "missing":
        return f"Missing required field: {where}" if where else "Missing request body"
    if first.get("type") == "value_error":
        # Our own validators word the whole sentence (e.g. "Maximum 500 rows per batch").
        return str(first.get("ctx", {}).get("error", first.get("msg")))
    message = str(first.get("msg", "Invalid value"))
    return f"Invalid {where}: {message}" if where else message


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(_request: Request, exc: AppError) -> JSONResponse:
        return JSONResponse(
            {"error": exc.message}, status_code=exc.status_code, headers=exc.headers
        )

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"error": validation_message(list(exc.errors()))}, status_code=400)

    @app.exception_handler(DBAPIError)
    async def _database_down(_request: Request, exc: DBAPIError) -> JSONResponse:
        # A connection that failed or was invalidated is an outage, not a bug: 503, so
        # clients retry. Anything else from the driver is still a server error.
        if exc.connection_invalidated or isinstance(exc, OperationalError | InterfaceError):
            log.warning("database unavailable: %s", exc.orig)
            return JSONResponse(
                {"error": "Database unavailable; retry shortly"},
                status_code=503,
                headers={"Retry-After": "2"},
            )
        raise exc

    async def _unreachable(_request: Request, exc: Exception) -> JSONResponse:
        log.warning("database unreachable: %r", exc)
        return JSONResponse(
            {"error": "Database unavailable; retry shortly"},
            status_code=503,
            headers={"Retry-After": "2"},
        )

    # The pool waited too long, or the driver could not connect at all.
    for unreachable in (PoolTimeout, TimeoutError, ConnectionError):
        app.add_exception_handler(unreachable, _unreachable)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else "HTTP error"
        headers = dict(exc.headers or {})
        allowed = allowed_methods(request) if exc.status_code == 405 else []
        if allowed:
            # Starlette names only the first route that matched the path; a path served by
            # several routes (GET and PUT settings) must list all their methods.
            headers["Allow"] = ", ".join(allowed)
        return JSONResponse({"error": message}, status_code=exc.status_code, headers=headers)


def allowed_methods(request: Request) -> list[str]:
    """Every method the API serves at this request's path, read from its OpenAPI schema."""
    methods: set[str] = set()
    for template, operations in request.app.openapi().get("paths", {}).items():
        pattern = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, request.url.path):
            methods |= {method.upper() for method in operations}
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)
