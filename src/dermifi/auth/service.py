"""Login, token refresh with rotation, logout, and authentication of each request."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, bindparam, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dermifi.audit import service as audit_service
from dermifi.auth import revocation
from dermifi.auth.actor import Actor
from dermifi.auth.models import AuthSession, LoginFailure, RefreshToken
from dermifi.auth.permissions import Role, permissions_of
from dermifi.core.clock import as_utc
from dermifi.core.context import client_ip_var, current_clock
from dermifi.core.db import unit_of_work
from dermifi.core.errors import (
    AccountLocked,
    DomainError,
    InvalidCredentials,
    IpNotAllowed,
    MfaInvalid,
    MfaRequired,
    Unauthorized,
)
from dermifi.core.ids import new_id
from dermifi.core.network import cidrs_allow
from dermifi.core.security import TokenError, match_totp
from dermifi.core.state import AppState
from dermifi.practices import service as practices_service
from dermifi.practices.models import Practice
from dermifi.users import service as users_service
from dermifi.users.models import User

# Answered to attempts refused while the threshold's worth of others are being checked.
IN_FLIGHT_RETRY_AFTER_SECONDS = 5


@dataclass(frozen=True)
class IssuedTokens:
    access_token: str
    refresh_token: str
    expires_in: int
    user: User

    def login_body(self) -> dict[str, object]:
        return {
            "accessToken": self.access_token,
            "refreshToken": self.refresh_token,
            "tokenType": "Bearer",
            "expiresIn": self.expires_in,
            "user": {
                "id": self.user.id,
                "email": self.user.email,
                "role": self.user.role,
                "permissions": permissions_of(self.user.role),
            },
        }


def _practice_allows(practice: Practice) -> bool:
    return cidrs_allow(practice.ip_allowlist or [], client_ip_var.get() or "")


def _mint(state: AppState, user: User, auth_session: AuthSession, refresh_id: str,
          now: datetime) -> tuple[str, str]:
    settings = state.settings
    issued = int(now.timestamp())
    access = state.tokens.encode({
        "typ": "access", "sub": user.id, "prc": user.practice_id, "sid": auth_session.id,
        "jti": new_id("atk"), "iat": issued, "exp": issued + settings.access_token_ttl_seconds,
    })
    refresh = state.tokens.encode({
        "typ": "refresh", "sub": user.id, "sid": auth_session.id, "jti": refresh_id,
        "iat": issued, "exp": int(auth_session.expires_at.timestamp()),
    })
    return access, refresh


async def _start_session(session: AsyncSession, state: AppState, user: User,
                         now: datetime) -> IssuedTokens:
    auth_session = AuthSession(
        id=new_id("ses"), practice_id=user.practice_id, user_id=user.id, created_at=now,
        expires_at=now + timedelta(seconds=state.settings.refresh_token_ttl_seconds),
    )
    session.add(auth_session)
    refresh_id = new_id("rtk")
    session.add(RefreshToken(id=refresh_id, practice_id=user.practice_id,
                             session_id=auth_session.id, issued_at=now,
                             expires_at=auth_session.expires_at))
    access, refresh = _mint(state, user, auth_session, refresh_id, now)
    return IssuedTokens(access, refresh, state.settings.access_token_ttl_seconds, user)


def _lock_remaining(locked_until: datetime | None, now: datetime) -> int | None:
    """Seconds until the lock ends (rounded up), or None when the account is not locked."""
    if locked_until is None or as_utc(locked_until) <= now:
        return None
    return int((as_utc(locked_until) - now).total_seconds()) + 1


async def _failures_in_window(session: AsyncSession, state: AppState, user_id: str,
                              now: datetime) -> int:
    window_start = now - timedelta(seconds=state.settings.lockout_window_seconds)
    return int(await session.scalar(
        select(func.count()).select_from(LoginFailure)
        .where(LoginFailure.user_id == user_id, LoginFailure.occurred_at > window_start)
        .execution_options(all_practices=True)) or 0)


async def _claim_attempt(session: AsyncSession, state: AppState, user: User) -> str:
    """Count this attempt as a failure before its password is checked, or refuse it.

    The claim is a ``login_failure`` row written under the account's row lock, so a burst of
    parallel guesses is counted one by one and at most the threshold of them ever reach the
    slow hash; the rest are refused at once. An attempt that turns out not to be a failure
    gives its claim back. A process that dies mid-check leaves the claim counted: it fails
    safe."""
    now = current_clock().now()
    async with unit_of_work(session):
        remaining = _lock_remaining(await users_service.lock_for_sign_in(session, user.id), now)
        if remaining is not None:
            raise AccountLocked(headers={"Retry-After": str(remaining)})
        if await _failures_in_window(session, state, user.id, now) >= (
                state.settings.lockout_threshold):
            # The threshold's worth of attempts is already being checked: whether they lock
            # the account is known within a second or two.
            raise AccountLocked(headers={"Retry-After": str(IN_FLIGHT_RETRY_AFTER_SECONDS)})
        claim = LoginFailure(id=new_id("lgf"), practice_id=user.practice_id, user_id=user.id,
                             occurred_at=now)
        session.add(claim)
    return claim.id


async def _release_claim(session: AsyncSession, claim_id: str) -> None:
    await session.execute(delete(LoginFailure).where(LoginFailure.id == claim_id)
                          .execution_options(all_practices=True))


async def _record_failure(session: AsyncSession, state: AppState, user: User,
                          reason: str) -> None:
    """The claimed attempt failed: it stays counted; at the threshold the account locks."""
    settings = state.settings
    async with unit_of_work(session):
        now = current_clock().now()
        current_lock = await users_service.lock_for_sign_in(session, user.id)
        already_locked = _lock_remaining(current_lock, now)
        failures = await _failures_in_window(session, state, user.id, now)
        locked = already_locked is None and failures >= settings.lockout_threshold
        if locked:
            locked_until = now + timedelta(seconds=settings.lockout_duration_seconds)
            await users_service.lock_until(session, user.id, locked_until)
            # The lock consumes these failures: counting starts afresh once it ends.
            await session.execute(
                delete(LoginFailure).where(LoginFailure.user_id == user.id)
                .execution_options(all_practices=True)
            )
        await audit_service.record(
            session, None, "auth.login", practice_id=user.practice_id, actor_id=user.id,
            resource_type="user", resource_id=user.id, outcome="failure",
            details={"reason": reason, "locked": locked},
        )


async def login(session: AsyncSession, state: AppState, *, email: str, password: str,
                mfa_code: str | None) -> IssuedTokens:
    user = await users_service.find_by_email(session, email)
    practice = (await practices_service.get_practice(session, user.practice_id)
                if user is not None else None)
    # End the read before the slow part: a burst of logins must not hold pool connections
    # (idle in transaction) while argon2 runs. Commit, not rollback, keeps `user` loaded.
    await session.commit()

    claim_id = await _claim_attempt(session, state, user) if user is not None else None
    password_ok = await state.passwords.verify(user.password_hash if user else None, password)
    if user is None or practice is None or not user.is_active or not password_ok:
        if user is not None:
            await _record_failure(session, state, user, "password")
        raise InvalidCredentials()
    assert claim_id is not None
    new_hash = (await state.passwords.hash(password)
                if state.passwords.needs_rehash(user.password_hash) else None)

    now = current_clock().now()
    refusal: DomainError | None = None
    mfa_failed = False
    async with unit_of_work(session):
        # Decided under the account's row lock, after the hash: a lock set by the guesses
        # that ran beside this one refuses even the right password.
        remaining = _lock_remaining(await users_service.lock_for_sign_in(session, user.id), now)
        if remaining is not None:
            refusal = AccountLocked(headers={"Retry-After": str(remaining)})
        elif not _practice_allows(practice):
            await _release_claim(session, claim_id)
            refusal = IpNotAllowed()
        elif user.mfa_secret_sealed is not None and not mfa_code:
            await _release_claim(session, claim_id)
            refusal = MfaRequired()
        elif user.mfa_secret_sealed is not None and not await _accept_totp(
                session, state, user, mfa_code or "", now):
            mfa_failed = True
        else:
            await session.execute(
                delete(LoginFailure).where(LoginFailure.user_id == user.id)
                .execution_options(all_practices=True)
            )
            await users_service.signed_in(session, user, new_password_hash=new_hash)
            issued = await _start_session(session, state, user, now)
            await audit_service.record(
                session, None, "auth.login", practice_id=user.practice_id, actor_id=user.id,
                actor_role=user.role, resource_type="user", resource_id=user.id,
            )
    if mfa_failed:
        await _record_failure(session, state, user, "mfa")
        raise MfaInvalid()
    if refusal is not None:
        raise refusal
    return issued


async def _accept_totp(session: AsyncSession, state: AppState, user: User, code: str,
                       now: datetime) -> bool:
    """Whether ``code`` is the account's current TOTP code, used for the first time."""
    assert user.mfa_secret_sealed is not None
    step = match_totp(state.secret_box.open(user.mfa_secret_sealed), code, now)
    return step is not None and await users_service.claim_totp_step(session, user.id, step)


