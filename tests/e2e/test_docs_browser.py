"""The interactive docs at /docs, in a real headless Chromium: air-gapped and usable.

Swagger UI's assets are served by the server itself (core/docs.py), so the page must load and
work without reaching any other host; and an operator must be able to authorize with a token
and call an endpoint from it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.e2e.server import ServerProcess, dermifi
from tests.support import TEST_PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

CHROMIUM_CANDIDATES = ("/usr/bin/chromium",)
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
# Schemes that never touch the network (inline images and fonts in swagger-ui.css, blobs).
LOCAL_SCHEMES = {"data", "blob", "about"}
TIMEOUT_MS = 20_000


def find_chromium() -> str | None:
    for candidate in CHROMIUM_CANDIDATES:
        if os.access(candidate, os.X_OK):
            return candidate
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
def chromium() -> str:
    """Path of the Chromium binary; skip (or, under CI's DERMIFI_REQUIRE_BROWSER=1, fail)."""
    path = find_chromium()
    if path is None:
        reason = ("browser test skipped: no Chromium browser found (looked for "
                  f"{', '.join(CHROMIUM_CANDIDATES)} and `chromium` on PATH); "
                  "install it with `apt-get install chromium`")
        if os.environ.get("DERMIFI_REQUIRE_BROWSER") == "1":
            pytest.fail(f"DERMIFI_REQUIRE_BROWSER=1 but {reason}", pytrace=False)
        pytest.skip(reason)
    return path


def test_docs_work_air_gapped_and_call_the_api(
    chromium: str, server_env: dict[str, str], tmp_path: Path,
) -> None:
    # Plain (sync) test: playwright's sync API must not run inside a running event loop.
    from playwright.sync_api import expect, sync_playwright

    email = "docs-admin@example.com"
    dermifi("practice", "create", "--name", "Docs Clinic", env=server_env)
    dermifi("user", "create", "--email", email, "--password", TEST_PASSWORD, "--role", "admin",
            env=server_env)

    with ServerProcess(server_env, tmp_path / "server.log") as server:
        login = httpx.post(f"{server.url}/v1/auth/login",
                           json={"email": email, "password": TEST_PASSWORD})
        assert login.status_code == 200, login.text
        token = login.json()["accessToken"]
        origin = urlsplit(server.url)

        requested: list[str] = []
        expect.set_options(timeout=TIMEOUT_MS)  # a loaded CI machine renders slowly
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            try:
                context = browser.new_context()
                context.set_default_timeout(TIMEOUT_MS)
                # Every request of every page and worker in this context, before it is sent.
                context.on("request", lambda request: requested.append(request.url))
                page = context.new_page()

                response = page.goto(f"{server.url}/docs", wait_until="networkidle")
                assert response is not None
                assert response.status == 200

                # Swagger UI rendered the operations from /v1/openapi.json.
                me = page.locator(".opblock-get").filter(
                    has=page.locator('.opblock-summary-path[data-path="/v1/users/me"]'))
                expect(me).to_have_count(1)
                expect(page.locator(".opblock")).to_have_count(
                    _operation_count(server.url))

                # Authorize with the bearer token.
                page.locator(".auth-wrapper button.authorize").click()
                dialog = page.locator(".dialog-ux .modal-ux")
                expect(dialog).to_be_visible()
                dialog.locator("input").first.fill(token)
                dialog.locator(".auth-btn-wrapper button.authorize").click()
                expect(dialog.locator(".auth-btn-wrapper button.btn-done")).to_be_visible()
                dialog.locator(".auth-btn-wrapper button.btn-done").click()
                expect(dialog).to_be_hidden()

                # GET /v1/users/me: expand, try it out, execute.
                me.locator(".opblock-summary").first.click()
                me.locator("button.try-out__btn").click()
                me.locator("button.execute").click()
                live = me.locator(".live-responses-table")
                expect(live.locator("tr.response td.response-col_status")).to_have_text("200")
                expect(live.locator("tr.response td.response-col_description")).to_contain_text(
                    email)

                page.wait_for_load_state("networkidle")
            finally:
                browser.close()

    assert requested, "the browser recorded no requests at all"
    foreign = [
        url for url in requested
        if urlsplit(url).scheme not in LOCAL_SCHEMES
        and (urlsplit(url).scheme, urlsplit(url).netloc) != (origin.scheme, origin.netloc)
    ]
    assert not foreign, f"/docs reached beyond the server's own origin: {foreign}"
    # The assets and the schema really came from this server.
    paths = {urlsplit(url).path for url in requested}
    assert {"/docs", "/docs/assets/swagger-ui-bundle.js", "/docs/assets/swagger-ui.css",
            "/v1/openapi.json", "/v1/users/me"} <= paths, paths


def _operation_count(base_url: str) -> int:
    schema = httpx.get(f"{base_url}/v1/openapi.json").json()
    methods = {"get", "put", "post", "delete", "patch", "options", "head", "trace"}
    return sum(1 for item in schema["paths"].values() for method in item if method in methods)
