"""``python -m bench``: a throwaway deployment, the API and its baselines loaded with wrk in
alternating rounds, the bars judged, everything torn down. Exit 0: every bar met; 1: a bar
missed or a request failed; 2: the bench could not be set up (nothing was judged)."""

from __future__ import annotations

import argparse
import asyncio
import math
import platform
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

from bench import machine, wrk
from bench.explain import explain_queries, explain_table
from bench.fixtures import (
    Accounts,
    AppointmentBook,
    SetupError,
    create_accounts,
    create_appointment_book,
    login,
)
from bench.patients_data import load_patients
from bench.report import (
    WARMUP_ROUND,
    Key,
    Results,
    Run,
    Verdict,
    measurements_table,
    problems_of,
    process_scaling_table,
    summaries_json,
    targets_table,
    verdicts,
    write_json,
)
from bench.scenarios import (
    DATA_SCALING_MEASUREMENTS,
    MEASUREMENTS,
    TARGETS,
    Measurement,
    ServerName,
    by_name,
)
from bench.server import (
    Database,
    ServerProcess,
    baseline_command,
    baseline_env,
    dermifi_command,
    free_ports,
    postgres_answers,
    postgres_database,
    server_env,
    sqlite_database,
)

RESULTS_DIR = Path(__file__).resolve().parent / "results"
PROJECT_ROOT = machine.PROJECT_ROOT
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
DEFAULT_SCALING_SIZES = "10000,100000,1000000"
MILLION = 1_000_000
QUICK_SECONDS, QUICK_WARMUP = 3, 1
# Cores used by processes other than ours above which the results are flagged as unreliable.
BUSY_WARNING_CORES = 0.25
# The rows whose "other cores" tell of foreign load (the rest wait on PostgreSQL too).
NO_DATABASE_ROWS = ("hello", "healthz")
# Server log lines shown when a run fails.
LOG_LINES = 12
# wrk at this share of one core per thread may itself be the limit.
WRK_BUSY_WARNING = 0.80
# Settings the bench owns: overriding them would defeat the fresh, removed-afterwards database.
RESERVED_ENV = {"DERMIFI_DATABASE_URL", "DERMIFI_DATA_DIR"}
SQLITE_NOTE = ("SQLite: every row is measured, but the bars are set on PostgreSQL; ratios on "
               "SQLite are not the targets")
NO_MFA_NOTE = ("the bench admin has no MFA: a TOTP code is accepted once per 30 s window, and "
               "the bench logs in once per round")


# --- arguments -----------------------------------------------------------------------------