async def refresh(session: AsyncSession, state: AppState, *, refresh_token: str) -> IssuedTokens:
    now = current_clock().now()
    try:
        claims = state.tokens.decode(refresh_token, expected_type="refresh", now=now)
    except TokenError as exc:
        raise Unauthorized("Invalid or expired refresh token") from exc

    reused_session: str | None = None
    async with unit_of_work(session):
        row = (await session.execute(
            select(RefreshToken, AuthSession)
            .join(AuthSession, AuthSession.id == RefreshToken.session_id)
            .where(RefreshToken.id == claims["jti"], AuthSession.id == claims["sid"])
            .with_for_update(of=RefreshToken)
        )).first()
        if row is None:
            raise Unauthorized("Invalid or expired refresh token")
        token, auth_session = row
        user = await users_service.get_account(session, auth_session.user_id)
        if auth_session.revoked_at is not None or user is None or not user.is_active:
            raise Unauthorized("Invalid or expired refresh token")
        claimed = await session.execute(
            update(RefreshToken)
            .where(RefreshToken.id == token.id, RefreshToken.used_at.is_(None))
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )
        if getattr(claimed, "rowcount", 0) != 1:
            # A rotated token came back: someone holds a copy. End the whole family.
            auth_session.revoked_at = now
            auth_session.revoke_reason = "refresh_reuse"
            reused_session = auth_session.id
            await audit_service.record(
                session, None, "auth.refresh", practice_id=user.practice_id, actor_id=user.id,
                actor_role=user.role, resource_type="auth_session", resource_id=auth_session.id,
                outcome="failure", details={"reason": "refresh_token_reuse"},
            )
        else:
            new_refresh_id = new_id("rtk")
            session.add(RefreshToken(id=new_refresh_id, practice_id=user.practice_id,
                                     session_id=auth_session.id, issued_at=now,
                                     expires_at=auth_session.expires_at))
            access, new_refresh = _mint(state, user, auth_session, new_refresh_id, now)
            await audit_service.record(
                session, None, "auth.refresh", practice_id=user.practice_id, actor_id=user.id,
                actor_role=user.role, resource_type="auth_session", resource_id=auth_session.id,
            )
    if reused_session is not None:
        await revocation.announce(state, reused_session)
        raise Unauthorized("Refresh token reuse detected; the session has been revoked")
    return IssuedTokens(access, new_refresh, state.settings.access_token_ttl_seconds, user)


