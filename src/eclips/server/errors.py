"""One error base class; the API renders every one as ``{"error": message}``."""

from __future__ import annotations


class AppError(Exception):
    """Something the client can fix or must know; carries the HTTP status to answer with."""

    status_code: int = 400

    def __init__(
        self,
        message: str,
        status_code: int | None = None,
        *,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.headers = headers
        if status_code is not None:
            self.status_code = status_code


class BadRequest(AppError):
    status_code = 400


class Unauthorized(AppError):
    status_code = 401


class PaymentRequired(AppError):
    status_code = 402


class InsufficientScope(AppError):
    status_code = 403

    def __init__(self) -> None:
        super().__init__("Insufficient scope")


class NotFound(AppError):
    status_code = 404


class Conflict(AppError):
    status_code = 409
