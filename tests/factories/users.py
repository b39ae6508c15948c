from __future__ import annotations

import secrets
from typing import Any

import httpx
from fastapi import FastAPI

from dermifi.auth.permissions import Role
from dermifi.core.security import totp_code
from dermifi.core.state import AppState
from dermifi.users import service as user_service
from dermifi.users.service import NewUser
from tests.support import TEST_PASSWORD


async def make_user(state: AppState, *, practice_id: str, role: Role = Role.PROVIDER,
                    email: str | None = None, password: str = TEST_PASSWORD, mfa: bool = False,
                    first_name: str | None = "Emily", last_name: str | None = "Johnson",
                    ) -> NewUser:
    async with state.sessionmaker() as session:
        return await user_service.create_user(
            session, state, None, practice_id=practice_id,
            email=email or f"{role.value}-{secrets.token_hex(4)}@clinic.example.org",
            password=password, role=role, first_name=first_name, last_name=last_name, mfa=mfa,
        )


class RoleClient(httpx.AsyncClient):
    """An API client logged in as one user; keeps the user and its tokens at hand."""

    user_id: str
    email: str
    role: Role
    practice_id: str
    access_token: str
    refresh_token: str
    totp_secret: str | None


async def login_client(app: FastAPI, state: AppState, created: NewUser,
                       password: str = TEST_PASSWORD, **client_kwargs: Any) -> RoleClient:
    from tests.conftest import TEST_CLIENT_ADDRESS

    transport = httpx.ASGITransport(app=app, client=(TEST_CLIENT_ADDRESS, 40000))
    client = RoleClient(transport=transport, base_url="http://testserver", **client_kwargs)
    body: dict[str, str] = {"email": created.user.email, "password": password}
    if created.totp_secret:
        body["mfaCode"] = totp_code(created.totp_secret, state.clock.now())
    response = await client.post("/v1/auth/login", json=body)
    assert response.status_code == 200, response.text
    tokens = response.json()
    client.headers["Authorization"] = f"Bearer {tokens['accessToken']}"
    client.user_id = created.user.id
    client.email = created.user.email
    client.role = Role(created.user.role)
    client.practice_id = created.user.practice_id
    client.access_token = tokens["accessToken"]
    client.refresh_token = tokens["refreshToken"]
    client.totp_secret = created.totp_secret
    return client
