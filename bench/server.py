"""The server under test: a fresh database, the real command line, the real server process."""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx

# Counted by the limiter on every request (its cost is part of the measurement) but never
# reached, so no request is refused with 429.
UNREACHABLE_RATE = "100000000/hour"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def dermifi(*args: str, env: Mapping[str, str],
            timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """Run the ``dermifi`` command line as an operator would; fail loudly with its output."""
    done = subprocess.run(
        [sys.executable, "-m", "dermifi", *args], env=dict(env), capture_output=True,
        text=True, timeout=timeout, check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"`dermifi {args[0]}` failed ({done.returncode}):\n"
                           f"{done.stdout[-2000:]}{done.stderr[-4000:]}")
    return done


def server_env(database_url: str, data_dir: Path, extra: Mapping[str, str]) -> dict[str, str]:
    """The server's environment, built from scratch: a stray DERMIFI_ARGON2_* or
    DERMIFI_REDIS_URL left in the caller's shell would silently change what is measured."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DERMIFI_")}
    env.update({
        # Production in all but name: the bench routes it needs are refused in production,
        # and the environment changes nothing else (the secret below is a strong one).
        "DERMIFI_ENV": "development",
        "DERMIFI_DATA_DIR": str(data_dir),
        "DERMIFI_DATABASE_URL": database_url,
        "DERMIFI_SECRET_KEY": secrets.token_urlsafe(36)[:48],
        "DERMIFI_ENABLE_BENCH_ROUTES": "1",
        "DERMIFI_RATE_LIMIT": UNREACHABLE_RATE,
        "DERMIFI_LOGIN_RATE_LIMIT": UNREACHABLE_RATE,
        "DERMIFI_LOG_LEVEL": "WARNING",
    })
    env.update(extra)
    return env


# --- databases -----------------------------------------------------------------------------

@dataclass
class Database:
    backend: str  # "sqlite" or "postgresql"
    url: str  # as an operator writes DERMIFI_DATABASE_URL
    version: str
    admin_dsn: str | None = None  # PostgreSQL only: where to drop it from
    name: str | None = None

    def drop(self) -> None:
        """SQLite lives in the temporary directory, removed with it."""
        if self.backend == "postgresql" and self.admin_dsn and self.name:
            asyncio.run(_pg_execute(self.admin_dsn,
                                    f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))


def sqlite_database(directory: Path) -> Database:
    import sqlite3

    return Database("sqlite", f"sqlite:///{directory / 'bench.sqlite3'}",
                    f"SQLite {sqlite3.sqlite_version}")


def _asyncpg_dsn(url: str) -> str:
    parts = urlsplit(url)
    scheme = parts.scheme.split("+", 1)[0]
    if scheme not in ("postgresql", "postgres"):
        raise ValueError(f"--postgres needs a postgresql:// URL, not {parts.scheme}://")
    return urlunsplit(("postgresql", *parts[1:]))


async def _pg_execute(dsn: str, sql: str) -> str:
    import asyncpg

    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        await conn.execute(sql)
        return str(await conn.fetchval("SHOW server_version"))
    finally:
        await conn.close()


def postgres_database(admin_url: str) -> Database:
    """A fresh database on the given server; the URL's own database is only connected to."""
    dsn = _asyncpg_dsn(admin_url)
    # Hex only, so the quoted identifier below cannot be anything but a name.
    name = f"dermifi_bench_{secrets.token_hex(6)}"
    version = asyncio.run(_pg_execute(dsn, f'CREATE DATABASE "{name}"'))
    parts = urlsplit(dsn)
    url = urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))
    return Database("postgresql", url, f"PostgreSQL {version}", admin_dsn=dsn, name=name)


# --- the server process --------------------------------------------------------------------

class ServerProcess:
    def __init__(self, env: Mapping[str, str], log_path: Path, *, workers: int = 1) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = dict(env)
        self.log_path = log_path
        self.workers = workers
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self, timeout: float = 60) -> None:
        with self.log_path.open("wb") as log:
            # The child keeps its own copy of the descriptor.
            self.process = subprocess.Popen(
                [sys.executable, "-m", "dermifi", "serve", "--host", "127.0.0.1",
                 "--port", str(self.port), "--workers", str(self.workers)],
                env=self.env, stdout=log, stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        with httpx.Client(trust_env=False, timeout=2) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"server exited early:\n{self.log_tail()}")
                try:
                    if client.get(f"{self.url}/readyz").status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                time.sleep(0.1)
        raise RuntimeError(f"server not ready within {timeout:.0f} s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=15)

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def cpu_seconds(self) -> float | None:
        """User + system CPU of the server and its worker processes (Linux /proc only)."""
        try:
            return sum(_proc_cpu(pid) for pid in _process_tree(self.pid))
        except (OSError, ValueError, IndexError):
            return None


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _proc_cpu(pid: int) -> float:
    stat = Path(f"/proc/{pid}/stat").read_text()
    # The command name may hold spaces and parentheses; the fields after its last ")" do not.
    fields = stat[stat.rindex(")") + 2:].split()
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / _CLOCK_TICKS


def _process_tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        for task in Path(f"/proc/{current}/task").iterdir():
            children = (task / "children").read_text().split()
            todo += [int(c) for c in children]
    return pids
