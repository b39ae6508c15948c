"""Run the real server as a separate process, bound to a TCP port on loopback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def dermifi(*args: str, env: Mapping[str, str], check: bool = True,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run the ``dermifi`` command line as an operator would."""
    return subprocess.run(
        [sys.executable, "-m", "dermifi", *args], env={**os.environ, **env}, check=check,
        capture_output=True, text=True, timeout=timeout,
    )


class DermifiProcess:
    """A ``python -m dermifi ...`` process of its own, its output in a log file; stopped with
    SIGTERM (SIGKILL after 15 s)."""

    def __init__(self, env: Mapping[str, str], log_path: Path) -> None:
        self.env = {**os.environ, **env}
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def _spawn(self, *args: str) -> subprocess.Popen[bytes]:
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen([sys.executable, "-m", "dermifi", *args],
                                        env=self.env, stdout=self._log,
                                        stderr=subprocess.STDOUT)
        return self.process

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if hasattr(self, "_log"):
            self._log.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


class ServerProcess(DermifiProcess):
    def __init__(self, env: Mapping[str, str], log_path: Path, *, workers: int = 1) -> None:
        super().__init__(env, log_path)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workers = workers

    def start(self, timeout: float = 120) -> ServerProcess:
        process = self._spawn("serve", "--host", "127.0.0.1", "--port", str(self.port),
                              "--workers", str(self.workers))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log_path.read_text()[-4000:]}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server did not become ready:\n{self.log_path.read_text()[-4000:]}")

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()
