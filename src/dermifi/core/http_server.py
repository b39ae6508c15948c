"""The HTTP/1.1 connection handling that ``dermifi serve`` runs: uvicorn's httptools protocol
with the limits a server facing clients directly needs, and the contract's error envelope
on every answer the server gives before the app sees a request.

- **Request head timeout**: the request line and headers must arrive within
  ``DERMIFI_HEAD_TIMEOUT_SECONDS`` of the connection (or of the request's first byte on a
  kept-alive one), else the connection is closed (as nginx's ``client_header_timeout``
  does). A client trickling one header line every few seconds can no longer hold a
  connection for ever.
- **Body timeout**: a request's body must be complete within ``DERMIFI_BODY_TIMEOUT_SECONDS``
  of its headers, else ``408`` (code ``VALIDATION_ERROR``: the request is incomplete).
- **Head size**: a request line over ``MAX_REQUEST_LINE_BYTES`` is ``414``, headers over
  ``MAX_HEADER_BYTES`` in all ``431``, both ``PAYLOAD_TOO_LARGE``; malformed HTTP is ``400``
  ``VALIDATION_ERROR`` (uvicorn answered plain text).
- **Connections**: at most ``DERMIFI_MAX_CONNECTIONS`` per process (by default a margin
  below the process's descriptor limit); one more is answered ``503`` and closed at once,
  so descriptors stay free for the database, the logs and the clients already served.
  Idle kept-alive connections close after uvicorn's keep-alive timeout.

Behind a reverse proxy (see the README) the proxy's own limits apply first.
"""

from __future__ import annotations

import asyncio
import resource
import time
from functools import lru_cache
from typing import Any

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from dermifi.core.errors import envelope
from dermifi.core.ids import new_id

MAX_REQUEST_LINE_BYTES = 64 * 1024
MAX_HEADER_BYTES = 64 * 1024
# Descriptors kept back from client connections: database pool, log files, Redis, storage.
DESCRIPTOR_RESERVE = 64

_REASONS = {400: b"Bad Request", 408: b"Request Timeout", 414: b"URI Too Long",
            431: b"Request Header Fields Too Large", 503: b"Service Unavailable"}


@lru_cache(maxsize=1)
def limits() -> tuple[float, float, int]:
    """(head timeout, body timeout, connection cap) from the settings, read once per worker
    process (uvicorn's workers import this module afresh)."""
    from dermifi.core.config import Settings

    settings = Settings()
    return (settings.head_timeout_seconds, settings.body_timeout_seconds,
            connection_cap(settings.max_connections))


def connection_cap(configured: int | None) -> int:
    if configured:
        return configured
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return 4096
    return max(16, min(4096, soft - DESCRIPTOR_RESERVE))


_last_warned: dict[str, float] = {}


def _warn_at_most_every_minute(logger: Any, message: str, *args: Any) -> None:
    """Under a flood of bad connections, a line a minute says so; a line each would be the
    flood's second victim (the log)."""
    now = time.monotonic()
    if now - _last_warned.get(message, -60.0) >= 60.0:
        _last_warned[message] = now
        logger.warning(message, *args)


class _Refused(Exception):
    """Stops the parser: the request is answered without reaching the app."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.head_timeout, self.body_timeout, self.max_connections = limits()
        self._head_timer: asyncio.TimerHandle | None = None
        self._body_timer: asyncio.TimerHandle | None = None
        self._header_bytes = 0

    # --- the connection ----------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.max_connections:
            _warn_at_most_every_minute(self.logger, "connection limit (%d) reached; refusing "
                                       "connections", self.max_connections)
            self._answer(503, "SERVICE_UNAVAILABLE",
                         "The server has too many open connections; try again shortly",
                         retry_after=1)
            return
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timers()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.transport.is_closing():
            return
        self._unset_keepalive_if_required()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserCallbackError as exc:
            # httptools chains the callback's own exception as the context.
            refused = exc.__context__
            if not isinstance(refused, _Refused):
                raise
            self._answer(refused.status, refused.code, refused.message)
        except httptools.HttpParserUpgrade:
            self._answer(400, "VALIDATION_ERROR", "Protocol upgrades are not supported")
        except httptools.HttpParserError:
            self._answer(400, "VALIDATION_ERROR", "Malformed HTTP request")

    # --- parser callbacks -------------------------------------------------------------------

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._header_bytes = 0
        self._arm_head_timer()

    def on_url(self, url: bytes) -> None:
        super().on_url(url)
        if len(self.url) > MAX_REQUEST_LINE_BYTES:
            raise _Refused(414, "PAYLOAD_TOO_LARGE", "The request line is longer than "
                           f"{MAX_REQUEST_LINE_BYTES // 1024} kB")

    def on_header(self, name: bytes, value: bytes) -> None:
        # httptools may report one header in pieces; each piece counts once.
        self._header_bytes += len(name) + len(value) + 4
        if self._header_bytes > MAX_HEADER_BYTES:
            raise _Refused(431, "PAYLOAD_TOO_LARGE", "The request headers are larger than "
                           f"{MAX_HEADER_BYTES // 1024} kB")
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._cancel_head_timer()
        super().on_headers_complete()
        if self._expects_body():
            self._body_timer = self.loop.call_later(self.body_timeout, self._body_timed_out)

    def on_message_complete(self) -> None:
        self._cancel_body_timer()
        super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # Between requests uvicorn's keep-alive timeout closes an idle connection; the next
        # request's head timer starts with its first byte (on_message_begin).

    # --- timers -------------------------------------------------------------------------------

    def _arm_head_timer(self) -> None:
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(self.head_timeout, self._head_timed_out)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _cancel_body_timer(self) -> None:
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None

    def _cancel_timers(self) -> None:
        self._cancel_head_timer()
        self._cancel_body_timer()

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.transport.is_closing():
            return
        _warn_at_most_every_minute(self.logger, "request heads not complete within %g s; "
                                   "closing those connections", self.head_timeout)
        self.transport.close()

    def _body_timed_out(self) -> None:
        self._body_timer = None
        if self.transport.is_closing():
            return
        cycle = self.cycle
        if cycle is not None and not cycle.response_started:
            cycle.disconnected = True  # the app's receive() now answers http.disconnect
            cycle.message_event.set()
            self._answer(408, "VALIDATION_ERROR",
                         f"The request body did not arrive within {self.body_timeout:g} s")
        else:
            self.transport.close()

    def _expects_body(self) -> bool:
        for name, value in self.headers or ():
            if name == b"content-length":
                return value.strip() not in (b"", b"0")
            if name == b"transfer-encoding":
                return True
        return False

    # --- answers the app never sees -----------------------------------------------------------

    def _answer(self, status: int, code: str, message: str, *,
                retry_after: int | None = None) -> None:
        self._cancel_timers()
        body = envelope(code, message, request_id=new_id("req"))
        head = [b"HTTP/1.1 %d %s\r\n" % (status, _REASONS[status]),
                b"content-type: application/json\r\n",
                b"content-length: %d\r\n" % len(body),
                b"connection: close\r\n",
                b"x-content-type-options: nosniff\r\n",
                b"cache-control: no-store\r\n"]
        if retry_after is not None:
            head.append(b"retry-after: %d\r\n" % retry_after)
        self.transport.write(b"".join(head) + b"\r\n" + body)
        self.transport.close()
