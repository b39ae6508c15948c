"""Access and refresh tokens: rotation, reuse detection, logout, and every way a token fails."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import httpx
import jwt
import pytest
from sqlalchemy import select

from dermifi.auth.models import AuthSession
from dermifi.core.clock import FrozenClock
from dermifi.core.security import Tokens
from dermifi.core.state import AppState
from tests.auth.test_login import assert_error
from tests.factories.users import RoleClient
from tests.support import TEST_SECRET_KEY


async def me(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.get("/v1/users/me", headers={"Authorization": f"Bearer {token}"})


class TestRefresh:
    async def test_rotation_returns_new_tokens(
        self, provider_client: RoleClient, anon_client: httpx.AsyncClient,
    ) -> None:
        response = await anon_client.post("/v1/auth/refresh",
                                          json={"refreshToken": provider_client.refresh_token})
        assert response.status_code == 200
        body = response.json()
        assert set(body) == {"accessToken", "refreshToken", "tokenType", "expiresIn"}
        assert body["tokenType"] == "Bearer"
        assert body["expiresIn"] == 3600
        assert body["refreshToken"] != provider_client.refresh_token
        assert (await me(anon_client, body["accessToken"])).status_code == 200
        # The new refresh token works in turn.
        again = await anon_client.post("/v1/auth/refresh",
                                       json={"refreshToken": body["refreshToken"]})
        assert again.status_code == 200

    async def test_reusing_a_rotated_token_revokes_the_family(
        self, provider_client: RoleClient, anon_client: httpx.AsyncClient,
    ) -> None:
        old = provider_client.refresh_token
        first = await anon_client.post("/v1/auth/refresh", json={"refreshToken": old})
        assert first.status_code == 200
        rotated = first.json()
        reuse = await anon_client.post("/v1/auth/refresh", json={"refreshToken": old})
        assert_error(reuse, 401, "UNAUTHORIZED")
        # Every token of the family is dead: the rotated refresh token, and access tokens.
        later = await anon_client.post("/v1/auth/refresh",
                                       json={"refreshToken": rotated["refreshToken"]})
        assert_error(later, 401, "UNAUTHORIZED")
        assert_error(await me(anon_client, rotated["accessToken"]), 401, "UNAUTHORIZED")
        assert_error(await me(anon_client, provider_client.access_token), 401, "UNAUTHORIZED")

    async def test_reuse_does_not_touch_other_sessions(
        self, provider_client: RoleClient, anon_client: httpx.AsyncClient,
        state: AppState,
    ) -> None:
        # A second login of the same user is another family.
        async with state.sessionmaker() as session:
            sessions_before = (await session.scalars(
                select(AuthSession).where(AuthSession.user_id == provider_client.user_id)
            )).all()
        assert len(sessions_before) == 1
        old = provider_client.refresh_token
        await anon_client.post("/v1/auth/refresh", json={"refreshToken": old})
        await anon_client.post("/v1/auth/refresh", json={"refreshToken": old})
        async with state.sessionmaker() as session:
            revoked = await session.get(AuthSession, sessions_before[0].id)
            assert revoked is not None
            assert revoked.revoke_reason == "refresh_reuse"

    async def test_access_token_is_not_a_refresh_token(
        self, provider_client: RoleClient, anon_client: httpx.AsyncClient,
    ) -> None:
        response = await anon_client.post("/v1/auth/refresh",
                                          json={"refreshToken": provider_client.access_token})
        assert_error(response, 401, "UNAUTHORIZED")

    async def test_expired_refresh_token_is_refused(
        self, provider_client: RoleClient, anon_client: httpx.AsyncClient, clock: FrozenClock,
    ) -> None:
        clock.advance(days=15)
        response = await anon_client.post("/v1/auth/refresh",
                                          json={"refreshToken": provider_client.refresh_token})
        assert_error(response, 401, "UNAUTHORIZED")

    async def test_garbage_is_refused(self, anon_client: httpx.AsyncClient) -> None:
        response = await anon_client.post("/v1/auth/refresh", json={"refreshToken": "abc.def"})
        assert_error(response, 401, "UNAUTHORIZED")


class TestLogout:
    async def test_logout_revokes_access_and_refresh_at_once(
        self, provider_client: RoleClient, anon_client: httpx.AsyncClient,
    ) -> None:
        response = await provider_client.post("/v1/auth/logout")
        assert response.status_code == 204
        assert response.content == b""
        assert_error(await me(anon_client, provider_client.access_token), 401, "UNAUTHORIZED")
        refresh = await anon_client.post("/v1/auth/refresh",
                                         json={"refreshToken": provider_client.refresh_token})
        assert_error(refresh, 401, "UNAUTHORIZED")

    async def test_logout_needs_a_token(self, anon_client: httpx.AsyncClient) -> None:
        assert_error(await anon_client.post("/v1/auth/logout"), 401, "UNAUTHORIZED")

    async def test_logout_leaves_other_sessions_alone(
        self, provider_client: RoleClient, nurse_client: RoleClient,
    ) -> None:
        assert (await provider_client.post("/v1/auth/logout")).status_code == 204
        assert (await nurse_client.get("/v1/users/me")).status_code == 200

    async def test_logout_is_published_to_redis(
        self, app: object, state: AppState, provider_client: RoleClient, redis_url: str,
    ) -> None:
        import redis.asyncio as aioredis

        state.redis = aioredis.Redis.from_url(redis_url)
        try:
            assert (await provider_client.post("/v1/auth/logout")).status_code == 204
            claims = jwt.decode(provider_client.access_token, options={"verify_signature": False})
            assert await state.redis.exists(f"dermifi:revoked-session:{claims['sid']}") == 1
            ttl = await state.redis.ttl(f"dermifi:revoked-session:{claims['sid']}")
            assert 0 < ttl <= state.settings.access_token_ttl_seconds
        finally:
            await state.redis.aclose()
            state.redis = None


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


class TestRejectedAccessTokens:
    """Each of these is 401 UNAUTHORIZED, whatever else the token claims."""

    def _claims(self, client: RoleClient) -> dict[str, object]:
        return dict(jwt.decode(client.access_token, options={"verify_signature": False}))

    async def test_alg_none(self, provider_client: RoleClient,
                            anon_client: httpx.AsyncClient) -> None:
        token = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(self._claims(provider_client))}."
        assert_error(await me(anon_client, token), 401, "UNAUTHORIZED")

    async def test_wrong_key(self, provider_client: RoleClient,
                             anon_client: httpx.AsyncClient) -> None:
        forged = Tokens(secret_key="another-secret-key-entirely-0123456789abcdef",
                        issuer="dermifi", audience="dermifi-api")
        claims = self._claims(provider_client)
        token = forged.encode({k: v for k, v in claims.items() if k not in ("iss", "aud")})
        assert_error(await me(anon_client, token), 401, "UNAUTHORIZED")

    @pytest.mark.parametrize(("issuer", "audience"), [("someone-else", "dermifi-api"),
                                                      ("dermifi", "another-api")])
    async def test_wrong_issuer_or_audience(
        self, provider_client: RoleClient, anon_client: httpx.AsyncClient,
        issuer: str, audience: str,
    ) -> None:
        signer = Tokens(secret_key=TEST_SECRET_KEY, issuer=issuer, audience=audience)
        claims = self._claims(provider_client)
        token = signer.encode({k: v for k, v in claims.items() if k not in ("iss", "aud")})
        assert_error(await me(anon_client, token), 401, "UNAUTHORIZED")

    async def test_correctly_signed_token_is_accepted(
        self, provider_client: RoleClient, anon_client: httpx.AsyncClient,
    ) -> None:
        # The control for the two tests above: same claims, right key, issuer and audience.
        signer = Tokens(secret_key=TEST_SECRET_KEY, issuer="dermifi", audience="dermifi-api")
        claims = self._claims(provider_client)
        token = signer.encode({k: v for k, v in claims.items() if k not in ("iss", "aud")})
        assert (await me(anon_client, token)).status_code == 200

    async def test_refresh_token_used_as_access(
        self, provider_client: RoleClient, anon_client: httpx.AsyncClient,
    ) -> None:
        assert_error(await me(anon_client, provider_client.refresh_token), 401, "UNAUTHORIZED")

    async def test_expired(self, provider_client: RoleClient, anon_client: httpx.AsyncClient,
                           clock: FrozenClock) -> None:
        clock.advance(seconds=3599)
        assert (await me(anon_client, provider_client.access_token)).status_code == 200
        clock.advance(seconds=1)
        assert_error(await me(anon_client, provider_client.access_token), 401, "UNAUTHORIZED")

    async def test_revoked(self, provider_client: RoleClient, anon_client: httpx.AsyncClient,
                           state: AppState) -> None:
        claims = self._claims(provider_client)
        async with state.sessionmaker() as session:
            auth_session = await session.get(AuthSession, claims["sid"])
            assert auth_session is not None
            auth_session.revoked_at = state.clock.now()
            await session.commit()
        assert_error(await me(anon_client, provider_client.access_token), 401, "UNAUTHORIZED")

    @pytest.mark.parametrize("header", ["", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz",
                                        "Bearer not-a-jwt", "Bearer a.b.c"])
    async def test_malformed(self, anon_client: httpx.AsyncClient, header: str) -> None:
        response = await anon_client.get("/v1/users/me", headers={"Authorization": header})
        assert_error(response, 401, "UNAUTHORIZED")

    async def test_missing(self, anon_client: httpx.AsyncClient) -> None:
        response = await anon_client.get("/v1/users/me")
        assert_error(response, 401, "UNAUTHORIZED")
        assert response.headers["WWW-Authenticate"] == "Bearer"

    async def test_deactivated_user(self, provider_client: RoleClient,
                                    state: AppState) -> None:
        from dermifi.users.models import User

        async with state.sessionmaker() as session:
            user = await session.get(User, provider_client.user_id)
            assert user is not None
            user.is_active = False
            await session.commit()
        assert_error(await provider_client.get("/v1/users/me"), 401, "UNAUTHORIZED")

    async def test_access_ttl_is_a_setting(self, state: AppState) -> None:
        assert state.settings.access_token_ttl_seconds == 3600
        assert timedelta(seconds=state.settings.refresh_token_ttl_seconds) == timedelta(days=14)
