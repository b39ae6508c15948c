"""Login, token refresh with rotation, logout, and authentication of each request."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dermifi.audit import service as audit_service
from dermifi.auth import revocation
from dermifi.auth.actor import Actor
from dermifi.auth.models import AuthSession, LoginFailure, RefreshToken
from dermifi.auth.permissions import permissions_of
from dermifi.core.clock import as_utc
from dermifi.core.context import client_ip_var, current_clock
from dermifi.core.db import unit_of_work
from dermifi.core.errors import (
    AccountLocked,
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
from dermifi.practices.models import Practice
from dermifi.users.models import User


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


async def _record_failure(session: AsyncSession, state: AppState, user: User,
                          reason: str) -> None:
    """Count a failed login against the account; lock it at the threshold. Commits."""
    settings = state.settings
    async with unit_of_work(session):
        now = current_clock().now()
        # Serialize attempts on one account so parallel guesses are all counted.
        await session.execute(
            select(User.id).where(User.id == user.id).with_for_update()
            .execution_options(all_practices=True)
        )
        session.add(LoginFailure(id=new_id("lgf"), practice_id=user.practice_id,
                                 user_id=user.id, occurred_at=now))
        await session.flush()
        window_start = now - timedelta(seconds=settings.lockout_window_seconds)
        failures = await session.scalar(
            select(func.count()).select_from(LoginFailure)
            .where(LoginFailure.user_id == user.id, LoginFailure.occurred_at > window_start)
            .execution_options(all_practices=True)
        )
        locked = int(failures or 0) >= settings.lockout_threshold
        if locked:
            locked_until = now + timedelta(seconds=settings.lockout_duration_seconds)
            await session.execute(
                update(User).where(User.id == user.id).values(locked_until=locked_until)
                .execution_options(all_practices=True)
            )
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
    now = current_clock().now()
    row = (await session.execute(
        select(User, Practice).join(Practice, Practice.id == User.practice_id)
        .where(User.email == email.strip().lower())
    )).first()
    user, practice = (row[0], row[1]) if row else (None, None)
    # End the read before the slow part: a burst of logins must not hold pool connections
    # (idle in transaction) while argon2 runs. Commit, not rollback, keeps `user` loaded.
    await session.commit()

    if user is not None and user.locked_until is not None and as_utc(user.locked_until) > now:
        retry = int((as_utc(user.locked_until) - now).total_seconds()) + 1
        raise AccountLocked(headers={"Retry-After": str(retry)})

    password_ok = await state.passwords.verify(user.password_hash if user else None, password)
    if user is None or practice is None or not user.is_active or not password_ok:
        if user is not None:
            await _record_failure(session, state, user, "password")
        raise InvalidCredentials()

    if not _practice_allows(practice):
        raise IpNotAllowed()

    if user.mfa_secret_sealed is not None:
        if not mfa_code:
            raise MfaRequired()
        secret = state.secret_box.open(user.mfa_secret_sealed)
        step = match_totp(secret, mfa_code, now)
        accepted = False
        if step is not None:
            async with unit_of_work(session):
                # Atomic compare-and-set: a code (and any older one) is accepted once only.
                result = await session.execute(
                    update(User)
                    .where(User.id == user.id,
                           (User.totp_last_step.is_(None)) | (User.totp_last_step < step))
                    .values(totp_last_step=step)
                    .execution_options(all_practices=True, synchronize_session=False)
                )
                accepted = getattr(result, "rowcount", 0) == 1
        if not accepted:
            await _record_failure(session, state, user, "mfa")
            raise MfaInvalid()

    async with unit_of_work(session):
        await session.execute(
            delete(LoginFailure).where(LoginFailure.user_id == user.id)
            .execution_options(all_practices=True)
        )
        if user.locked_until is not None:
            user.locked_until = None
        if state.passwords.needs_rehash(user.password_hash):
            user.password_hash = await state.passwords.hash(password)
        issued = await _start_session(session, state, user, now)
        await audit_service.record(
            session, None, "auth.login", practice_id=user.practice_id, actor_id=user.id,
            actor_role=user.role, resource_type="user", resource_id=user.id,
        )
    return issued


async def refresh(session: AsyncSession, state: AppState, *, refresh_token: str) -> IssuedTokens:
    now = current_clock().now()
    try:
        claims = state.tokens.decode(refresh_token, expected_type="refresh", now=now)
    except TokenError as exc:
        raise Unauthorized("Invalid or expired refresh token") from exc

    reused_session: str | None = None
    async with unit_of_work(session):
        row = (await session.execute(
            select(RefreshToken, AuthSession, User)
            .join(AuthSession, AuthSession.id == RefreshToken.session_id)
            .join(User, User.id == AuthSession.user_id)
            .where(RefreshToken.id == claims["jti"], AuthSession.id == claims["sid"])
            .with_for_update(of=RefreshToken)
        )).first()
        if row is None:
            raise Unauthorized("Invalid or expired refresh token")
        token, auth_session, user = row
        if auth_session.revoked_at is not None or not user.is_active:
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


async def authenticate(session: AsyncSession, state: AppState, token: str) -> Actor:
    """The actor behind an access token, or UNAUTHORIZED. Reads the session row every time so
    that a logout or a deactivated account takes effect at once on every process."""
    now = current_clock().now()
    try:
        claims = state.tokens.decode(token, expected_type="access", now=now)
    except TokenError as exc:
        raise Unauthorized("Invalid or expired access token") from exc
    session_id = claims.get("sid")
    if not isinstance(session_id, str) or await revocation.is_announced(state, session_id):
        raise Unauthorized("Invalid or expired access token")
    row = (await session.execute(
        select(User, AuthSession.revoked_at, AuthSession.expires_at, Practice.ip_allowlist)
        .join(AuthSession, AuthSession.user_id == User.id)
        .join(Practice, Practice.id == User.practice_id)
        .where(User.id == claims["sub"], AuthSession.id == session_id,
               User.practice_id == claims.get("prc"))
    )).first()
    if row is None:
        raise Unauthorized("Invalid or expired access token")
    user, revoked_at, expires_at, allowlist = row
    if revoked_at is not None or as_utc(expires_at) <= now or not user.is_active:
        raise Unauthorized("Invalid or expired access token")
    if allowlist and not cidrs_allow(allowlist, client_ip_var.get() or ""):
        raise IpNotAllowed()
    return Actor(user=user, session_id=session_id)
