"""``python -m bench``: set up a throwaway deployment, load it, report, tear it all down."""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

import httpx

from bench import machine
from bench.explain import explain_queries, explain_table
from bench.load import Job, LoadProcesses, event_loop_name
from bench.patients_data import load_patients
from bench.report import Outcome, table, write_json
from bench.scenarios import SCENARIOS, Context, Scenario
from bench.server import (
    Database,
    ServerProcess,
    dermifi,
    postgres_database,
    server_env,
    sqlite_database,
)

RESULTS_DIR = Path(__file__).resolve().parent / "results"
PROJECT_ROOT = machine.PROJECT_ROOT
QUICK_REQUESTS = 300
QUICK_MAX_SECONDS = 20.0
MAX_WARMUP_SECONDS = 15.0
# Cores used by processes other than ours above which the results are flagged as unreliable.
BUSY_WARNING_CORES = 0.25
# Settings the bench owns: overriding them would defeat the fresh, removed-afterwards database.
RESERVED_ENV = {"DERMIFI_DATABASE_URL", "DERMIFI_DATA_DIR"}
NO_MFA_NOTE = ("login is measured without MFA: a TOTP code is accepted once per 30 s "
               "window, so one user cannot log in repeatedly with codes")


class SetupError(Exception):
    """The deployment under test could not be prepared; nothing was measured."""


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    names = ", ".join(s.name for s in SCENARIOS)
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Load-test the real Dermifi server on 127.0.0.1 and report requests/s and "
                    f"latency percentiles per endpoint. Scenarios: {names}.")
    parser.add_argument("--requests", type=int, default=None, metavar="N",
                        help="requests per cheap endpoint (default 2000; 300 with --quick); "
                             "login gets a tenth, each one being an argon2id verify")
    parser.add_argument("--concurrency", default="16", metavar="N[,N]",
                        help="requests in flight (default 16); several levels, e.g. 16,1, "
                             "measure every scenario at each on the same deployment (1 in "
                             "flight shows latency without queueing)")
    parser.add_argument("--only", metavar="NAME[,NAME]", default="",
                        help=f"run only these scenarios ({names})")
    parser.add_argument("--quick", action="store_true",
                        help=f"smoke run: {QUICK_REQUESTS} requests per endpoint, "
                             f"{QUICK_MAX_SECONDS:.0f} s per endpoint at most")
    parser.add_argument("--postgres", metavar="URL",
                        help="bench on PostgreSQL: a fresh database is created on this server "
                             "(e.g. postgresql://postgres@127.0.0.1:5432/test) and dropped after")
    parser.add_argument("--max-seconds", type=float, default=None, metavar="S",
                        help="time budget per endpoint's measured phase (default 60)")
    parser.add_argument("--warmup", type=int, default=None, metavar="N",
                        help="warm-up requests per endpoint (default: a tenth of the measured "
                             "ones, at least --concurrency)")
    parser.add_argument("--timeout", type=float, default=30.0, metavar="S",
                        help="per-request timeout (default 30)")
    parser.add_argument("--clients", type=int, default=1, metavar="N",
                        help="load-generator processes sharing --concurrency (default 1); raise "
                             "it when 'client CPU' nears 100%% and cores are spare")
    parser.add_argument("--workers", type=int, default=1, metavar="N",
                        help="server processes (dermifi serve --workers; default 1)")
    parser.add_argument("--env", action="append", default=[], metavar="DERMIFI_X=VALUE",
                        help="extra server setting, e.g. DERMIFI_REDIS_URL=redis://127.0.0.1/15 "
                             "(repeatable)")
    parser.add_argument("--no-json", action="store_true", help="do not write bench/results/")
    parser.add_argument("--patients", type=int, default=100_000, metavar="N",
                        help="synthetic patients loaded for the pat_* scenarios "
                             "(default 100000)")
    parser.add_argument("--million", action="store_const", const=1_000_000, dest="patients",
                        help="load 1,000,000 patients instead")
    parser.add_argument("--explain", action="store_true",
                        help="PostgreSQL: after loading the patients, print the server-side "
                             "time of every query each patient list/search shape sends "
                             "(EXPLAIN ANALYZE)")
    args = parser.parse_args(argv)

    try:
        args.concurrency_levels = [int(n) for n in args.concurrency.split(",")]
    except ValueError:
        parser.error(f"--concurrency takes N or N,N,..., not {args.concurrency!r}")
    if args.requests is None:
        args.requests = QUICK_REQUESTS if args.quick else 2000
    if args.max_seconds is None:
        args.max_seconds = QUICK_MAX_SECONDS if args.quick else 60.0
    for name, value in (("--requests", args.requests),
                        ("--concurrency", min(args.concurrency_levels)),
                        ("--clients", args.clients), ("--workers", args.workers)):
        if value < 1:
            parser.error(f"{name} must be at least 1")
    if args.max_seconds <= 0 or args.timeout <= 0:
        parser.error("--max-seconds and --timeout must be positive")
    if args.explain and not args.postgres:
        parser.error("--explain needs --postgres")
    if args.warmup is not None and args.warmup < 0:
        parser.error("--warmup must be 0 or more")
    args.extra_env = {}
    for item in args.env:
        key, sep, value = item.partition("=")
        if not sep or not key.startswith("DERMIFI_"):
            parser.error(f"--env takes DERMIFI_NAME=VALUE, not {item!r}")
        if key in RESERVED_ENV:
            parser.error(f"{key} is set by the bench (a fresh temporary database)")
        args.extra_env[key] = value
    known = {s.name for s in SCENARIOS}
    args.only_names = [n.strip() for n in args.only.split(",") if n.strip()]
    if unknown := [n for n in args.only_names if n not in known]:
        parser.error(f"unknown scenario(s) {', '.join(unknown)}; known: {names}")
    return args