def _int_list(text: str, option: str, parser: argparse.ArgumentParser) -> list[int]:
    try:
        values = [int(v.replace("_", "")) for v in text.split(",") if v.strip()]
    except ValueError:
        parser.error(f"{option} takes N or N,N,..., not {text!r}")
    if not values or min(values) < 1:
        parser.error(f"{option} takes positive numbers")
    return values


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    names = ", ".join(m.name for m in MEASUREMENTS)
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Load the real Dermifi server and bare FastAPI baselines with wrk in "
                    "alternating rounds, and judge issue 11's targets as ratios of the "
                    f"baselines measured in the same run. Measurements: {names}.")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--postgres", metavar="URL",
                       help="bench on this PostgreSQL server: a fresh database is created and "
                            f"dropped after (default: {DEFAULT_POSTGRES} if it answers, else "
                            "SQLite)")
    where.add_argument("--sqlite", action="store_true", help="bench on SQLite")
    parser.add_argument("--patients", type=int, default=100_000, metavar="N",
                        help="synthetic patients loaded (default 100000)")
    parser.add_argument("--million", action="store_const", const=MILLION, dest="patients",
                        help="load 1,000,000 patients: adds the list and search targets")
    parser.add_argument("--scaling", nargs="?", const=DEFAULT_SCALING_SIZES, default=None,
                        metavar="N,N,N",
                        help="also measure by-id and list requests/s at growing data sizes "
                             f"(default {DEFAULT_SCALING_SIZES}; the last one replaces "
                             "--patients)")
    parser.add_argument("--workers", default="1", metavar="N[,N]",
                        help="server processes; several (1,2) measure everything at each and "
                             "print the scaling (default 1)")
    parser.add_argument("--connections", type=int, default=16, metavar="N",
                        help="wrk connections (-c) for every row without a fixed level "
                             "(default 16; the list rows run at 1 and 32)")
    parser.add_argument("--threads", type=int, default=2, metavar="N",
                        help="wrk threads (-t, default 2; one at one connection)")
    # wrk takes whole seconds.
    parser.add_argument("--duration", type=int, default=None, metavar="S",
                        help="seconds per wrk run (default 10; 3 with --quick)")
    parser.add_argument("--warmup", type=int, default=None, metavar="S",
                        help="seconds of an unmeasured run of each row before round 1 "
                             "(default 2; 1 with --quick; 0: none)")
    parser.add_argument("--rounds", type=int, default=3, metavar="N",
                        help="rounds of baselines then targets; medians are reported "
                             "(default 3)")
    parser.add_argument("--quick", action="store_true",
                        help=f"short runs: {QUICK_SECONDS:g} s each, {QUICK_WARMUP:g} s warm-up")
    parser.add_argument("--only", metavar="NAME[,NAME]", default="",
                        help="run only these measurements (and the baselines they are "
                             f"judged against): {names}")
    parser.add_argument("--timeout", type=float, default=10.0, metavar="S",
                        help="wrk's per-request timeout; a timeout fails the run (default 10)")
    parser.add_argument("--env", action="append", default=[], metavar="DERMIFI_X=VALUE",
                        help="extra server setting, e.g. DERMIFI_REDIS_URL=redis://127.0.0.1/15 "
                             "(repeatable)")
    parser.add_argument("--explain", action="store_true",
                        help="PostgreSQL: after loading, print the server-side time of every "
                             "query each patient list/search shape sends (EXPLAIN ANALYZE)")
    parser.add_argument("--no-json", action="store_true", help="do not write bench/results/")
    args = parser.parse_args(argv)

    args.worker_counts = _int_list(args.workers, "--workers", parser)
    args.data_sizes = (sorted(set(_int_list(args.scaling, "--scaling", parser)))
                       if args.scaling else [args.patients])
    if args.scaling and len(args.data_sizes) < 2:
        parser.error("--scaling takes two data sizes or more")
    if args.duration is None:
        args.duration = QUICK_SECONDS if args.quick else 10
    if args.warmup is None:
        args.warmup = QUICK_WARMUP if args.quick else 2
    for name, value in (("--connections", args.connections), ("--threads", args.threads),
                        ("--rounds", args.rounds), ("--patients", args.patients)):
        if value < 1:
            parser.error(f"{name} must be at least 1")
    if args.duration <= 0 or args.warmup < 0 or args.timeout <= 0:
        parser.error("--duration and --timeout must be positive, --warmup 0 or more")
    args.extra_env = {}
    for item in args.env:
        key, sep, value = item.partition("=")
        if not sep or not key.startswith("DERMIFI_"):
            parser.error(f"--env takes DERMIFI_NAME=VALUE, not {item!r}")
        if key in RESERVED_ENV:
            parser.error(f"{key} is set by the bench (a fresh temporary database)")
        args.extra_env[key] = value
    args.only_names = [n.strip() for n in args.only.split(",") if n.strip()]
    known = {m.name for m in MEASUREMENTS}
    if unknown := [n for n in args.only_names if n not in known]:
        parser.error(f"unknown measurement(s) {', '.join(unknown)}; known: {names}")
    return args


def selected_measurements(args: argparse.Namespace) -> list[Measurement]:
    """The measurements of this run, baselines first (the order of a round)."""
    final_size = args.data_sizes[-1]
    if args.only_names:
        wanted = set(args.only_names)
    else:
        wanted = {m.name for m in MEASUREMENTS if not m.baseline and (
            not m.at_million_only or final_size >= MILLION or args.scaling)}
    # Each target's baseline, measured in the same rounds.
    wanted |= {t.baseline for t in TARGETS if t.measurement in wanted and t.baseline}
    if args.scaling:
        wanted |= {name for name, _ in DATA_SCALING_MEASUREMENTS}
    return [m for m in MEASUREMENTS if m.name in wanted]


