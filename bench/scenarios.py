"""What is measured (``MEASUREMENTS``) and the bars the measurements are held to (``TARGETS``).

A measurement is one endpoint on one server, driven by one Lua request file (bench/lua/); it
runs once per round at each of its connection counts. A target compares a measurement with
its baseline measured in the same round (a ratio of requests/s) and/or holds its latency to
a bound; issue 11 sets the bars.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ServerName = Literal["dermifi", "hello", "one_row"]


@dataclass(frozen=True)
class Measurement:
    name: str  # what --only and the results call it
    server: ServerName
    method: str
    path: str  # for patient_by_id, the prefix the patient's id is appended to
    description: str
    lua: str = "static.lua"  # the request file in bench/lua/
    auth: bool = False  # Authorization: Bearer <the admin's token>
    # None: at --connections. The list bars are set at 1 and at 32 connections.
    connections: tuple[int, ...] | None = None
    # The list and search bars are set at 1,000,000 patients: measured with --million (or
    # when named in --only).
    at_million_only: bool = False
    # Writes number their requests, from where the previous run of the same script stopped.
    numbered: bool = False
    # Statuses that are the API working, not failing: counted and reported apart.
    tolerated_statuses: tuple[str, ...] = ()
    baseline: bool = False

    @property
    def shown(self) -> str:
        return f"{self.method} {self.path}{'{id}' if self.lua == 'patient_by_id.lua' else ''}"


LIST_CONNECTIONS = (1, 32)

MEASUREMENTS: list[Measurement] = [
    # Baselines first: each round runs them, then the targets, in this order.
    Measurement("hello", "hello", "GET", "/", "bare FastAPI: a small JSON object",
                baseline=True),
    Measurement("one_row", "one_row", "GET", "/patients/",
                "bare FastAPI + asyncpg: one patient row by primary key",
                lua="patient_by_id.lua", baseline=True),
    Measurement("healthz", "dermifi", "GET", "/healthz",
                "liveness probe through the whole middleware stack"),
    Measurement("noop_auth", "dermifi", "GET", "/_bench/noop-auth",
                "bearer token checked (CurrentUser), nothing else", auth=True),
    Measurement("pat_get", "dermifi", "GET", "/v1/patients/",
                "one chart: authenticated, authorized, audited, computed fields",
                lua="patient_by_id.lua", auth=True),
    Measurement("pat_create", "dermifi", "POST", "/v1/patients",
                "register a new patient (validation, uniqueness, number, audit)",
                lua="create_patient.lua", auth=True, numbered=True),
    Measurement("appt_create", "dermifi", "POST", "/v1/appointments",
                "book a free slot (hours, overlap checks, audit)",
                lua="create_appointment.lua", auth=True, numbered=True,
                tolerated_statuses=("409",)),
    Measurement("pat_list", "dermifi", "GET", "/v1/patients?limit=20",
                "first page by last name, with the exact total", auth=True,
                connections=LIST_CONNECTIONS, at_million_only=True),
    # A surname held by about 0.1% of the synthetic patients, and a fragment in about 2%
    # (John, Johnny, Johnson, Johnston, ...): bench/patients_data.py.
    Measurement("pat_search", "dermifi", "GET", "/v1/patients?search=rivera&limit=20",
                "substring search, a selective surname", auth=True,
                connections=LIST_CONNECTIONS, at_million_only=True),
    Measurement("pat_search_broad", "dermifi", "GET", "/v1/patients?search=john&limit=20",
                "substring search matching ~2% of patients, with the exact total", auth=True,
                connections=LIST_CONNECTIONS, at_million_only=True),
]


def by_name(name: str) -> Measurement:
    for measurement in MEASUREMENTS:
        if measurement.name == name:
            return measurement
    raise KeyError(name)


# --- the bars ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Target:
    measurement: str
    baseline: str | None = None  # requests/s as a ratio of this one's, in the same round
    min_ratio: float | None = None
    # Latency bounds, each at a connection count: (percentile, milliseconds, connections).
    # connections None: at --connections.
    latency_bound: tuple[str, float, int | None] | None = None


TARGETS: list[Target] = [
    Target("healthz", baseline="hello", min_ratio=0.60),
    Target("noop_auth", baseline="hello", min_ratio=0.60),
    Target("pat_get", baseline="one_row", min_ratio=0.50, latency_bound=("p99", 50.0, None)),
    Target("pat_create"),  # reported, no bar
    Target("appt_create"),  # reported, no bar; the 409s apart
    *(Target(name, latency_bound=bound)
      for name in ("pat_list", "pat_search", "pat_search_broad")
      for bound in (("p95", 50.0, 1), ("p99", 100.0, 32))),
]

# Peak resident memory of each server worker (VmHWM) after the run; issue 11 sets it after
# the 1,000,000-patient run.
MAX_WORKER_PEAK_MIB = 200.0
# --scaling: requests/s of these at every data size within this of each other
# (the fastest at most 1.2 times the slowest). pat_list at the 32-connection level.
DATA_SCALING_MEASUREMENTS = (("pat_get", None), ("pat_list", 32))
MAX_DATA_SCALING_SPREAD = 0.20
