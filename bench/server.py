"""The servers: a fresh database, the real command line, the real server process, and the
baseline apps (bench/baselines.py) served by uvicorn the same way."""

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


def free_ports(count: int) -> list[int]:
    """Ports free on 127.0.0.1, all different: held open together while the kernel picks."""
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


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
        # As in production: an access log line per request, as JSON (issue 11).
        "DERMIFI_LOG_LEVEL": "INFO",
        "DERMIFI_LOG_JSON": "true",
    })
    env.update(extra)
    return env


def baseline_env(database_url: str) -> dict[str, str]:
    """The baselines' environment: no DERMIFI_* setting, the database the server uses."""
    from bench.baselines import DATABASE_URL_ENV

    env = {k: v for k, v in os.environ.items() if not k.startswith("DERMIFI_")}
    env[DATABASE_URL_ENV] = database_url
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


def postgres_answers(url: str) -> bool:
    """Whether a PostgreSQL server accepts us at this URL (the default of `make bench`)."""
    try:
        asyncio.run(_pg_execute(_asyncpg_dsn(url), "SELECT 1"))
    except Exception:
        return False
    return True


def postgres_database(admin_url: str) -> Database:
    """A fresh database on the given server; the URL's own database is only connected to."""
    dsn = _asyncpg_dsn(admin_url)
    # Hex only, so the quoted identifier below cannot be anything but a name.
    name = f"dermifi_bench_{secrets.token_hex(6)}"
    version = asyncio.run(_pg_execute(dsn, f'CREATE DATABASE "{name}"'))
    parts = urlsplit(dsn)
    url = urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))
    return Database("postgresql", url, f"PostgreSQL {version}", admin_dsn=dsn, name=name)


# --- the server processes ------------------------------------------------------------------

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def dermifi_command(port: int, workers: int) -> list[str]:
    """The API as an operator serves it."""
    return [sys.executable, "-m", "dermifi", "serve", "--host", "127.0.0.1",
            "--port", str(port), "--workers", str(workers)]


def baseline_command(app: str, port: int, workers: int) -> list[str]:
    """A baseline app (``bench.baselines:<app>``) under the uvicorn settings ``dermifi serve``
    passes (dermifi/cli.py): same host, worker count, keep-alive, no access log, no server
    header, no proxy headers; event loop and HTTP parser as uvicorn picks them (uvloop and
    httptools, which the API's own protocol class extends)."""
    return [sys.executable, "-m", "uvicorn", f"bench.baselines:{app}", "--host", "127.0.0.1",
            "--port", str(port), "--workers", str(workers), "--no-access-log",
            "--no-server-header", "--no-proxy-headers", "--timeout-keep-alive", "5",
            "--log-level", "warning"]


class ServerProcess:
    """One server (the API or a baseline) on 127.0.0.1 and a free port, its log in a file."""

    def __init__(self, name: str, command: list[str], env: Mapping[str, str], log_path: Path,
                 *, port: int, ready_path: str) -> None:
        self.name = name
        self.command = command
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.env = dict(env)
        self.log_path = log_path
        self.ready_path = ready_path
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self, timeout: float = 60) -> None:
        with self.log_path.open("wb") as log:
            # The child keeps its own copy of the descriptor. The project root as the working
            # directory: the baselines are imported as bench.baselines.
            self.process = subprocess.Popen(self.command, env=self.env, stdout=log,
                                            stderr=subprocess.STDOUT, cwd=PROJECT_ROOT)
        deadline = time.monotonic() + timeout
        with httpx.Client(trust_env=False, timeout=2) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"{self.name} exited early:\n{self.log_tail()}")
                try:
                    if client.get(f"{self.url}{self.ready_path}").status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                time.sleep(0.1)
        raise RuntimeError(f"{self.name} not ready within {timeout:.0f} s:\n{self.log_tail()}")

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

    def worker_pids(self) -> list[int]:
        """The processes that serve requests: with several workers, uvicorn's children (its
        supervisor only watches them); with one, the server process itself."""
        children = [pid for pid in _process_tree(self.pid)[1:]
                    if b"spawn_main" in _cmdline(pid)]
        return children or [self.pid]

    def peak_rss_mib(self) -> list[float]:
        """Each worker's peak resident memory so far (VmHWM), in MiB."""
        return [_vm_hwm_kib(pid) / 1024 for pid in self.worker_pids()]


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _proc_cpu(pid: int) -> float:
    stat = Path(f"/proc/{pid}/stat").read_text()
    # The command name may hold spaces and parentheses; the fields after its last ")" do not.
    fields = stat[stat.rindex(")") + 2:].split()
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / _CLOCK_TICKS


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _vm_hwm_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise ValueError(f"no VmHWM for process {pid}")


def _process_tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        for task in Path(f"/proc/{current}/task").iterdir():
            children = (task / "children").read_text().split()
            todo += [int(c) for c in children]
    return pids