def needs_patients(measurements: Sequence[Measurement]) -> bool:
    return any(m.lua == "patient_by_id.lua" or m.name.startswith(("pat_", "appt_"))
               for m in measurements)


# --- machine facts -------------------------------------------------------------------------

def _argon2(env: dict[str, str]) -> str:
    from dermifi.core.config import Settings

    def value(name: str) -> str:
        return env.get(f"DERMIFI_{name.upper()}", str(Settings.model_fields[name].default))

    return (f"argon2id t={value('argon2_time_cost')} m={value('argon2_memory_kib')} KiB "
            f"p={value('argon2_parallelism')}")


def machine_facts(db: Database, env: dict[str, str], args: argparse.Namespace,
                  wrk_path: str) -> dict[str, Any]:
    busy = machine.background_load()
    return {
        "nproc": machine.nproc(),
        "cpu": machine.cpu_model(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "platform": platform.platform(),
        "backend": db.version,
        "dermifi": machine.git_revision() or machine.version("dermifi"),
        "server": (f"uvicorn {machine.version('uvicorn')}, fastapi "
                   f"{machine.version('fastapi')}, {','.join(map(str, args.worker_counts))} "
                   "worker process(es); JSON access log at INFO, rate limits on"),
        "password_hashing": _argon2(env),
        "load_generator": (f"{wrk.wrk_version(wrk_path)}: -t{args.threads} "
                           f"-c{args.connections} (lists: -c1 -t1 and -c32) "
                           f"-d{args.duration:g}s --latency, {args.rounds} rounds after "
                           f"{args.warmup:g} s warm-up"),
        "busy_before_start": (f"{busy:.2f} of {machine.nproc()} cores (load average "
                              f"{machine.load_average()})" if busy is not None
                              else f"load average {machine.load_average()}"),
        "busy_cores_before_start": busy,
        "server_settings": dict(args.extra_env),
    }


def print_facts(facts: dict[str, Any]) -> None:
    for key in ("nproc", "cpu", "python", "platform", "backend", "dermifi", "server",
                "password_hashing", "load_generator", "busy_before_start"):
        print(f"{key.replace('_', ' '):>17}: {facts[key]}")
    for key, value in facts["server_settings"].items():
        print(f"{'--env':>17}: {key}={value}")
    print(f"{'note':>17}: {NO_MFA_NOTE}", flush=True)
    busy = facts["busy_cores_before_start"]
    if busy is not None and busy > BUSY_WARNING_CORES:
        print(f"WARNING: other work keeps {busy:.1f} cores busy; the numbers below will be "
              "low and noisy", flush=True)


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- the deployment ------------------------------------------------------------------------

def choose_database(args: argparse.Namespace, directory: Path) -> Database:
    if args.postgres or (not args.sqlite and postgres_answers(DEFAULT_POSTGRES)):
        url = args.postgres or DEFAULT_POSTGRES
        try:
            return postgres_database(url)
        except Exception as exc:
            raise SetupError(f"cannot create a database on {url}: {exc}") from exc
    if not args.sqlite:
        progress(f"PostgreSQL does not answer at {DEFAULT_POSTGRES}: benching on SQLite")
    return sqlite_database(directory)


class Deployment:
    """The API and both baselines, each with the same number of worker processes."""

    def __init__(self, workers: int, env: dict[str, str], database_url: str,
                 directory: Path) -> None:
        self.workers = workers
        plain = baseline_env(database_url)
        api_port, hello_port, one_row_port = free_ports(3)
        self.servers: dict[ServerName, ServerProcess] = {
            "dermifi": self._server("dermifi", dermifi_command(api_port, workers), env,
                                    api_port, "/readyz", directory),
            "hello": self._server("hello", baseline_command("hello_app", hello_port, workers),
                                  plain, hello_port, "/", directory),
            "one_row": self._server("one_row",
                                    baseline_command("one_row_app", one_row_port, workers),
                                    plain, one_row_port, "/ready", directory),
        }

    def _server(self, name: str, command: list[str], env: dict[str, str], port: int,
                ready_path: str, directory: Path) -> ServerProcess:
        return ServerProcess(f"{name} ({self.workers} worker(s))", command, env,
                             directory / f"{name}-{self.workers}w.log", port=port,
                             ready_path=ready_path)

    @property
    def api(self) -> ServerProcess:
        return self.servers["dermifi"]

    def start(self) -> None:
        for server in self.servers.values():
            try:
                server.start()
            except RuntimeError as exc:
                raise SetupError(str(exc)) from exc

    def stop(self) -> None:
        for server in self.servers.values():
            server.stop()


class Deployments:
    """One deployment at a time (the worker count being measured): before one is stopped,
    its workers' peak memory and the tails of its logs are kept."""

    def __init__(self, env: dict[str, str], database_url: str, directory: Path,
                 results: Results) -> None:
        self.env, self.database_url, self.directory = env, database_url, directory
        self.results = results
        self.current: Deployment | None = None
        self.logs: dict[tuple[ServerName, int], str] = {}

    def use(self, workers: int) -> Deployment:
        if self.current is not None and self.current.workers == workers:
            return self.current
        self.close()
        progress(f"starting the API and the baselines with {workers} worker(s) ...")
        self.current = Deployment(workers, self.env, self.database_url, self.directory)
        self.current.start()
        return self.current

    def close(self) -> None:
        deployment, self.current = self.current, None
        if deployment is None:
            return
        try:
            self._record_peaks(deployment)
        finally:
            for name, server in deployment.servers.items():
                self.logs[(name, deployment.workers)] = server.log_tail()
            deployment.stop()

    def _record_peaks(self, deployment: Deployment) -> None:
        """Each worker's peak resident memory (VmHWM), read before its servers stop."""
        baselines: tuple[ServerName, ...] = ("hello", "one_row")
        try:
            self.results.peak_rss_mib[deployment.workers] = deployment.api.peak_rss_mib()
            for name in baselines:
                self.results.baseline_peak_rss_mib[f"{name}-{deployment.workers}w"] = (
                    deployment.servers[name].peak_rss_mib())
        except (OSError, ValueError) as exc:
            progress(f"could not read the workers' peak memory: {exc}")


# --- measuring -----------------------------------------------------------------------------

def _coprime_step(count: int, start: int = 7919) -> int:
    """A step through 0..count-1 that visits every index before repeating one."""
    step = start
    while math.gcd(step, max(count, 1)) != 1:
        step += 2
    return step


@dataclass
class Bench:
    args: argparse.Namespace
    wrk_path: str
    scripts: Path
    accounts: Accounts
    results: Results = field(default_factory=Results)
    book: AppointmentBook | None = None
    # Per numbered script: the first request number its next run uses.
    next_number: dict[str, int] = field(default_factory=dict)

    def rounds(self, deployment: Deployment, plan: list[tuple[Measurement, int]],
               patients: int) -> None:
        """A warm-up of every row, then ``--rounds`` rounds of the plan in order (baselines
        first), so that drift on a shared machine hits baselines and targets alike."""
        if self.args.warmup > 0:
            progress(f"warm-up ({self.args.warmup:g} s each)")
            token = login(deployment.api.url, self.accounts)
            for measurement, connections in plan:
                self.measure(deployment, measurement, connections, patients, WARMUP_ROUND,
                             token, self.args.warmup)
        for number in range(1, self.args.rounds + 1):
            progress(f"round {number} of {self.args.rounds} ({deployment.workers} worker(s), "
                     f"{patients:,} patients)")
            token = login(deployment.api.url, self.accounts)
            for measurement, connections in plan:
                self.measure(deployment, measurement, connections, patients, number, token,
                             self.args.duration)

    def measure(self, deployment: Deployment, measurement: Measurement, connections: int,
                patients: int, round_number: int, token: str, seconds: int) -> Run:
        server = deployment.servers[measurement.server]
        name = (f"{measurement.name}-{connections}c-{deployment.workers}w-{patients}p-"
                f"r{round_number}")
        script = wrk.write_script(self.scripts, name, measurement.lua,
                                  self.lua_params(measurement, connections, patients, token))
        command = wrk.WrkCommand(f"{server.url}{measurement.path}", script, connections,
                                 seconds, threads=self.args.threads,
                                 timeout_seconds=self.args.timeout)
        cpu_before, machine_before = server.cpu_seconds(), machine.CpuSample.take()
        started = time.perf_counter()
        result = wrk.run(self.wrk_path, command)
        window = time.perf_counter() - started
        cpu_after, machine_after = server.cpu_seconds(), machine.CpuSample.take()
        if measurement.numbered and result.last_n >= 0:
            self.next_number[measurement.lua] = result.last_n + 1
        run = Run(measurement, connections, deployment.workers, patients, round_number,
                  result, cpu_after - cpu_before
                  if cpu_before is not None and cpu_after is not None else None,
                  window, machine.busy_cores_between(machine_before, machine_after))
        self.results.runs.append(run)
        progress(f"  {measurement.name:<17}{connections:>3}c  {result.requests_per_s:>8.0f} "
                 f"req/s  p99 {result.latency_ms['p99']:>7.2f} ms  wrk CPU "
                 f"{result.cpu_share_per_thread:>4.0%}"
                 + (f"  FAILED: {'; '.join(run.problems)}" if run.problems else ""))
        return run

    def lua_params(self, measurement: Measurement, connections: int, patients: int,
                   token: str) -> dict[str, Any]:
        params: dict[str, Any] = {
            "method": measurement.method, "path": measurement.path,
            "threads": min(self.args.threads, connections),
            "first": self.next_number.get(measurement.lua, 0),
        }
        if measurement.auth:
            params["token"] = token
        if measurement.lua == "patient_by_id.lua":
            params |= {"patients": patients, "step": _coprime_step(patients)}
        if measurement.lua == "create_appointment.lua":
            if self.book is None:
                raise SetupError("appointments measured without an appointment book")
            params |= self.book.lua_params()
        return params


def plan_for(measurements: Sequence[Measurement], connections: int
             ) -> list[tuple[Measurement, int]]:
    return [(m, level) for m in measurements for level in (m.connections or (connections,))]


def data_scaling_plan(connections: int) -> list[tuple[Measurement, int]]:
    """The rows measured at each smaller data size: by-id and list, and the hello baseline
    so that a reader can tell a slower machine from a slower query."""
    return [(by_name("hello"), connections),
            *((by_name(name), fixed or connections)
              for name, fixed in DATA_SCALING_MEASUREMENTS)]


# --- the run -------------------------------------------------------------------------------

def _raise_on_sigterm(signum: int, _: FrameType | None) -> None:
    # SystemExit unwinds through the finally blocks: the servers are stopped, the database
    # dropped and the temporary directory removed, as on any other exit.
    raise SystemExit(128 + signum)


def load_to(db: Database, accounts: Accounts, loaded: int, size: int,
            facts: dict[str, Any]) -> None:
    if size <= loaded:
        return
    progress(f"loading synthetic patients {loaded:,} to {size:,} ...")
    seconds = asyncio.run(load_patients(db.url, accounts.practice_id, size, first=loaded))
    facts.setdefault("patients_load_seconds", {})[str(size)] = round(seconds, 1)
    progress(f"loaded in {seconds:.1f} s")


def run(args: argparse.Namespace) -> int:
    started_at = datetime.now(UTC)
    try:
        wrk_path = wrk.find_wrk()
    except wrk.WrkError as exc:
        raise SetupError(str(exc)) from exc
    measurements = selected_measurements(args)
    with ExitStack() as cleanup:
        tmp = Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="dermifi-bench-")))
        db = choose_database(args, tmp)
        cleanup.callback(db.drop)
        if args.explain and db.backend != "postgresql":
            raise SetupError("--explain needs PostgreSQL")
        env = server_env(db.url, tmp / "data", args.extra_env)
        facts = machine_facts(db, env, args, wrk_path)
        print_facts(facts)
        if db.backend == "sqlite":
            print(f"{'note':>17}: {SQLITE_NOTE}", flush=True)

        progress("setting up: migrate, practice, admin user ...")
        try:
            accounts = create_accounts(env)
        except (RuntimeError, subprocess.SubprocessError) as exc:
            raise SetupError(str(exc)) from exc
        scripts = tmp / "wrk"
        scripts.mkdir()
        bench = Bench(args, wrk_path, scripts, accounts)
        data_sizes = args.data_sizes if needs_patients(measurements) else [0]

        deployments = Deployments(env, db.url, tmp, bench.results)
        cleanup.callback(deployments.close)

        loaded = 0
        for size in data_sizes[:-1]:  # --scaling: the smaller sizes, by-id and list only
            load_to(db, accounts, loaded, size, facts)
            loaded = size
            bench.rounds(deployments.use(args.worker_counts[0]),
                         data_scaling_plan(args.connections), size)
        load_to(db, accounts, loaded, data_sizes[-1], facts)
        loaded = data_sizes[-1]
        explained = explain(db, accounts) if args.explain else []

        plan = plan_for(measurements, args.connections)
        for workers in args.worker_counts:
            deployment = deployments.use(workers)
            if bench.book is None and any(m.name == "appt_create" for m in measurements):
                bench.book = create_appointment_book(
                    deployment.api.url, login(deployment.api.url, accounts))
            bench.rounds(deployment, plan, loaded)
        deployments.close()

    return report(args, bench.results, facts, explained, loaded, data_sizes, started_at,
                  db, deployments.logs)


