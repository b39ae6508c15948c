"""``Idempotency-Key`` on the POSTs that create or send: a retry is answered, not run again.

A route opts in with one decorator line (``dermifi.auth.idempotency.idempotent``, which binds
this module to the authenticated caller and the audit trail; core knows no domain, so the
caller's type is a parameter here, as in ``core.repository``). Without the header a request is
handled exactly as before. With it:

1. The header must be 1 to 255 visible ASCII characters (else ``400 VALIDATION_ERROR``).
2. The request is fingerprinted by what it means, not its bytes: the concrete path and query,
   and the JSON body re-serialized with sorted keys (whitespace and key order do not count),
   or, for a form, its fields and each file's name and SHA-256 (a retry's multipart boundary
   is new). The key is scoped to practice, user and route (method and path template).
3. The key is claimed by inserting an ``in_flight`` row in its own short transaction,
   committed before the handler runs, so a concurrent request with the same key finds it.
   The unique constraint decides between racing claims. A row found instead is: a different
   fingerprint, ``409 CONFLICT``; still ``in_flight``, ``409 CONFLICT``; ``completed``, its
   stored status, body and headers again, with ``Idempotent-Replayed: true`` (and the replay
   is recorded like any other access). A row past ``expires_at`` counts as absent.
4. A 2xx answer is stored (``completed``, kept 24 hours from the claim) in another short
   transaction. Any other answer, or an exception, releases the claim, so the client may fix
   the request and retry with the same key.

Crash window, chosen deliberately: if the process dies (or the request is cancelled, or the
database fails) after the handler may have committed and before the answer is stored, the
claim stays ``in_flight`` and the key answers ``409 CONFLICT`` until it expires 24 hours after
the claim. The create is then never run twice; the client retries with a new key once it has
checked (e.g. listed) what exists. Releasing instead would risk a second patient or photo.

These bookkeeping transactions use a session of their own, never the handler's, so neither
can commit or roll back the other's work.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any, Generic, Literal, Protocol, TypeVar

import orjson
from fastapi import Depends, Header, Request
from sqlalchemy import (
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    delete,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column
from starlette.datastructures import UploadFile
from starlette.responses import Response, StreamingResponse

from dermifi.core.context import current_clock
from dermifi.core.db import (
    Base,
    PortableJSON,
    PracticeOwned,
    UTCDateTime,
    scope_to_practice,
    unit_of_work,
)
from dermifi.core.deps import state_of
from dermifi.core.errors import Conflict
from dermifi.core.ids import new_id
from dermifi.core.middleware import route_template

logger = logging.getLogger("dermifi.idempotency")

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
RETENTION = timedelta(hours=24)
MAX_KEY_LENGTH = 255
# Expired rows of the practice deleted per claim: keeps the table small at a bounded cost.
PURGE_BATCH = 100
# Only these headers of the first answer are replayed (the rest belong to each response).
STORED_HEADERS = ("Content-Type", "Location", "ETag")
_CHUNK = 1024 * 1024

State = Literal["in_flight", "completed"]
IN_FLIGHT: State = "in_flight"
COMPLETED: State = "completed"

DIFFERENT_REQUEST = f"{HEADER} was already used with a different request"
STILL_RUNNING = f"The first request with this {HEADER} is still being processed"


class IdempotencyKey(PracticeOwned, Base):
    """The first answer to one key of one user on one route."""

    __tablename__ = "idempotency_key"
    __table_args__ = (
        UniqueConstraint("practice_id", "user_id", "route", "key"),
        Index("ix_idempotency_key_practice_id_expires_at", "practice_id", "expires_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    # No index of its own: the unique constraint and the purge index both start with it.
    practice_id: Mapped[str] = mapped_column(ForeignKey("practice.id"))
    user_id: Mapped[str] = mapped_column(ForeignKey("user_account.id"))
    route: Mapped[str] = mapped_column(String(255))  # "POST /v1/patients/{patient_id}/photos"
    key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH))
    request_fingerprint: Mapped[str] = mapped_column(String(64))  # SHA-256, hex
    state: Mapped[str] = mapped_column(String(20))
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary)
    response_headers: Mapped[dict[str, str] | None] = mapped_column(PortableJSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


IdempotencyKeyHeader = Annotated[
    str | None,
    Header(alias=HEADER, min_length=1, max_length=MAX_KEY_LENGTH, pattern=r"^[!-~]+$",
           description=(
               "Makes a retry safe: a unique value per intended action (e.g. a UUID), 1 to "
               "255 visible ASCII characters. The first answer is kept 24 hours per user and "
               "route and replayed, with `Idempotent-Replayed: true`, to a retry with the "
               "same key and body. The same key with a different body, or while the first "
               "request is still being processed, is `409 CONFLICT`. A first request that "
               "failed (not 2xx) keeps nothing: the corrected request may use the key again.")),
]


# --- the request's fingerprint -------------------------------------------------------------

async def _file_digest(upload: UploadFile) -> str:
    digest = hashlib.sha256()
    await upload.seek(0)
    while chunk := await upload.read(_CHUNK):
        digest.update(chunk)
    await upload.seek(0)  # the handler reads it next
    return digest.hexdigest()


async def fingerprint(request: Request) -> str:
    """SHA-256 of what the request means: path, query and body, canonically."""
    content_type = request.headers.get("content-type", "").lower()
    body: Any
    if content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        fields: list[list[str]] = []
        for name, value in (await request.form()).multi_items():
            if isinstance(value, UploadFile):
                fields.append([name, "file", value.filename or "", await _file_digest(value)])
            else:
                fields.append([name, "field", value])
        body = {"form": sorted(fields)}
    else:
        raw = await request.body()
        try:
            body = {"json": orjson.loads(raw)} if raw and "json" in content_type else None
        except orjson.JSONDecodeError:
            body = None
        if body is None:
            body = {"bytes": hashlib.sha256(raw).hexdigest()}
    canonical = orjson.dumps({
        "path": request.url.path,
        "query": sorted(request.query_params.multi_items()),
        "body": body,
    }, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(canonical).hexdigest()


def route_of(request: Request) -> str:
    """``POST /v1/patients/{patient_id}/photos``: the method and the route's template."""
    return f"{request.method} {route_template(request.scope)}"


