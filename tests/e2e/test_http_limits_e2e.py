"""The HTTP server's own limits, tried over TCP as a slow or hostile client would: oversized
request lines and headers, malformed requests, clients that trickle their headers or their
body, and more connections than a process should hold. Every answer is the envelope."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.helpers import bytecode_cache  # noqa: F401 - fixture
from tests.e2e.server import ServerProcess, dermifi
from tests.support import TEST_SECRET_KEY

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("bytecode_cache")]

HEAD_TIMEOUT = 2.0
BODY_TIMEOUT = 2.0
MAX_CONNECTIONS = 40


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory,
           bytecode_cache: None) -> Iterator[ServerProcess]:  # noqa: F811
    root = tmp_path_factory.mktemp("http-limits")
    env = {"DERMIFI_DATABASE_URL": f"sqlite:///{root / 'db.sqlite3'}",
           "DERMIFI_DATA_DIR": str(root / "data"), "DERMIFI_SECRET_KEY": TEST_SECRET_KEY,
           "DERMIFI_HEAD_TIMEOUT_SECONDS": str(HEAD_TIMEOUT),
           "DERMIFI_BODY_TIMEOUT_SECONDS": str(BODY_TIMEOUT),
           "DERMIFI_MAX_CONNECTIONS": str(MAX_CONNECTIONS)}
    dermifi("migrate", env=env)
    with ServerProcess(env, root / "server.log") as running:
        yield running


def exchange(server: ServerProcess, data: bytes, wait: float = 5.0) -> bytes:
    """Send raw bytes; everything the server answers until it closes (or ``wait`` passes)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=wait) as sock:
        sock.sendall(data)
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except TimeoutError:
            pass
    return answer


def parse(answer: bytes) -> tuple[int, dict[str, str], dict[str, object]]:
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return status, headers, json.loads(body)


def assert_envelope(answer: bytes, status: int, code: str) -> dict[str, str]:
    got, headers, body = parse(answer)
    assert got == status, answer[:300]
    assert headers["content-type"] == "application/json"
    error = body["error"]
    assert isinstance(error, dict)
    assert error["code"] == code
    assert str(error["requestId"]).startswith("req_")
    assert str(error["timestamp"]).endswith("Z")
    return headers


def test_a_request_line_over_64_kb_is_414(server: ServerProcess) -> None:
    answer = exchange(server, b"GET /v1/patients?search=" + b"a" * 70_000
                      + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert_envelope(answer, 414, "PAYLOAD_TOO_LARGE")


def test_headers_over_64_kb_are_431(server: ServerProcess) -> None:
    many = b"".join(b"X-Filler-%d: %s\r\n" % (i, b"b" * 1000) for i in range(80))
    answer = exchange(server, b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n")
    assert_envelope(answer, 431, "PAYLOAD_TOO_LARGE")


def test_just_under_the_caps_is_served(server: ServerProcess) -> None:
    line = b"GET /healthz?pad=" + b"a" * 60_000 + b" HTTP/1.1\r\nHost: x\r\n"
    answer = exchange(server, line + b"X-Pad: " + b"c" * 60_000 + b"\r\n\r\n", wait=2)
    assert parse(answer)[0] == 200


def test_malformed_http_is_400_with_the_envelope(server: ServerProcess) -> None:
    assert_envelope(exchange(server, b"NOT-HTTP\x01\r\n\r\n"), 400, "VALIDATION_ERROR")


def test_trickled_headers_are_cut_off_and_others_are_served(server: ServerProcess) -> None:
    slow = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(20)]
    started = time.monotonic()
    for sock in slow:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
    closed_after: list[float] = []
    open_ = list(slow)
    while open_ and time.monotonic() - started < HEAD_TIMEOUT + 5:
        for sock in list(open_):
            try:
                sock.sendall(b"X-Trickle: 1\r\n")  # a header line, never the blank line
                sock.settimeout(0.01)
                if sock.recv(1) == b"":
                    raise ConnectionResetError
            except TimeoutError:
                continue
            except OSError:
                closed_after.append(time.monotonic() - started)
                open_.remove(sock)
        # Meanwhile an ordinary client is served at once.
        assert httpx.get(f"{server.url}/healthz", timeout=2).status_code == 200
        time.sleep(0.3)
    for sock in slow:
        sock.close()
    print(f"\n20 trickling clients: all closed after {max(closed_after, default=-1):.1f} s "
          f"(head timeout {HEAD_TIMEOUT} s)")
    assert len(closed_after) == 20
    assert max(closed_after) < HEAD_TIMEOUT + 2


def test_a_trickled_body_is_408(server: ServerProcess) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: "
                     b"application/json\r\nContent-Length: 400\r\n\r\n{\"email\":")
        started = time.monotonic()
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
        waited = time.monotonic() - started
    assert_envelope(answer, 408, "VALIDATION_ERROR")
    assert waited < BODY_TIMEOUT + 2


def test_connections_over_the_cap_are_refused_at_once(server: ServerProcess) -> None:
    held = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(MAX_CONNECTIONS)]
    try:
        time.sleep(0.2)
        # Refused before it is read: a request sent meanwhile would make the close a reset.
        extra = exchange(server, b"", wait=2)
        headers = assert_envelope(extra, 503, "SERVICE_UNAVAILABLE")
        assert headers["retry-after"] == "1"
    finally:
        for sock in held:
            sock.close()
    time.sleep(0.2)
    assert httpx.get(f"{server.url}/healthz", timeout=2).status_code == 200


def test_head_over_tcp_has_no_body(server: ServerProcess) -> None:
    answer = exchange(server, b"HEAD /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert body == b""
    assert b"content-length: 15" in head.lower()


def test_the_log_names_floods_without_repeating_itself(server: ServerProcess) -> None:
    log = server.log()
    assert log.count("request heads not complete") <= 1
    assert "Traceback" not in log


def test_kept_alive_connections_still_serve(server: ServerProcess) -> None:
    with httpx.Client(base_url=server.url) as client:
        for _ in range(3):
            assert client.get("/healthz").status_code == 200
