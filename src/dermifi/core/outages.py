"""A database or another required service that does not answer: ``503`` with ``Retry-After``.

Refused and timed-out connections, an exhausted pool or a connection lost mid-request are
outages, not bugs: the answer is ``SERVICE_UNAVAILABLE`` and the log gets one line per failed
request, without a traceback (a traceback per request buried the log while an outage
lasted). Any other database error is a bug: ``INTERNAL_ERROR``, logged with its traceback.
"""

from __future__ import annotations

import logging
import socket

from fastapi import FastAPI, Request
from sqlalchemy import exc as sa_exc
from starlette.responses import Response

from dermifi.core.errors import InternalError, ServiceUnavailable, render

logger = logging.getLogger("dermifi.outage")
RETRY_AFTER_SECONDS = 2


def _connection_errors() -> tuple[type[Exception], ...]:
    errors: list[type[Exception]] = [ConnectionError, TimeoutError, socket.gaierror,
                                     sa_exc.TimeoutError, sa_exc.DBAPIError]
    try:
        from asyncpg.exceptions import PostgresConnectionError

        errors.append(PostgresConnectionError)
    except ImportError:  # pragma: no cover - asyncpg is a dependency
        pass
    return tuple(errors)


CONNECTION_ERRORS = _connection_errors()


# PostgreSQL's own "not now": a statement cancelled by statement_timeout (57014), a lock not
# granted in time (55P03), the server shutting down or not accepting connections yet (57P0x).
_BUSY_SQLSTATES = {"57014", "55P03", "57P01", "57P02", "57P03"}


def is_outage(exc: BaseException) -> bool:
    """Whether ``exc`` says a service (or the network to it) is down or too busy to answer in
    time, not that a query was wrong: refused or timed-out connections, an exhausted pool, a
    connection lost, a statement cancelled by its timeout."""
    if isinstance(exc, sa_exc.DBAPIError):
        sqlstate = getattr(exc.orig, "sqlstate", None) or getattr(
            getattr(exc.orig, "__cause__", None), "sqlstate", None)
        return (bool(exc.connection_invalidated) or sqlstate in _BUSY_SQLSTATES
                or isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError))
    return isinstance(exc, CONNECTION_ERRORS)


async def _outage_handler(_: Request, exc: Exception) -> Response:
    if not is_outage(exc):
        logger.error("unhandled database error", exc_info=exc)
        return render(InternalError())
    logger.warning("service unavailable (%s); answered 503", type(exc).__name__)
    return render(ServiceUnavailable(
        "A service this request needs is unavailable; try again shortly",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)}))


def install_outage_handlers(app: FastAPI) -> None:
    for error in CONNECTION_ERRORS:
        app.add_exception_handler(error, _outage_handler)