def explain(db: Database, accounts: Accounts) -> list[dict[str, Any]]:
    progress("explaining the patient list and search queries ...")
    return asyncio.run(explain_queries(db.url, accounts.practice_id))


def report(args: argparse.Namespace, results: Results, facts: dict[str, Any],
           explained: list[dict[str, Any]], patients: int, data_sizes: Sequence[int],
           started_at: datetime, db: Database,
           server_logs: dict[tuple[ServerName, int], str]) -> int:
    if explained:
        print("\nServer-side time of each query a list or search sends (EXPLAIN ANALYZE on "
              "the loaded database, median of the runs, warm cache):")
        print(explain_table(explained))
    groups: dict[tuple[int, int], list[Key]] = {}
    for key in results.measured_keys():
        groups.setdefault((key[2], key[3]), []).append(key)
    print(f"\nMeasured (rounds: {args.rounds}): medians over the rounds, min-max of req/s; "
          "latency at the client (wrk); wrk CPU: share of one core per wrk thread; srv CPU: "
          "the measured server's CPU per request; other cores: CPU used by everything else "
          "on the machine, the database server included")
    for (workers, size), keys in groups.items():
        print(f"\n{workers} server worker(s), {size:,} patients:")
        print(measurements_table(results, keys))
    if len(args.worker_counts) > 1:
        print(f"\nScaling with server processes ({patients:,} patients):")
        print(process_scaling_table(results, args.worker_counts, patients))
    rows = verdicts(results, connections=args.connections, workers=args.worker_counts,
                    patients=patients, data_sizes=data_sizes if args.scaling else [patients])
    print("\nTargets (issue 11): ratio = median over the rounds of the target's req/s over "
          "its baseline's in the same round")
    print(targets_table(rows))
    if results.baseline_peak_rss_mib:
        print("baseline peak RSS per worker: " + ", ".join(
            f"{name} {'/'.join(f'{v:.0f}' for v in peaks)} MiB"
            for name, peaks in results.baseline_peak_rss_mib.items()))
    print_warnings(results)
    if db.backend == "sqlite":
        print(f"note: {SQLITE_NOTE}")

    failed = results.failed_runs()
    ok = not failed and all(v.passed is not False for v in rows)
    if not args.no_json:
        write_results(args, results, facts, explained, rows, started_at, db, ok)
    if failed:
        print_failures(failed, server_logs)
    missed = [v for v in rows if v.passed is False]
    if missed:
        print(f"\nFAILED: {len(missed)} target(s) missed: "
              + "; ".join(f"{v.target} ({v.workers}w"
                          + (f", {v.connections}c)" if v.connections else ")")
                          for v in missed), file=sys.stderr)
    return 0 if ok else 1


