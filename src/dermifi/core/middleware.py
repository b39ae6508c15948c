"""Request context: the request id, the app clock, the access log and the last-resort 500."""

from __future__ import annotations

import logging
import re
import time
from urllib.parse import parse_qsl

import structlog
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dermifi.core.clock import Clock
from dermifi.core.context import bind_clock, request_id_var, user_id_var
from dermifi.core.errors import (
    ErrorDetail,
    InternalError,
    PayloadTooLarge,
    ValidationFailed,
    render,
)
from dermifi.core.fields import has_control_characters
from dermifi.core.ids import new_id
from dermifi.core.network import scope_header

access_log = structlog.get_logger("dermifi.access")
error_log = logging.getLogger("dermifi.errors")

_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def route_template(scope: Scope) -> str:
    """The matched route's template (``/v1/users/me``), never the raw path."""
    effective = scope.get("fastapi", {}).get("effective_route_context")
    path = getattr(effective, "path", None) or getattr(scope.get("route"), "path", None)
    return str(path) if path else "unmatched"


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, *, clock: Clock) -> None:
        self.app = app
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        supplied = scope_header(scope, b"x-request-id")
        request_id = supplied if supplied and _SANE_REQUEST_ID.match(supplied) else new_id("req")
        request_id_var.set(request_id)
        user_id_var.set(None)
        bind_clock(self.clock)
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                MutableHeaders(scope=message)["X-Request-Id"] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            error_log.exception("unhandled error", extra={"request_id": request_id})
            if not response_started:
                await render(InternalError())(scope, receive, send_with_id)
        finally:
            access_log.info(
                "request",
                method=scope.get("method"),
                route=route_template(scope),
                status=status,
                latency_ms=round((time.perf_counter() - started) * 1000, 2),
            )


class BodySizeLimitMiddleware:
    """Refuses bodies over the cap (413) before they are buffered, declared size or not."""

    def __init__(self, app: ASGIApp, *, max_json_bytes: int, max_upload_bytes: int) -> None:
        self.app = app
        self.max_json_bytes = max_json_bytes
        self.max_upload_bytes = max_upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        content_type = scope_header(scope, b"content-type") or ""
        is_upload = content_type.startswith("multipart/")
        cap = self.max_upload_bytes if is_upload else self.max_json_bytes
        declared = scope_header(scope, b"content-length")
        if declared and declared.isdigit() and int(declared) > cap:
            await render(PayloadTooLarge())(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > cap:
                    # An HTTPException passes through FastAPI's body parsing untouched and is
                    # rendered as PAYLOAD_TOO_LARGE by the error handlers.
                    raise HTTPException(status_code=413)
            return message

        await self.app(scope, limited_receive, send)


_MAYBE_CONTROL = re.compile(rb"%[01]|%7f|[\x00-\x1f\x7f]", re.IGNORECASE)
CONTROL_MESSAGE = "Control characters (such as NUL) are not allowed"


class ControlCharacterMiddleware:
    """Refuses NUL and other control characters in the path and the query string (400), for
    every route at once; request bodies are checked by the schemas' base class. Nothing with
    them reaches a query: PostgreSQL refuses NUL in text outright, and SQLite would match it
    as nothing at all."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        problems: list[ErrorDetail] = []
        if has_control_characters(scope["path"]):
            problems.append(ErrorDetail(field="path", message=CONTROL_MESSAGE))
        query: bytes = scope.get("query_string", b"")
        if query and _MAYBE_CONTROL.search(query):
            for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True,
                                         encoding="utf-8", errors="replace"):
                if has_control_characters(name) or has_control_characters(value):
                    field = name if not has_control_characters(name) else "query"
                    problems.append(ErrorDetail(field=field, message=CONTROL_MESSAGE))
        if problems:
            await render(ValidationFailed(details=problems))(scope, receive, send)
            return
        await self.app(scope, receive, send)


class HeadAsGetMiddleware:
    """``HEAD`` answers exactly what ``GET`` would, without the body (RFC 9110 9.3.2), on
    every GET route: the routes themselves declare GET only."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        # A copy: the server keeps its own scope, which still says HEAD.
        await self.app({**scope, "method": "GET"}, receive, send_without_body)
