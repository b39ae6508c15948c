"""Rate limits and IP allowlists (contract: Rate limits, IP allowlist, Practices)."""

from __future__ import annotations

import time

import httpx
import pytest
from fastapi import FastAPI

from dermifi.core.network import client_address
from dermifi.core.state import AppState
from dermifi.practices import service as practice_service
from tests.auth.test_login import assert_error
from tests.conftest import make_client
from tests.factories.practices import make_practice
from tests.factories.users import RoleClient, login_client, make_user


class TestRateLimitHeaders:
    @pytest.mark.parametrize("settings_overrides", [{"rate_limit": "1000/hour"}])
    async def test_on_every_response(self, anon_client: httpx.AsyncClient,
                                     admin_client: RoleClient) -> None:
        for response in (await anon_client.get("/healthz"),
                         await anon_client.get("/v1/nope"),
                         await anon_client.get("/v1/users/me"),
                         await admin_client.get("/v1/users/me")):
            assert response.headers["X-RateLimit-Limit"] == "1000"
            remaining = int(response.headers["X-RateLimit-Remaining"])
            assert 0 <= remaining <= 1000
            assert int(response.headers["X-RateLimit-Reset"]) >= int(time.time())

    @pytest.mark.parametrize("settings_overrides", [{"rate_limit": "3/minute"}])
    async def test_429_with_retry_after(self, anon_client: httpx.AsyncClient) -> None:
        remaining = [int((await anon_client.get("/v1/users/me")).headers["X-RateLimit-Remaining"])
                     for _ in range(3)]
        assert remaining == [2, 1, 0]
        response = await anon_client.get("/v1/users/me")
        assert_error(response, 429, "RATE_LIMITED")
        assert 1 <= int(response.headers["Retry-After"]) <= 60
        assert response.headers["X-RateLimit-Remaining"] == "0"

    @pytest.mark.parametrize("settings_overrides", [{"rate_limit": "3/minute"}])
    async def test_per_client_address(self, app: FastAPI) -> None:
        async with make_client(app, "198.51.100.1") as first, \
                make_client(app, "198.51.100.2") as second:
            for _ in range(3):
                await first.get("/v1/users/me")
            assert (await first.get("/v1/users/me")).status_code == 429
            assert (await second.get("/v1/users/me")).status_code == 401

    @pytest.mark.parametrize("settings_overrides", [{"rate_limit": "4/minute"}])
    async def test_per_user_when_authenticated(self, app: FastAPI, state: AppState,
                                               practice: object) -> None:
        # Two users behind one address (a clinic's NAT) each get their own budget.
        users = [await make_user(state, practice_id=practice.id) for _ in range(2)]  # type: ignore[attr-defined]
        a = await login_client(app, state, users[0])
        b = await login_client(app, state, users[1])
        for _ in range(4):
            await a.get("/v1/users/me")
        assert_error(await a.get("/v1/users/me"), 429, "RATE_LIMITED")
        assert (await b.get("/v1/users/me")).status_code == 200
        await a.aclose()
        await b.aclose()

    @pytest.mark.parametrize("settings_overrides", [{"login_rate_limit": "2/minute"}])
    async def test_login_has_its_own_stricter_limit(self, anon_client: httpx.AsyncClient
                                                    ) -> None:
        body = {"email": "x@clinic.example.org", "password": "whatever-password"}
        first = await anon_client.post("/v1/auth/login", json=body)
        assert first.headers["X-RateLimit-Limit"] == "2"
        await anon_client.post("/v1/auth/login", json=body)
        assert_error(await anon_client.post("/v1/auth/login", json=body), 429, "RATE_LIMITED")
        # Other endpoints are not affected by the login budget.
        assert (await anon_client.get("/v1/users/me")).status_code == 401

    @pytest.mark.parametrize("settings_overrides", [{"rate_limit": "2/minute"}])
    async def test_probes_report_but_never_spend_the_budget(
        self, anon_client: httpx.AsyncClient,
    ) -> None:
        for _ in range(5):
            response = await anon_client.get("/healthz")
            assert response.status_code == 200
            assert response.headers["X-RateLimit-Remaining"] == "2"
        await anon_client.get("/v1/users/me")
        assert (await anon_client.get("/readyz")).headers["X-RateLimit-Remaining"] == "1"

    @pytest.mark.parametrize("settings_overrides", [{"rate_limit": "3/minute"}])
    async def test_redis_store_is_shared_between_apps(
        self, settings: object, clock: object, redis_url: str,
    ) -> None:
        from dermifi.main import create_app

        apps = [create_app(settings.model_copy(update={"redis_url": redis_url}),  # type: ignore[attr-defined]
                           clock=clock) for _ in range(2)]  # type: ignore[arg-type]
        try:
            async with make_client(apps[0]) as a, make_client(apps[1]) as b:
                assert (await a.get("/v1/users/me")).status_code == 401
                assert (await b.get("/v1/users/me")).status_code == 401
                assert (await a.get("/v1/users/me")).headers["X-RateLimit-Remaining"] == "0"
                assert_error(await b.get("/v1/users/me"), 429, "RATE_LIMITED")
        finally:
            for app in apps:
                await app.state.dermifi.engine.dispose()
                await app.state.dermifi.redis.aclose()


