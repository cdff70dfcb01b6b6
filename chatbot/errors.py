"""One error root for the whole service.

    ChatbotError(code, message)
    ├── InvalidInput        bad input from a user or client (-> HTTP 400/422)
    ├── NotFound            an unknown resource (-> 404)
    ├── Unauthorized        missing or bad credentials (-> 401)
    ├── Forbidden           authenticated but not allowed (-> 403)
    ├── Conflict            the request clashes with current state (-> 409)
    ├── RateLimited         too many attempts; `retry_after` seconds (-> 429)
    └── ServiceUnavailable  a backing system cannot be reached (-> 503)

Third-party errors are translated where they enter (storage, outside APIs); the HTTP
layer maps these classes to responses in one place (`api/errors.py`).
"""
from __future__ import annotations


class ChatbotError(Exception):
    """Root of all errors this service raises on purpose."""

    default_code = "error"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code or self.default_code
        self.message = message


class InvalidInput(ChatbotError):
    default_code = "invalid_input"


class NotFound(ChatbotError):
    default_code = "not_found"


class Unauthorized(ChatbotError):
    default_code = "unauthorized"


class Forbidden(ChatbotError):
    default_code = "forbidden"


class Conflict(ChatbotError):
    default_code = "conflict"


class RateLimited(ChatbotError):
    """Too many attempts (e.g. failed staff logins); try again after `retry_after` seconds."""

    default_code = "rate_limited"

    def __init__(self, message: str, retry_after: int, code: str | None = None) -> None:
        super().__init__(message, code)
        self.retry_after = retry_after


class ServiceUnavailable(ChatbotError):
    default_code = "service_unavailable"
