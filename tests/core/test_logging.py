"""Log lines are JSON with the fields their callers attach, and no request URLs from httpx."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from dermifi.core.logging import configure_logging


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    httpx_levels = {name: logging.getLogger(name).level for name in ("httpx", "httpcore")}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, saved in httpx_levels.items():
        logging.getLogger(name).setLevel(saved)


def _lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    return [json.loads(line) for line in capsys.readouterr().err.splitlines() if line]


def test_standard_library_records_keep_their_extra_fields(
        capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", json=True)
    logging.getLogger("dermifi.outbox").info(
        "outbox message %s", "delivered", extra={"message_id": "obx_1", "attempt": 2})
    (line,) = _lines(capsys)
    assert line["event"] == "outbox message delivered"
    assert (line["message_id"], line["attempt"], line["level"]) == ("obx_1", 2, "info")


def test_http_client_request_lines_are_not_logged(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", json=True)
    logging.getLogger("httpx").info("HTTP Request: POST http://127.0.0.1/hook?token=s3cret")
    logging.getLogger("httpx").warning("a warning still shows")
    assert [line["event"] for line in _lines(capsys)] == ["a warning still shows"]
