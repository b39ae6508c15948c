from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dermifi.audit import service as audit_service
from dermifi.auth.actor import Actor
from dermifi.auth.passwords import password_problems
from dermifi.auth.permissions import Role
from dermifi.core.context import current_clock
from dermifi.core.db import unit_of_work
from dermifi.core.errors import Conflict, ValidationFailed
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