def print_warnings(results: Results) -> None:
    measured = results.measured()
    # Only rows that never reach the database: elsewhere PostgreSQL's own work is "other".
    if any((r.other_cpu_cores or 0) > BUSY_WARNING_CORES for r in measured
           if r.measurement.name in NO_DATABASE_ROWS):
        print("WARNING: other processes used CPU during the rows that do not touch the "
              f"database ({', '.join(NO_DATABASE_ROWS)}; other cores column): the medians "
              "and the in-round ratios soften this, but rerun on a quiet machine before "
              "trusting small differences")
    if any(r.wrk.cpu_share_per_thread > WRK_BUSY_WARNING for r in measured):
        print(f"WARNING: wrk used over {WRK_BUSY_WARNING:.0%} of a core per thread in some "
              "runs: the load generator may have been the limit there (raise --threads)")


def print_failures(failed: list[Run], server_logs: dict[tuple[ServerName, int], str]) -> None:
    print("\nFAILED: some requests were not answered with 2xx (or failed at the socket)",
          file=sys.stderr)
    by_measurement: dict[tuple[str, int, int], list[Run]] = {}
    for run in failed:
        by_measurement.setdefault((run.measurement.name, run.connections, run.workers),
                                  []).append(run)
    for (name, connections, workers), runs in by_measurement.items():
        rounds = ", ".join("warm-up" if r.round == WARMUP_ROUND else f"round {r.round}"
                           for r in runs)
        print(f"  {name} at {connections}c, {workers} worker(s), in {rounds}: "
              f"{problems_of(runs)}", file=sys.stderr)
        for sample in runs[0].wrk.samples[:2]:
            print(f"    {sample[:400]}", file=sys.stderr)
    for server, workers in sorted({(r.measurement.server, r.workers) for r in failed}):
        if tail := server_logs.get((server, workers)):
            lines = "\n".join(line[:300] for line in tail.splitlines()[-LOG_LINES:])
            print(f"{server} ({workers} worker(s)) log, last lines:\n{lines}", file=sys.stderr)


