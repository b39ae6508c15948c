"""Every failure answers with the contract's envelope (contract, section Errors)."""

from __future__ import annotations

import logging

import httpx
import pytest
from fastapi import FastAPI

from tests.auth.test_login import assert_error
from tests.factories.users import RoleClient


def assert_envelope(response: httpx.Response) -> dict[str, object]:
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"code", "message", "details", "requestId", "timestamp"}
    assert isinstance(error["details"], list)
    assert error["requestId"] == response.headers["X-Request-Id"]
    assert error["timestamp"].endswith("Z")
    assert len(error["timestamp"]) == 20
    assert response.headers["content-type"] == "application/json"
    return dict(error)


async def test_unknown_route(anon_client: httpx.AsyncClient) -> None:
    response = await anon_client.get("/v1/no-such-thing")
    assert_error(response, 404, "NOT_FOUND")
    assert assert_envelope(response)["details"] == []


async def test_wrong_method(anon_client: httpx.AsyncClient) -> None:
    response = await anon_client.delete("/v1/auth/login")
    assert_error(response, 405, "METHOD_NOT_ALLOWED")
    assert_envelope(response)
    assert response.headers["Allow"] == "POST"


async def test_malformed_json(anon_client: httpx.AsyncClient) -> None:
    response = await anon_client.post("/v1/auth/login", content=b'{"email": ',
                                      headers={"Content-Type": "application/json"})
    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert error["details"] == [{"field": "body", "message": "Malformed JSON"}]
    assert_envelope(response)


async def test_wrong_content_type(anon_client: httpx.AsyncClient) -> None:
    response = await anon_client.post("/v1/auth/login", content=b"email=a&password=b",
                                      headers={"Content-Type": "application/x-www-form-urlencoded"})
    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert "application/json" in str(error["message"])
    assert_envelope(response)


async def test_missing_body(anon_client: httpx.AsyncClient) -> None:
    response = await anon_client.post("/v1/auth/login")
    assert_error(response, 400, "VALIDATION_ERROR")
    assert_envelope(response)


async def test_validation_names_dotted_fields_and_every_problem(
    admin_client: RoleClient,
) -> None:
    response = await admin_client.post("/v1/users", json={
        "email": 5, "password": "short", "role": "nope", "mfa": "sometimes", "extra": True})
    error = assert_error(response, 400, "VALIDATION_ERROR")
    fields = sorted(d["field"] for d in error["details"])  # type: ignore[union-attr]
    assert fields == ["email", "extra", "mfa", "password", "role"]
    assert_envelope(response)


async def test_nested_fields_are_dotted(anon_client: httpx.AsyncClient) -> None:
    from dermifi.core.errors import field_path

    assert field_path(("body", "address", "zipCode")) == "address.zipCode"
    assert field_path(("body", "items", 0, "name")) == "items.0.name"
    assert field_path(("query", "limit")) == "limit"


async def test_payload_too_large(anon_client: httpx.AsyncClient) -> None:
    response = await anon_client.post("/v1/auth/login", content=b"{" + b" " * (1024 * 1024 + 10),
                                      headers={"Content-Type": "application/json"})
    assert_error(response, 413, "PAYLOAD_TOO_LARGE")
    assert_envelope(response)


async def test_payload_too_large_without_content_length(app: FastAPI) -> None:
    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(20):
            yield b" " * 65536

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await client.post("/v1/auth/login", content=chunks(),
                                     headers={"Content-Type": "application/json"})
    assert_error(response, 413, "PAYLOAD_TOO_LARGE")


async def test_unexpected_exception_is_a_bare_500_logged_with_request_id(
    app: FastAPI, anon_client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture,
) -> None:
    async def explode() -> None:
        raise RuntimeError("SELECT secret FROM patients WHERE name='Jane Doe'")

    app.add_api_route("/v1/_explode", explode)
    with caplog.at_level(logging.ERROR):
        response = await anon_client.get("/v1/_explode")
    error = assert_error(response, 500, "INTERNAL_ERROR")
    assert_envelope(response)
    assert "SELECT" not in response.text
    assert "Jane" not in response.text
    assert error["message"] == "An unexpected error occurred"
    logged = [r for r in caplog.records if r.exc_info]
    assert logged, "the exception must be logged"
    assert [getattr(r, "request_id", None) for r in logged] == [response.headers["X-Request-Id"]]


class TestRequestId:
    async def test_generated_when_absent(self, anon_client: httpx.AsyncClient) -> None:
        response = await anon_client.get("/healthz")
        assert response.headers["X-Request-Id"].startswith("req_")

    async def test_sane_client_id_is_echoed(self, anon_client: httpx.AsyncClient) -> None:
        response = await anon_client.get("/healthz", headers={"X-Request-Id": "abc-123.x_y"})
        assert response.headers["X-Request-Id"] == "abc-123.x_y"

    @pytest.mark.parametrize("bad", ["has space", "x" * 129, "<script>", "a\"b"])
    async def test_insane_client_id_is_replaced(self, anon_client: httpx.AsyncClient,
                                                bad: str) -> None:
        response = await anon_client.get("/healthz", headers={"X-Request-Id": bad})
        assert response.headers["X-Request-Id"].startswith("req_")

    async def test_unique_per_request(self, anon_client: httpx.AsyncClient) -> None:
        ids = {(await anon_client.get("/healthz")).headers["X-Request-Id"] for _ in range(5)}
        assert len(ids) == 5


async def test_phi_responses_are_never_cached(admin_client: RoleClient) -> None:
    response = await admin_client.get("/v1/users/me")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


async def test_health_and_readiness(anon_client: httpx.AsyncClient) -> None:
    assert (await anon_client.get("/healthz")).json() == {"status": "ok"}
    ready = await anon_client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "database": "ok"}


async def test_openapi_documents_envelopes_not_422(anon_client: httpx.AsyncClient) -> None:
    schema = (await anon_client.get("/v1/openapi.json")).json()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert "422" not in responses, (method, path)
            assert "500" in responses, (method, path)
            assert "429" in responses, (method, path)
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    assert "ErrorEnvelope" in schema["components"]["schemas"]