# --- claim, store, release -----------------------------------------------------------------

class Caller(Protocol):
    """Whom a key belongs to: the domains bind this to their authenticated caller."""

    @property
    def id(self) -> str: ...

    @property
    def practice_id(self) -> str: ...


C = TypeVar("C", bound=Caller)
ReplayHook = Callable[[AsyncSession, C, str], Awaitable[None]]


@dataclass(frozen=True)
class Claim:
    """One request carrying the header, from the moment its key is checked."""

    request: Request
    caller: Caller
    route: str
    key: str

    def session(self) -> AsyncSession:
        session = state_of(self.request).sessionmaker()
        scope_to_practice(session, self.caller.practice_id)
        return session

    def _identity(self) -> tuple[Any, ...]:
        return (IdempotencyKey.practice_id == self.caller.practice_id,
                IdempotencyKey.user_id == self.caller.id,
                IdempotencyKey.route == self.route, IdempotencyKey.key == self.key)

    async def _insert(self, session: AsyncSession, fingerprint_: str, now: datetime) -> str:
        async with unit_of_work(session):
            # An expired row of this key counts as absent: replace it.
            await session.execute(delete(IdempotencyKey).where(
                *self._identity(), IdempotencyKey.expires_at <= now,
            ).execution_options(synchronize_session=False))
            # Opportunistic purge: a bounded batch of the practice's other expired rows. Rows
            # another claim is purging are skipped (PostgreSQL), never waited for.
            expired = (select(IdempotencyKey.id)
                       .where(IdempotencyKey.practice_id == self.caller.practice_id,
                              IdempotencyKey.expires_at <= now)
                       .order_by(IdempotencyKey.expires_at).limit(PURGE_BATCH)
                       .with_for_update(skip_locked=True))
            await session.execute(delete(IdempotencyKey).where(
                IdempotencyKey.id.in_(expired.scalar_subquery()),
            ).execution_options(synchronize_session=False))
            row = IdempotencyKey(
                id=new_id("idem"), practice_id=self.caller.practice_id, user_id=self.caller.id,
                route=self.route, key=self.key, request_fingerprint=fingerprint_,
                state=IN_FLIGHT, created_at=now, expires_at=now + RETENTION)
            session.add(row)
        return row.id

    async def _existing(self, session: AsyncSession, now: datetime) -> IdempotencyKey | None:
        row = (await session.scalars(
            select(IdempotencyKey).where(*self._identity(), IdempotencyKey.expires_at > now)
            .execution_options(populate_existing=True))).one_or_none()
        if session.in_transaction():
            await session.commit()  # end the read: nothing of it is kept open
        return row

    async def begin(self, fingerprint_: str) -> str | IdempotencyKey:
        """Claim the key (its row's id), or the completed row to replay; else ``CONFLICT``."""
        now = current_clock().now()
        async with self.session() as session:
            # A few rounds: the row that made the insert fail may be released (or expire)
            # before it is read, and the key is then free again; losing every round means
            # the key is busy.
            for _ in range(3):
                try:
                    return await self._insert(session, fingerprint_, now)
                except Conflict as exc:
                    if not isinstance(exc.__cause__, IntegrityError):
                        raise
                existing = await self._existing(session, now)
                if existing is None:
                    continue
                if existing.request_fingerprint != fingerprint_:
                    raise Conflict(DIFFERENT_REQUEST, details=[
                        {"field": HEADER, "message": "Used with a different request"}])
                if existing.state == COMPLETED:
                    return existing
                break
        raise Conflict(STILL_RUNNING, details=[
            {"field": HEADER, "message": "The first request is still being processed"}])

    async def replay(self, row: IdempotencyKey, on_replay: ReplayHook[Any]) -> Response:
        async with self.session() as session, unit_of_work(session):
            await on_replay(session, self.caller, self.route)
        headers = {**(row.response_headers or {}), REPLAYED_HEADER: "true"}
        return Response(row.response_body or b"", status_code=row.response_status or 200,
                        headers=headers)

    async def complete(self, claim_id: str, response: Response) -> None:
        headers = {name: response.headers[name] for name in STORED_HEADERS
                   if name in response.headers}
        # ``expires_at`` stays what the claim set: 24 hours from the first request.
        async with self.session() as session, unit_of_work(session):
            await session.execute(update(IdempotencyKey).where(
                IdempotencyKey.id == claim_id, IdempotencyKey.state == IN_FLIGHT).values(
                state=COMPLETED, response_status=response.status_code,
                response_body=bytes(response.body), response_headers=headers,
            ).execution_options(synchronize_session=False))

    async def release(self, claim_id: str) -> None:
        async with self.session() as session, unit_of_work(session):
            await session.execute(delete(IdempotencyKey).where(
                IdempotencyKey.id == claim_id, IdempotencyKey.state == IN_FLIGHT,
            ).execution_options(synchronize_session=False))


