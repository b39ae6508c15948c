from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import BindParameter, Select, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dermifi.audit import service as audit_service
from dermifi.auth.actor import Actor
from dermifi.auth.passwords import password_problems
from dermifi.auth.permissions import Role
from dermifi.core.context import current_clock
from dermifi.core.db import unit_of_work
from dermifi.core.errors import Conflict, NotFound, ValidationFailed
from dermifi.core.fields import normalize_email
from dermifi.core.ids import new_id
from dermifi.core.pagination import PageRequest, Pagination, paginate
from dermifi.core.security import new_totp_secret, totp_uri
from dermifi.core.state import AppState
from dermifi.users.models import User


@dataclass(frozen=True)
class NewUser:
    user: User
    totp_secret: str | None
    otpauth_uri: str | None


async def create_user(
    session: AsyncSession,
    state: AppState,
    actor: Actor | None,
    *,
    practice_id: str,
    email: str,
    password: str,
    role: Role,
    first_name: str | None = None,
    last_name: str | None = None,
    mfa: bool = False,
) -> NewUser:
    email = normalize_email(email)
    problems = password_problems(password, related=[email, first_name or "", last_name or ""])
    if problems:
        raise ValidationFailed(details=[{"field": "password", "message": p} for p in problems])
    password_hash = await state.passwords.hash(password)
    secret = new_totp_secret() if mfa else None
    now = current_clock().now()
    async with unit_of_work(session):
        taken = await session.scalar(
            select(User.id).where(User.email == email).execution_options(all_practices=True))
        if taken:
            raise Conflict("A user with this email already exists",
                           details=[{"field": "email", "message": "Already in use"}])
        user = User(
            id=new_id("usr"), practice_id=practice_id, email=email, password_hash=password_hash,
            role=role.value, first_name=first_name, last_name=last_name, is_active=True,
            mfa_secret_sealed=state.secret_box.seal(secret) if secret else None,
            created_at=now, updated_at=now,
        )
        session.add(user)
        await session.flush()
        await audit_service.record(
            session, actor, "user.create", practice_id=practice_id, resource_type="user",
            resource_id=user.id, details={"role": role.value, "mfa": mfa},
        )
    return NewUser(user, secret, totp_uri(secret, account=email) if secret else None)


async def list_users(session: AsyncSession, actor: Actor, *, page: PageRequest,
                     role: Role | None = None) -> tuple[Sequence[User], Pagination]:
    stmt = select(User)
    if role is not None:
        stmt = stmt.where(User.role == role.value)
    stmt = stmt.order_by(User.created_at, User.id)
    async with unit_of_work(session):
        users, pagination = await paginate(session, stmt, page)
        await audit_service.record(session, actor, "user.list", resource_type="user",
                                   details={"returned": len(users)})
    return users, pagination


async def get_user(session: AsyncSession, user_id: str) -> User:
    """A user of the caller's practice (the session's scope), or NOT_FOUND."""
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound("No such user")
    return user


async def role_of(session: AsyncSession, user_id: str) -> str | None:
    """The role of a user of the caller's practice, or None when there is no such user."""
    return await session.scalar(select(User.role).where(User.id == user_id))


# --- for sign-in (auth): the account rows, read and changed only here ----------------------
# Sign-in runs before the request has a practice: every statement names the account by id or
# email, across practices.

async def find_by_email(session: AsyncSession, email: str) -> User | None:
    return (await session.scalars(select(User).where(User.email == normalize_email(email))
                                  .execution_options(all_practices=True))).one_or_none()


async def get_account(session: AsyncSession, user_id: str) -> User | None:
    return (await session.scalars(select(User).where(User.id == user_id)
                                  .execution_options(all_practices=True))).one_or_none()


def account_statement(user_id: str | BindParameter[str]) -> Select[str, str, str, bool]:
    """The account's id, practice, role and state, as a statement another identity query can
    join (authentication reads it with the login session in one round trip)."""
    return (select(User.id, User.practice_id, User.role, User.is_active)
            .where(User.id == user_id))


async def lock_for_sign_in(session: AsyncSession, user_id: str) -> datetime | None:
    """Take the account's row lock (SQLite: the write lock the unit of work holds) and read
    its lock time afresh: every attempt on one account is decided one at a time."""
    locked_until: datetime | None = await session.scalar(
        select(User.locked_until).where(User.id == user_id).with_for_update()
        .execution_options(all_practices=True, populate_existing=True))
    return locked_until


async def lock_until(session: AsyncSession, user_id: str, until: datetime | None) -> None:
    await session.execute(update(User).where(User.id == user_id).values(locked_until=until)
                          .execution_options(all_practices=True, synchronize_session=False))


async def signed_in(session: AsyncSession, user: User, *, new_password_hash: str | None
                    ) -> None:
    """A successful sign-in: the lock is lifted, an outdated hash replaced."""
    user.locked_until = None
    if new_password_hash is not None:
        user.password_hash = new_password_hash


async def claim_totp_step(session: AsyncSession, user_id: str, step: int) -> bool:
    """Atomic compare-and-set: a TOTP code (and any older one) is accepted once only."""
    result = await session.execute(
        update(User)
        .where(User.id == user_id,
               (User.totp_last_step.is_(None)) | (User.totp_last_step < step))
        .values(totp_last_step=step)
        .execution_options(all_practices=True, synchronize_session=False)
    )
    return getattr(result, "rowcount", 0) == 1


async def display_names(session: AsyncSession, user_ids: set[str]) -> dict[str, str]:
    """How people are named in charts: "Dr. Emily Johnson" for providers."""
    if not user_ids:
        return {}
    rows = await session.execute(
        select(User.id, User.first_name, User.last_name, User.role, User.email)
        .where(User.id.in_(user_ids)))
    names = {}
    for user_id, first, last, role, email in rows:
        name = " ".join(p for p in (first, last) if p) or email
        names[user_id] = f"Dr. {name}" if role == Role.PROVIDER.value and (first or last) else name
    return names