def selected_scenarios(only: list[str]) -> list[Scenario]:
    return [s for s in SCENARIOS if not only or s.name in only]


# --- machine facts -------------------------------------------------------------------------

def _argon2(env: dict[str, str]) -> str:
    from dermifi.core.config import Settings

    def value(name: str) -> str:
        return env.get(f"DERMIFI_{name.upper()}", str(Settings.model_fields[name].default))

    return (f"argon2id t={value('argon2_time_cost')} m={value('argon2_memory_kib')} KiB "
            f"p={value('argon2_parallelism')}")


def machine_facts(db: Database, env: dict[str, str], args: argparse.Namespace) -> dict[str, Any]:
    busy = machine.background_load()
    return {
        "nproc": machine.nproc(),
        "cpu": machine.cpu_model(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "platform": platform.platform(),
        "backend": db.version,
        "dermifi": machine.git_revision() or machine.version("dermifi"),
        "server": (f"uvicorn {machine.version('uvicorn')} ({args.workers} worker"
                   f"{'s' if args.workers > 1 else ''}), fastapi {machine.version('fastapi')}"),
        "password_hashing": _argon2(env),
        "client": (f"httpx {machine.version('httpx')} on {event_loop_name()}, {args.clients} "
                   f"process{'es' if args.clients > 1 else ''}, "
                   f"{' then '.join(map(str, args.concurrency_levels))} in flight"),
        "busy_before_start": (f"{busy:.2f} of {machine.nproc()} cores (load average "
                              f"{machine.load_average()})" if busy is not None
                              else f"load average {machine.load_average()}"),
        "busy_cores_before_start": busy,
        "server_settings": dict(args.extra_env),
    }


def print_facts(facts: dict[str, Any]) -> None:
    for key in ("nproc", "cpu", "python", "platform", "backend", "dermifi", "server",
                "password_hashing", "client", "busy_before_start"):
        print(f"{key.replace('_', ' '):>17}: {facts[key]}")
    for key, value in facts["server_settings"].items():
        print(f"{'--env':>17}: {key}={value}")
    print(f"{'note':>17}: {NO_MFA_NOTE}", flush=True)
    busy = facts["busy_cores_before_start"]
    if busy is not None and busy > BUSY_WARNING_CORES:
        print(f"WARNING: other work keeps {busy:.1f} cores busy; the numbers below will be "
              "low and noisy", flush=True)


# --- setup ---------------------------------------------------------------------------------

def create_accounts(env: dict[str, str]) -> tuple[str, str, str]:
    """One practice and one admin, through the operator's own command line."""
    dermifi("migrate", env=env)
    practice = json.loads(dermifi("practice", "create", "--name", "Bench", env=env).stdout)
    email = f"bench-{secrets.token_hex(4)}@bench.dermifi.test"
    # Random and long, so the password policy (12+ characters, not a common one) accepts it.
    password = secrets.token_urlsafe(16)
    dermifi("user", "create", "--email", email, "--password", password, "--role", "admin",
            env=env)
    return str(practice["id"]), email, password


def login_once(ctx: Context, timeout: float) -> str:
    with httpx.Client(base_url=ctx.base_url, trust_env=False, timeout=timeout) as client:
        response = client.post("/v1/auth/login",
                               json={"email": ctx.email, "password": ctx.password})
    if response.status_code != 200:
        raise SetupError(f"login for the bench token failed: {response.status_code} "
                         f"{response.text[:500]}")
    token = response.json().get("accessToken")
    if not isinstance(token, str):
        raise SetupError("login answered 200 without an accessToken")
    return token


def run_setup_hook(scenario: Scenario, ctx: Context, timeout: float) -> Context:
    if scenario.setup is None:
        return ctx
    headers = {"authorization": f"Bearer {ctx.access_token}"} if ctx.access_token else {}
    with httpx.Client(base_url=ctx.base_url, trust_env=False, timeout=timeout,
                      headers=headers) as client:
        values = scenario.setup(client, ctx)
    return replace(ctx, values={**ctx.values, **values})


# --- measuring -----------------------------------------------------------------------------

def measure(pool: LoadProcesses, server: ServerProcess, scenario: Scenario,
            ctx: Context, args: argparse.Namespace, concurrency: int) -> Outcome:
    planned = scenario.requests_for(args.requests)
    warmup_requests = (args.warmup if args.warmup is not None
                       else min(planned, max(concurrency, planned // 10)))
    print(f"  {scenario.name:<10} warm-up {warmup_requests}, measuring {planned} at "
          f"{concurrency} in flight ({scenario.method} {scenario.path})", file=sys.stderr,
          flush=True)
    job = Job(scenario=scenario.name, ctx=ctx, requests=warmup_requests,
              concurrency=concurrency, max_seconds=min(args.max_seconds, MAX_WARMUP_SECONDS),
              request_timeout=args.timeout)
    warmup = pool.run(job)

    machine_before, cpu_before = machine.CpuSample.take(), server.cpu_seconds()
    started = time.perf_counter()
    measured = pool.run(replace(job, requests=planned, max_seconds=args.max_seconds))
    window = time.perf_counter() - started
    machine_after, cpu_after = machine.CpuSample.take(), server.cpu_seconds()
    server_cpu = (cpu_after - cpu_before
                  if cpu_before is not None and cpu_after is not None else None)
    return Outcome(scenario, planned, measured, warmup, server_cpu, window,
                   machine.busy_cores_between(machine_before, machine_after), concurrency)


# --- the run -------------------------------------------------------------------------------

def _raise_on_sigterm(signum: int, _: FrameType | None) -> None:
    # SystemExit unwinds through the finally blocks: the server is stopped, the database
    # dropped and the temporary directory removed, as on any other exit.
    raise SystemExit(128 + signum)


def run(args: argparse.Namespace) -> int:
    scenarios = selected_scenarios(args.only_names)
    started_at = datetime.now(UTC)
    with ExitStack() as cleanup:
        tmp = Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="dermifi-bench-")))
        if args.postgres:
            try:
                db = postgres_database(args.postgres)
            except Exception as exc:
                raise SetupError(f"cannot create a database on {args.postgres}: {exc}") from exc
            cleanup.callback(db.drop)
        else:
            db = sqlite_database(tmp)
        env = server_env(db.url, tmp / "data", args.extra_env)
        facts = machine_facts(db, env, args)
        print_facts(facts)

        print("setting up: migrate, practice, admin user, server ...", file=sys.stderr,
              flush=True)
        try:
            practice_id, email, password = create_accounts(env)
        except (RuntimeError, subprocess.SubprocessError) as exc:
            raise SetupError(str(exc)) from exc
        if any(s.needs_patients for s in scenarios):
            print(f"loading {args.patients:,} synthetic patients ...", file=sys.stderr,
                  flush=True)
            seconds = asyncio.run(load_patients(db.url, practice_id, args.patients))
            facts["patients_loaded"] = args.patients
            facts["patients_load_seconds"] = round(seconds, 1)
            print(f"loaded in {seconds:.1f} s", file=sys.stderr, flush=True)
        explained: list[dict[str, Any]] = []
        if args.explain:
            print("explaining the patient list and search queries ...", file=sys.stderr,
                  flush=True)
            explained = asyncio.run(explain_queries(db.url, practice_id))
        server = ServerProcess(env, tmp / "server.log", workers=args.workers)
        cleanup.callback(server.stop)
        try:
            server.start()
        except RuntimeError as exc:
            raise SetupError(str(exc)) from exc

        ctx = Context(port=server.port, email=email, password=password)
        if any(s.auth for s in scenarios):
            ctx = replace(ctx, access_token=login_once(ctx, args.timeout))
        pool = cleanup.enter_context(LoadProcesses(args.clients))

        outcomes: list[Outcome] = []
        for level in args.concurrency_levels:
            for scenario in scenarios:
                outcomes.append(measure(pool, server, scenario,
                                        run_setup_hook(scenario, ctx, args.timeout), args, level))
        server_log = server.log_tail()

    if explained:
        print()
        print("Server-side time of each query a list or search sends (EXPLAIN ANALYZE on the "
              "loaded database, median of the runs, warm cache):")
        print(explain_table(explained))
    baselines: dict[int, Outcome] = {}
    for level in args.concurrency_levels:
        at_level = [o for o in outcomes if o.concurrency == level]
        baseline = next((o for o in at_level if o.scenario.baseline), None)
        if baseline is not None:
            baselines[level] = baseline
        print()
        print(f"{level} request{'s' if level > 1 else ''} in flight; latency measured at the "
              "client over 2xx answers; +p50/+CPU are over "
              f"{baseline.scenario.path if baseline else 'no baseline'}; CPU columns are shares "
              "of one core: the server process, the load generator, and everything else on "
              "the machine")
        print(table(at_level, baseline))
    if any(o.measured.hit_time_limit for o in outcomes):
        print(f"* stopped at the {args.max_seconds:.0f} s time limit before all requests were "
              "sent (--max-seconds)")
    if any((o.other_cpu_share or 0) > BUSY_WARNING_CORES for o in outcomes):
        print("WARNING: other processes used CPU during the measurement (other CPU column); "
              "rerun on a quiet machine before comparing these numbers")

    ok = not any(o.errors for o in outcomes)
    if not args.no_json:
        path = RESULTS_DIR / f"{started_at.strftime('%Y%m%dT%H%M%SZ')}.json"
        write_json(path, {
            "started_at": started_at.isoformat(),
            "ok": ok,
            "machine": facts,
            "config": {"requests": args.requests, "concurrency": args.concurrency_levels,
                       "clients": args.clients, "workers": args.workers,
                       "max_seconds": args.max_seconds, "timeout": args.timeout,
                       "quick": args.quick, "only": args.only_names,
                       "backend": db.backend},
            "notes": [NO_MFA_NOTE],
            "results": [o.to_json(baselines.get(o.concurrency)) for o in outcomes],
            "explain": explained,
        })
        shown = path.relative_to(PROJECT_ROOT) if path.is_relative_to(PROJECT_ROOT) else path
        print(f"\nresults: {shown}")

    if not ok:
        print("\nFAILED: some requests were not answered with 2xx", file=sys.stderr)
        for o in outcomes:
            if o.errors:
                print(f"  {o.scenario.name}: measured {dict(o.measured.outcomes)}, "
                      f"warm-up {dict(o.warmup.outcomes)}", file=sys.stderr)
                for sample in (o.measured.error_samples + o.warmup.error_samples)[:3]:
                    print(f"    {sample}", file=sys.stderr)
        if server_log:
            print(f"server log (last lines):\n{server_log}", file=sys.stderr)
        return 1
    return 0


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
        print("interrupted; server stopped and temporary data removed", file=sys.stderr)
        return 130