# --- the decorator -------------------------------------------------------------------------

Endpoint = TypeVar("Endpoint", bound=Callable[..., Awaitable[Response]])
_PARAMETER = "_idempotency_claim"


class Idempotency(Generic[C]):
    """``@idempotent`` for one kind of caller: ``caller`` is the FastAPI dependency that
    authenticates it (resolved once per request, shared with the endpoint's own), and
    ``on_replay`` records a replay (it runs in the replay's own unit of work).

    The decorated endpoint keeps its signature and gains the optional header; it must return
    a ``Response`` (its body is what a retry gets back)."""

    def __init__(self, *, caller: Callable[..., Any], on_replay: ReplayHook[C]) -> None:
        self.on_replay = on_replay

        async def claim(request: Request, caller: Caller, key: str | None) -> Claim | None:
            if key is None:
                return None
            return Claim(request=request, caller=caller, route=route_of(request), key=key)

        # Built as values, not annotations: the caller's dependency is known only here.
        claim.__signature__ = inspect.Signature([  # type: ignore[attr-defined]
            inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD,
                              annotation=Request),
            inspect.Parameter("caller", inspect.Parameter.POSITIONAL_OR_KEYWORD,
                              annotation=Annotated[Any, Depends(caller)]),
            inspect.Parameter("key", inspect.Parameter.POSITIONAL_OR_KEYWORD,
                              annotation=IdempotencyKeyHeader, default=None),
        ])
        self._claim = claim

    def __call__(self, endpoint: Endpoint) -> Endpoint:
        signature = inspect.signature(endpoint, eval_str=True)
        if _PARAMETER in signature.parameters:
            raise TypeError(f"{endpoint.__qualname__} is already idempotent")
        on_replay = self.on_replay

        @functools.wraps(endpoint)
        async def idempotent_endpoint(*args: Any, **kwargs: Any) -> Response:
            claim: Claim | None = kwargs.pop(_PARAMETER)
            if claim is None:
                return await endpoint(*args, **kwargs)
            begun = await claim.begin(await fingerprint(claim.request))
            if isinstance(begun, IdempotencyKey):
                return await claim.replay(begun, on_replay)
            try:
                response = await endpoint(*args, **kwargs)
            except Exception:
                await _quietly(claim.release, begun)
                raise
            # Not ``except BaseException``: a cancelled request may have committed; its claim
            # stays in flight (409) like a crash's, rather than risk running twice.
            if isinstance(response, StreamingResponse) or not isinstance(response, Response):
                await _quietly(claim.release, begun)
                raise TypeError(f"{endpoint.__qualname__} must return a Response to be "
                                "idempotent")
            if 200 <= response.status_code < 300:
                # The change is made: answer it even if the answer cannot be kept (the key
                # then stays in flight, 409, and is never run twice).
                await _quietly(claim.complete, begun, response)
            else:
                await _quietly(claim.release, begun)
            return response

        parameters = [*signature.parameters.values(), inspect.Parameter(
            _PARAMETER, inspect.Parameter.KEYWORD_ONLY,
            annotation=Annotated[Claim | None, Depends(self._claim)])]
        idempotent_endpoint.__signature__ = signature.replace(  # type: ignore[attr-defined]
            parameters=parameters)
        return idempotent_endpoint  # type: ignore[return-value]


async def _quietly(step: Callable[..., Awaitable[None]], *args: Any) -> None:
    """Bookkeeping after the handler never replaces the handler's own answer or error."""
    try:
        await step(*args)
    except Exception:
        logger.warning("idempotency: %s failed; the key stays in flight until it expires",
                       step.__name__, exc_info=True)
