"""The load generator. Runs in its own process(es), never in the server's, so the two do not
share an event loop or a GIL; the parent only hands out jobs and merges what comes back."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import signal
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from multiprocessing import get_context
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

import httpx

from bench.scenarios import Context, by_name

MAX_ERROR_SAMPLES = 5


@dataclass(frozen=True)
class Job:
    scenario: str
    ctx: Context
    requests: int
    concurrency: int
    max_seconds: float
    request_timeout: float


@dataclass
class PhaseResult:
    requests: int = 0  # answered or failed, i.e. every request that was sent
    latencies_ms: list[float] = field(default_factory=list)  # 2xx only
    outcomes: Counter[str] = field(default_factory=Counter)  # status code or exception name
    error_samples: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0
    client_cpu_s: float = 0.0
    hit_time_limit: bool = False

    @property
    def errors(self) -> int:
        return self.requests - len(self.latencies_ms)

    def merge(self, other: PhaseResult) -> None:
        self.requests += other.requests
        self.latencies_ms += other.latencies_ms
        self.outcomes += other.outcomes
        room = MAX_ERROR_SAMPLES - len(self.error_samples)
        self.error_samples += other.error_samples[:max(room, 0)]
        self.elapsed_s = max(self.elapsed_s, other.elapsed_s)
        self.client_cpu_s += other.client_cpu_s
        self.hit_time_limit = self.hit_time_limit or other.hit_time_limit


async def _drive(job: Job) -> PhaseResult:
    scenario = by_name(job.scenario)
    ctx = job.ctx
    result = PhaseResult()
    base_headers = {"accept": "application/json"}
    if scenario.auth:
        if not ctx.access_token:
            raise RuntimeError(f"scenario {scenario.name} needs a token and none was obtained")
        base_headers["authorization"] = f"Bearer {ctx.access_token}"
    limits = httpx.Limits(max_connections=job.concurrency,
                          max_keepalive_connections=job.concurrency)
    issued = 0
    deadline = time.perf_counter() + job.max_seconds
    path = scenario.path.format(**ctx.values)  # ids a setup hook found, e.g. {patient_id}

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal issued
        while issued < job.requests and time.perf_counter() < deadline:
            index = issued
            issued += 1
            headers = base_headers
            if scenario.headers is not None:
                headers = {**base_headers, **scenario.headers(ctx, index)}
            body: Any = scenario.body(ctx, index) if scenario.body is not None else None
            started = time.perf_counter()
            try:
                response = await client.request(scenario.method, path, json=body,
                                                headers=headers)
            except httpx.HTTPError as exc:
                outcome, sample = type(exc).__name__, f"{type(exc).__name__}: {exc}"
            else:
                latency_ms = (time.perf_counter() - started) * 1000
                outcome, sample = str(response.status_code), ""
                if response.is_success:
                    result.latencies_ms.append(latency_ms)
                else:
                    sample = f"{response.status_code}: {response.text[:300]}"
            result.requests += 1
            result.outcomes[outcome] += 1
            if sample and len(result.error_samples) < MAX_ERROR_SAMPLES:
                result.error_samples.append(sample)

    # trust_env=False: a proxy from the environment must never see (or divert) this traffic.
    async with httpx.AsyncClient(base_url=ctx.base_url, limits=limits, trust_env=False,
                                 timeout=job.request_timeout) as client:
        cpu_started = time.process_time()
        started = time.perf_counter()
        try:
            # Belt and braces over the per-request timeout: a trickling response cannot keep
            # the run alive past its budget.
            async with asyncio.timeout(job.max_seconds + job.request_timeout + 5):
                await asyncio.gather(*(worker(client)
                                       for _ in range(min(job.concurrency, job.requests))))
        except TimeoutError:
            result.hit_time_limit = True
        # Requests cut off in flight by the hard stop were sent and never answered: errors.
        if (cut_off := issued - result.requests) > 0:
            result.requests += cut_off
            result.outcomes["cancelled"] += cut_off
        result.elapsed_s = time.perf_counter() - started
        result.client_cpu_s = time.process_time() - cpu_started
    result.hit_time_limit = result.hit_time_limit or issued < job.requests
    return result


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


def event_loop_name() -> str:
    return "uvloop" if _loop_factory() is not None else "asyncio"


def _fail_sniffio_imports_fast() -> None:
    """httpcore runs ``import sniffio`` for every pool lock it sets up, several times per
    request. Without the package (anyio no longer pulls it in) each failing import searches
    sys.path again: ~0.1 ms apiece, a sizeable share of the client's CPU per request. A None
    entry makes the import fail at once, and httpcore treats that failure as asyncio."""
    if "sniffio" not in sys.modules and importlib.util.find_spec("sniffio") is None:
        sys.modules["sniffio"] = None  # type: ignore[assignment]


def run_job(job: Job) -> PhaseResult:
    """Entry point in a load process. uvloop when present: the client's own overhead is what
    caps the measurable rate on small machines, so it should be as low as the server's."""
    _fail_sniffio_imports_fast()
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        return runner.run(_drive(job))


# --- the load processes --------------------------------------------------------------------

def _split(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def _serve(conn: Connection) -> None:
    """A load process: run jobs until told to stop or the parent goes away."""
    # Ctrl-C reaches the whole process group; the parent decides what happens, not us.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        if job is None:
            return
        try:
            reply: tuple[str, Any] = ("ok", run_job(job))
        except Exception:
            reply = ("error", traceback.format_exc())
        try:
            conn.send(reply)
        except OSError:
            return


class LoadProcesses:
    """Long-lived load processes, so that spawning and importing happen once, outside every
    measured window, and so that they can be terminated at once when the run is cut short
    (a ProcessPoolExecutor would wait for its running jobs)."""

    def __init__(self, count: int) -> None:
        self._context = get_context("spawn")
        self._workers: list[tuple[BaseProcess, Connection]] = []
        for _ in range(count):
            parent_end, child_end = self._context.Pipe()
            process = self._context.Process(target=_serve, args=(child_end,), daemon=True,
                                            name="dermifi-bench-load")
            process.start()
            child_end.close()
            self._workers.append((process, parent_end))

    def run(self, job: Job) -> PhaseResult:
        """Split one job across the processes and merge what they measured."""
        merged = PhaseResult()
        if job.requests == 0:
            return merged
        count = min(len(self._workers), job.requests)
        busy = self._workers[:count]
        for (_, conn), requests, concurrency in zip(
                busy, _split(job.requests, count), _split(job.concurrency, count), strict=True):
            conn.send(replace(job, requests=requests, concurrency=max(1, concurrency)))
        # Each job bounds itself; this bound is for a load process that hangs or dies.
        deadline = time.monotonic() + job.max_seconds + job.request_timeout + 60
        for process, conn in busy:
            while not conn.poll(0.5):
                if not process.is_alive():
                    raise RuntimeError(f"load process exited with code {process.exitcode}")
                if time.monotonic() > deadline:
                    raise RuntimeError("load process did not finish within its time budget")
            status, payload = conn.recv()
            if status != "ok":
                raise RuntimeError(f"load process failed:\n{payload}")
            merged.merge(payload)
        return merged

    def close(self) -> None:
        for _, conn in self._workers:
            with contextlib.suppress(OSError):
                conn.send(None)
        for process, conn in self._workers:
            process.join(timeout=2)
            if process.is_alive():
                process.terminate()
                process.join(timeout=5)
            if process.is_alive():
                process.kill()
                process.join()
            conn.close()
        self._workers = []

    def __enter__(self) -> LoadProcesses:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