class TestClientAddress:
    def test_peer_when_no_proxy_is_trusted(self) -> None:
        assert client_address("203.0.113.5", "10.0.0.1", []) == "203.0.113.5"

    def test_forwarded_for_from_a_trusted_proxy(self) -> None:
        import ipaddress

        trusted = [ipaddress.ip_network("10.0.0.0/8")]
        assert client_address("10.0.0.2", "198.51.100.9", trusted) == "198.51.100.9"
        # The client may prepend anything; only the hop the proxy appended counts.
        assert client_address("10.0.0.2", "1.2.3.4, 198.51.100.9", trusted) == "198.51.100.9"
        # Proxies chained inside the trusted range are skipped.
        assert client_address("10.0.0.2", "198.51.100.9, 10.0.0.3", trusted) == "198.51.100.9"
        # Garbage in the chain stops the walk at the proxy.
        assert client_address("10.0.0.2", "not-an-ip", trusted) == "10.0.0.2"

    def test_forwarded_for_from_an_untrusted_peer_is_ignored(self) -> None:
        import ipaddress

        trusted = [ipaddress.ip_network("10.0.0.0/8")]
        assert client_address("203.0.113.5", "198.51.100.9", trusted) == "203.0.113.5"


class TestAllowlist:
    @pytest.mark.parametrize("settings_overrides", [{"ip_allowlist": "198.51.100.0/24"}])
    async def test_global_allowlist(self, app: FastAPI) -> None:
        async with make_client(app, "198.51.100.20") as inside, \
                make_client(app, "203.0.113.20") as outside:
            assert (await inside.get("/v1/users/me")).status_code == 401
            response = await outside.get("/v1/users/me")
            assert_error(response, 403, "IP_NOT_ALLOWED")
            assert "X-RateLimit-Limit" in response.headers
            assert_error(await outside.post("/v1/auth/login", json={}), 403, "IP_NOT_ALLOWED")
            # Probes stay reachable for load balancers.
            assert (await outside.get("/healthz")).status_code == 200

    @pytest.mark.parametrize("settings_overrides", [{"ip_allowlist": "198.51.100.0/24",
                                                     "trusted_proxies": "10.0.0.0/8"}])
    async def test_forwarded_for_counts_only_from_trusted_proxies(self, app: FastAPI) -> None:
        async with make_client(app, "10.1.2.3") as via_proxy, \
                make_client(app, "203.0.113.20") as direct:
            ok = await via_proxy.get("/v1/users/me", headers={"X-Forwarded-For": "198.51.100.7"})
            assert ok.status_code == 401
            spoofed = await direct.get("/v1/users/me",
                                       headers={"X-Forwarded-For": "198.51.100.7"})
            assert_error(spoofed, 403, "IP_NOT_ALLOWED")

    async def test_practice_allowlist(self, app: FastAPI, state: AppState) -> None:
        guarded = await make_practice(state, name="Guarded Clinic")
        created = await make_user(state, practice_id=guarded.id)
        client = await login_client(app, state, created)
        assert (await client.get("/v1/users/me")).status_code == 200
        async with state.sessionmaker() as session:
            from dermifi.practices.models import Practice

            loaded = await session.get(Practice, guarded.id)
            assert loaded is not None
            await practice_service.set_ip_allowlist(session, loaded, ["192.0.2.0/24"])
        # The practice's list binds its users at once, tokens already issued included.
        assert_error(await client.get("/v1/users/me"), 403, "IP_NOT_ALLOWED")
        async with make_client(app, "192.0.2.50", Authorization=f"Bearer {client.access_token}"
                               ) as inside:
            assert (await inside.get("/v1/users/me")).status_code == 200
        # And their logins: right password from outside is refused.
        async with make_client(app, "203.0.113.99") as outside:
            response = await outside.post("/v1/auth/login", json={
                "email": created.user.email, "password": "saffron-lantern-quietly-47"})
            assert_error(response, 403, "IP_NOT_ALLOWED")
        await client.aclose()

    async def test_other_practices_are_not_bound(self, app: FastAPI, state: AppState,
                                                 admin_client: RoleClient) -> None:
        await make_practice(state, name="Strict Clinic", ip_allowlist=["192.0.2.0/24"])
        assert (await admin_client.get("/v1/users/me")).status_code == 200
