"""HEAD answers what GET would, without the body, on every GET route (RFC 9110 9.3.2)."""

from __future__ import annotations

import httpx

from tests.factories.patients import patient_payload
from tests.factories.users import RoleClient


async def test_head_on_a_probe(anon_client: httpx.AsyncClient) -> None:
    get = await anon_client.get("/healthz")
    head = await anon_client.head("/healthz")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == get.headers["content-length"]
    assert head.headers["content-type"] == "application/json"


async def test_head_on_a_chart_carries_its_etag(front_desk_client: RoleClient) -> None:
    created = await front_desk_client.post("/v1/patients", json=patient_payload())
    url = f"/v1/patients/{created.json()['id']}"
    get = await front_desk_client.get(url)
    head = await front_desk_client.head(url)
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["ETag"] == get.headers["ETag"]
    assert head.headers["cache-control"] == "no-store"


async def test_head_keeps_the_errors_of_get(anon_client: httpx.AsyncClient,
                                            admin_client: RoleClient) -> None:
    assert (await anon_client.head("/v1/patients")).status_code == 401
    assert (await admin_client.head("/v1/patients/pat_nope")).status_code == 404
    # A path with no GET still answers 405, naming what it allows.
    refused = await admin_client.head("/v1/auth/login")
    assert refused.status_code == 405
    assert "HEAD" not in refused.headers["Allow"]
    assert "POST" in refused.headers["Allow"]
