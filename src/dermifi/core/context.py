"""Per-request context shared by middleware, logging and error rendering."""

from __future__ import annotations

from contextvars import ContextVar

from dermifi.core.clock import Clock, SystemClock

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
user_id_var: ContextVar[str | None] = ContextVar("user_id", default=None)
client_ip_var: ContextVar[str | None] = ContextVar("client_ip", default=None)
_clock_var: ContextVar[Clock | None] = ContextVar("clock", default=None)
_SYSTEM_CLOCK = SystemClock()


def current_clock() -> Clock:
    """The clock of the app serving this request (tests pin it with FrozenClock)."""
    return _clock_var.get() or _SYSTEM_CLOCK


def bind_clock(clock: Clock) -> None:
    _clock_var.set(clock)