async def logout(session: AsyncSession, state: AppState, actor: Actor) -> None:
    now = current_clock().now()
    async with unit_of_work(session):
        await session.execute(
            update(AuthSession)
            .where(AuthSession.id == actor.session_id, AuthSession.revoked_at.is_(None))
            .values(revoked_at=now, revoke_reason="logout")
            .execution_options(synchronize_session=False)
        )
        await audit_service.record(session, actor, "auth.logout", resource_type="auth_session",
                                   resource_id=actor.session_id)
    await revocation.announce(state, actor.session_id)


def _session_of_access() -> Select[Any]:
    """One round trip: the login session (this domain's row) with the account and the
    practice's allowlist, through the statements those domains publish for it. Built once:
    it runs on every authenticated request."""
    account = users_service.account_statement(bindparam("user_id")).subquery()
    return (select(account, AuthSession.revoked_at, AuthSession.expires_at,
                   practices_service.allowlist_of(account.c.practice_id))
            .join(AuthSession, AuthSession.user_id == account.c.id)
            .where(AuthSession.id == bindparam("session_id"),
                   account.c.practice_id == bindparam("practice_id")))


_SESSION_OF_ACCESS = _session_of_access()


async def authenticate(state: AppState, token: str) -> Actor:
    """The actor behind an access token, or UNAUTHORIZED. Reads the session row every time so
    that a logout or a deactivated account takes effect at once on every process.

    On a connection of its own, held for that one statement: the request's session stays
    untouched (a read answers without a transaction; a change begins its own), and the
    connection is back in the pool before the route runs."""
    now = current_clock().now()
    try:
        claims = state.tokens.decode(token, expected_type="access", now=now)
    except TokenError as exc:
        raise Unauthorized("Invalid or expired access token") from exc
    session_id = claims.get("sid")
    if not isinstance(session_id, str) or await revocation.is_announced(state, session_id):
        raise Unauthorized("Invalid or expired access token")
    async with state.single_statements.connect() as connection:
        row = (await connection.execute(_SESSION_OF_ACCESS, {
            "user_id": claims["sub"], "session_id": session_id,
            "practice_id": claims.get("prc"),
        })).first()
    if row is None:
        raise Unauthorized("Invalid or expired access token")
    user_id, practice_id, role, is_active, revoked_at, expires_at, allowlist = row
    if revoked_at is not None or as_utc(expires_at) <= now or not is_active:
        raise Unauthorized("Invalid or expired access token")
    if allowlist and not cidrs_allow(allowlist, client_ip_var.get() or ""):
        raise IpNotAllowed()
    return Actor(id=user_id, practice_id=practice_id, role=Role(role), session_id=session_id)
