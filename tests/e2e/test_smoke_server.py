from __future__ import annotations

from pathlib import Path

import httpx

from tests.e2e.server import ServerProcess


def test_server_answers_health_over_tcp(server_env: dict[str, str], tmp_path: Path) -> None:
    with ServerProcess(server_env, tmp_path / "server.log") as server:
        response = httpx.get(f"{server.url}/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response.headers["X-Request-Id"]
