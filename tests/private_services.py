"""A PostgreSQL cluster and a Redis server of a test's own, on free ports, for fault tests that
stop, freeze and restart them. The machine's shared services (5432, 6379) are never touched.

PostgreSQL comes from Debian's packages (``/usr/lib/postgresql/<version>/bin``). ``initdb``
refuses to run as root, so as root the cluster is made and run as the ``postgres`` system
user (or another unprivileged one named by ``DERMIFI_TEST_PG_USER``).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _postgres_bin() -> Path:
    root = Path("/usr/lib/postgresql")
    versions = sorted((p for p in root.glob("*/bin") if (p / "initdb").exists()),
                      key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0)
    if not versions:
        pytest.fail("PostgreSQL's initdb is required for fault tests (Debian's postgresql "
                    "package, /usr/lib/postgresql/*/bin)", pytrace=False)
    return versions[-1]


def _wait_for_port(port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            sock.settimeout(0.2)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


class PrivatePostgres:
    """``initdb`` into a temporary directory; ``start``/``stop``/``freeze``/``thaw``."""

    def __init__(self) -> None:
        self.bin = _postgres_bin()
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="dermifi-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self.user: str | None = None
        if os.geteuid() == 0:
            self.user = os.environ.get("DERMIFI_TEST_PG_USER", "postgres")
            try:
                account = pwd.getpwnam(self.user)
            except KeyError:
                pytest.fail(f"fault tests run initdb as the unprivileged user {self.user!r}, "
                            "which does not exist", pytrace=False)
            os.chown(self.root, account.pw_uid, account.pw_gid)
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [str(a) for a in args]
        if self.user is not None:
            command = ["runuser", "-u", self.user, "--", *command]
        return subprocess.run(command, check=check, capture_output=True, text=True,
                              timeout=120, cwd="/")

    def init(self) -> PrivatePostgres:
        self._run(self.bin / "initdb", "-D", str(self.data), "-U", "postgres",
                  "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C.UTF-8")
        return self

    def start(self) -> None:
        # fsync stays on: the kill -9 tests need real durability. Small, fast settings else.
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories="
                   f"{self.root} -c max_connections=100 -c shared_buffers=32MB")
        self._run(self.bin / "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o",
                  options, "-w", "-t", "60", "start")
        _wait_for_port(self.port, 30)

    def stop(self, mode: str = "fast") -> None:
        self.thaw()
        self._run(self.bin / "pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop",
                  check=False)

    def _postmaster_pid(self) -> int | None:
        pid_file = self.data / "postmaster.pid"
        try:
            return int(pid_file.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def _pids(self) -> list[int]:
        """The postmaster and every backend and helper it forked."""
        root = self._postmaster_pid()
        if root is None:
            return []
        found = subprocess.run(["pgrep", "-P", str(root)], capture_output=True, text=True)
        return [root, *(int(p) for p in found.stdout.split())]

    def freeze(self) -> None:
        """SIGSTOP the whole server: connections stay open and nothing answers."""
        for pid in self._pids():
            os.kill(pid, signal.SIGSTOP)

    def thaw(self) -> None:
        for pid in self._pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)

    def destroy(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


class PrivateRedis:
    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is required for fault tests", pytrace=False)
        self.binary = binary
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_for_port(self.port, 10)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.kill()
            self.process.wait()

    def freeze(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
