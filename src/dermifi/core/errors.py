"""One error hierarchy, rendered once into the contract's envelope.

Services raise ``DomainError`` subclasses; the handlers below (and the middleware, which
calls ``error_response`` directly) are the only places that build an error body.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from dermifi.core.context import current_clock, request_id_var

logger = logging.getLogger("dermifi.errors")


class ErrorDetail(BaseModel):
    field: str
    message: str


class ErrorBody(BaseModel):
    code: str
    message: str
    details: list[ErrorDetail] = Field(default_factory=list)
    requestId: str
    timestamp: str


class ErrorEnvelope(BaseModel):
    error: ErrorBody


class DomainError(Exception):
    status_code = 400
    code = "VALIDATION_ERROR"
    message = "The request could not be processed"

    def __init__(
        self,
        message: str | None = None,
        *,
        details: Sequence[ErrorDetail | dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.message = message or self.message
        self.details = [d if isinstance(d, ErrorDetail) else ErrorDetail(**d)
                        for d in details or []]
        self.headers = headers or {}
        super().__init__(self.message)


class ValidationFailed(DomainError):
    status_code, code = 400, "VALIDATION_ERROR"
    message = "Invalid request parameters"


class Unauthorized(DomainError):
    status_code, code = 401, "UNAUTHORIZED"
    message = "Authentication required"

    def __init__(self, message: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(message, **kwargs)


class InvalidCredentials(DomainError):
    status_code, code = 401, "INVALID_CREDENTIALS"
    message = "Invalid email or password"


class MfaRequired(DomainError):
    status_code, code = 401, "MFA_REQUIRED"
    message = "A multi-factor authentication code is required"


class MfaInvalid(DomainError):
    status_code, code = 401, "MFA_INVALID"
    message = "The multi-factor authentication code is invalid"


class Forbidden(DomainError):
    status_code, code = 403, "FORBIDDEN"
    message = "You do not have permission for this action"


class IpNotAllowed(DomainError):
    status_code, code = 403, "IP_NOT_ALLOWED"
    message = "Requests from this address are not allowed"


class NotFound(DomainError):
    status_code, code = 404, "NOT_FOUND"
    message = "The requested resource was not found"


class MethodNotAllowed(DomainError):
    status_code, code = 405, "METHOD_NOT_ALLOWED"
    message = "Method not allowed for this resource"


class Conflict(DomainError):
    status_code, code = 409, "CONFLICT"
    message = "The request conflicts with existing data"


class InvalidState(DomainError):
    status_code, code = 409, "INVALID_STATE"
    message = "The resource is not in a state that allows this"


class PreconditionFailed(DomainError):
    status_code, code = 412, "PRECONDITION_FAILED"
    message = "The resource has changed since it was read"


class PayloadTooLarge(DomainError):
    status_code, code = 413, "PAYLOAD_TOO_LARGE"
    message = "The request body is too large"


class UnsupportedMediaType(DomainError):
    status_code, code = 415, "UNSUPPORTED_MEDIA_TYPE"
    message = "Unsupported media type"


class AccountLocked(DomainError):
    status_code, code = 423, "ACCOUNT_LOCKED"
    message = "Account temporarily locked after failed logins"


class RateLimited(DomainError):
    status_code, code = 429, "RATE_LIMITED"
    message = "Too many requests"


class ServiceUnavailable(DomainError):
    status_code, code = 503, "SERVICE_UNAVAILABLE"
    message = "The service is not ready"


class InternalError(DomainError):
    status_code, code = 500, "INTERNAL_ERROR"
    message = "An unexpected error occurred"


def _timestamp() -> str:
    return current_clock().now().strftime("%Y-%m-%dT%H:%M:%SZ")


def envelope(code: str, message: str, details: Iterable[ErrorDetail] = (),
             request_id: str | None = None) -> bytes:
    """The contract's error body, as JSON bytes."""
    return orjson.dumps({
        "error": {
            "code": code,
            "message": message,
            "details": [d.model_dump() for d in details],
            "requestId": request_id or request_id_var.get() or "req_unknown",
            "timestamp": _timestamp(),
        }
    })


def error_response(
    status_code: int,
    code: str,
    message: str,
    details: Iterable[ErrorDetail] = (),
    headers: dict[str, str] | None = None,
) -> Response:
    return Response(
        envelope(code, message, details), status_code=status_code, headers=headers,
        media_type="application/json",
    )


def render(exc: DomainError) -> Response:
    return error_response(exc.status_code, exc.code, exc.message, exc.details, exc.headers)


_VALIDATION_ROOTS = {"body", "query", "path", "header", "cookie"}

_FRIENDLY = {
    "missing": "Field required",
    "extra_forbidden": "Unknown field",
    "json_invalid": "Malformed JSON",
}


def field_path(loc: Sequence[int | str]) -> str:
    """('body', 'address', 'zipCode') -> 'address.zipCode'; list indexes stay as numbers."""
    parts = list(loc)
    if parts and parts[0] in _VALIDATION_ROOTS:
        parts = parts[1:]
    if not parts:
        return "body"
    return ".".join(str(p) for p in parts)