def write_results(args: argparse.Namespace, results: Results, facts: dict[str, Any],
                  explained: list[dict[str, Any]], rows: list[Verdict], started_at: datetime,
                  db: Database, ok: bool) -> None:
    path = RESULTS_DIR / f"{started_at.strftime('%Y%m%dT%H%M%SZ')}.json"
    write_json(path, {
        "started_at": started_at.isoformat(),
        "ok": ok,
        "machine": facts,
        "config": {"backend": db.backend, "workers": args.worker_counts,
                   "connections": args.connections, "threads": args.threads,
                   "duration_s": args.duration, "warmup_s": args.warmup,
                   "rounds": args.rounds, "data_sizes": args.data_sizes,
                   "only": args.only_names, "timeout_s": args.timeout},
        "notes": [NO_MFA_NOTE] + ([SQLITE_NOTE] if db.backend == "sqlite" else []),
        "targets": [v.to_json() for v in rows],
        "summaries": summaries_json(results),
        "peak_rss_mib": results.peak_rss_mib,
        "baseline_peak_rss_mib": results.baseline_peak_rss_mib,
        "runs": [r.to_json() for r in results.runs],
        "explain": explained,
    })
    shown = path.relative_to(PROJECT_ROOT) if path.is_relative_to(PROJECT_ROOT) else path
    print(f"\nresults: {shown}")


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _raise_on_sigterm)
    try:
        return run(args)
    except SetupError as exc:
        print(f"bench setup failed: {exc}", file=sys.stderr)
        return 2
    except RuntimeError as exc:
        print(f"bench aborted: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; servers stopped and temporary data removed", file=sys.stderr)
        return 130
