"""The bench routes, mounted only when DERMIFI_ENABLE_BENCH_ROUTES is set: the bare no-op is
open, the authenticated one authenticates like every API route."""

from __future__ import annotations

from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import httpx
import pytest

from dermifi.main import create_app
from tests.auth.test_login import assert_error
from tests.conftest import RoleClient, make_client
from tests.support import create_sqlite_database, test_settings


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"enable_bench_routes": True}


async def test_the_bare_no_op_answers_anyone(anon_client: httpx.AsyncClient) -> None:
    response = await anon_client.get("/_bench/noop")
    assert (response.status_code, response.json()) == (200, {})


async def test_the_authenticated_no_op_refuses_without_a_token(
        anon_client: httpx.AsyncClient) -> None:
    assert_error(await anon_client.get("/_bench/noop-auth"), 401, "UNAUTHORIZED")


async def test_the_authenticated_no_op_answers_a_logged_in_user(
        provider_client: RoleClient) -> None:
    response = await provider_client.get("/_bench/noop-auth")
    assert (response.status_code, response.json()) == (200, {})


async def test_not_mounted_unless_enabled() -> None:
    with TemporaryDirectory() as directory:
        backend = create_sqlite_database(Path(directory))
        app = create_app(test_settings(backend, Path(directory)))
        async with make_client(app) as client:
            for path in ("/_bench/noop", "/_bench/noop-auth"):
                assert (await client.get(path)).status_code == 404
        await app.state.dermifi.engine.dispose()