def validation_details(errors: Sequence[Any]) -> list[ErrorDetail]:
    details: list[ErrorDetail] = []
    for err in errors:
        loc = err.get("loc", ())
        kind = err.get("type", "")
        if kind == "json_invalid":
            details.append(ErrorDetail(field="body", message="Malformed JSON"))
            continue
        message = _FRIENDLY.get(kind) or str(err.get("msg", "Invalid value"))
        # pydantic prefixes custom ValueError messages; the prefix says nothing to a client.
        message = message.removeprefix("Value error, ")
        details.append(ErrorDetail(field=field_path(loc), message=message))
    return details


async def _domain_error_handler(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    return render(exc)


async def _validation_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    content_type = request.headers.get("content-type", "")
    has_body = any(e.get("loc", ("",))[0] == "body" for e in errors)
    if has_body and request.method in {"POST", "PUT", "PATCH"} and content_type and (
        "json" not in content_type and "multipart" not in content_type
    ):
        expected = "Content-Type must be application/json (multipart/form-data for uploads)"
        return render(ValidationFailed(
            expected, details=[ErrorDetail(field="body", message=expected)]))
    return render(ValidationFailed(details=validation_details(errors)))


_STATUS_ERRORS: dict[int, type[DomainError]] = {
    400: ValidationFailed, 401: Unauthorized, 403: Forbidden, 404: NotFound,
    405: MethodNotAllowed, 409: Conflict, 413: PayloadTooLarge, 415: UnsupportedMediaType,
    429: RateLimited,
}


_HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
_PATH_PARAMETER = re.compile(r"\{[^}]+\}")


@lru_cache(maxsize=1024)
def _path_pattern(template: str) -> re.Pattern[str]:
    return re.compile("[^/]+".join(re.escape(part) for part in _PATH_PARAMETER.split(template)))


def _allowed_methods(request: Request) -> str | None:
    """Every method the request's path answers to, from the API's own OpenAPI document.

    Starlette's 405 names only the methods of the first route whose path matched, so
    ``OPTIONS /v1/users`` said ``Allow: POST`` and hid ``GET``."""
    paths: dict[str, Any] = request.app.openapi().get("paths", {})
    path = request.scope["path"]
    methods = {method.upper() for template, item in paths.items()
               if _path_pattern(template).fullmatch(path)
               for method in item if method in _HTTP_METHODS}
    if "GET" in methods:
        methods.add("HEAD")  # every GET route answers HEAD too
    return ", ".join(sorted(methods)) or None


async def _http_exception_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    error_cls = _STATUS_ERRORS.get(exc.status_code)
    if error_cls is None:
        error_cls = InternalError if exc.status_code >= 500 else ValidationFailed
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        allowed = _allowed_methods(request)
        if allowed:  # paths outside the schema (/docs) keep the route's own list
            headers["Allow"] = allowed
        return render(MethodNotAllowed(headers=headers))
    return render(error_cls(headers=headers))


async def _unhandled_handler(_: Request, exc: Exception) -> Response:
    logger.exception("unhandled error", exc_info=exc)
    return render(InternalError())


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error_handler)
    app.add_exception_handler(RequestValidationError, _validation_handler)
    app.add_exception_handler(StarletteHTTPException, _http_exception_handler)
    app.add_exception_handler(Exception, _unhandled_handler)


_DESCRIPTIONS = {
    400: "Invalid request (`VALIDATION_ERROR`)",
    401: "Not authenticated (`UNAUTHORIZED`, `INVALID_CREDENTIALS`, `MFA_REQUIRED`, `MFA_INVALID`)",
    403: "Not permitted (`FORBIDDEN`, `IP_NOT_ALLOWED`)",
    404: "Not found (`NOT_FOUND`)",
    409: "Conflict (`CONFLICT`, `INVALID_STATE`)",
    412: "Stale version (`PRECONDITION_FAILED`)",
    413: "Too large (`PAYLOAD_TOO_LARGE`)",
    415: "Unsupported media type (`UNSUPPORTED_MEDIA_TYPE`)",
    423: "Account locked (`ACCOUNT_LOCKED`)",
    429: "Rate limited (`RATE_LIMITED`)",
    500: "Unexpected error (`INTERNAL_ERROR`)",
    503: "A service it needs is unavailable; retry after `Retry-After` (`SERVICE_UNAVAILABLE`)",
}

# Statuses any endpoint can answer: the middleware (allowlist, rate limit, control
# characters), the catch-all, and a database or service that is down.
COMMON_ERRORS = (400, 403, 429, 500, 503)


def error_responses(*statuses: int, authenticated: bool = True) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for an endpoint: its own error statuses plus the common ones."""
    wanted = set(statuses) | set(COMMON_ERRORS)
    if authenticated:
        wanted.add(401)
    return {
        status: {"model": ErrorEnvelope, "description": _DESCRIPTIONS[status]}
        for status in sorted(wanted)
    }
