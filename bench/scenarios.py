"""What is measured. To bench another endpoint, append a ``Scenario`` to ``SCENARIOS``.

Scenarios are looked up by name inside the load processes, so factories must be plain
module-level functions (they are never pickled, but they must exist at import time there).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass(frozen=True)
class Context:
    """Everything a factory may need; built once by the parent and sent to each load process."""

    port: int
    email: str
    password: str
    access_token: str | None = None
    # Values a scenario's ``setup`` produced (ids of rows to read, and so on), by name.
    values: Mapping[str, str] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        # Built from the port alone: the load generator can target nothing but loopback.
        return f"http://127.0.0.1:{self.port}"


BodyFactory = Callable[[Context, int], Any]
HeadersFactory = Callable[[Context, int], dict[str, str]]
# Runs once in the parent before the scenario, with a client already pointed at the server;
# returns values merged into ``Context.values``.
Setup = Callable[[httpx.Client, Context], dict[str, str]]


@dataclass(frozen=True)
class Scenario:
    name: str
    method: str
    path: str
    description: str
    body: BodyFactory | None = None  # JSON body for the i-th request
    headers: HeadersFactory | None = None
    auth: bool = False  # send ``Authorization: Bearer <token of one login>``
    # Fraction of ``--requests`` this scenario issues: expensive endpoints get fewer.
    requests_scale: float = 1.0
    setup: Setup | None = None
    baseline: bool = False  # the reference the others' overhead is measured against
    needs_patients: bool = False  # load the synthetic patients (--patients) before the run

    def requests_for(self, requests: int) -> int:
        return max(1, round(requests * self.requests_scale))


def login_body(ctx: Context, _: int) -> dict[str, str]:
    return {"email": ctx.email, "password": ctx.password}


SCENARIOS: list[Scenario] = [
    Scenario("noop", "GET", "/_bench/noop", "middleware stack + routing, no handler work",
             baseline=True),
    Scenario("healthz", "GET", "/healthz", "liveness probe (a pydantic response model)"),
    # argon2id at the deployment's cost is the point of this endpoint, hence a tenth of the
    # requests: at the RFC 9106 defaults each verify takes tens of ms of a core.
    Scenario("login", "POST", "/v1/auth/login",
             "argon2id verify + session, refresh token and audit rows written",
             body=login_body, requests_scale=0.1),
    Scenario("users_me", "GET", "/v1/users/me",
             "bearer token decoded and its session row read on every request", auth=True),
]


def pick_patient(client: httpx.Client, _: Context) -> dict[str, str]:
    """Any one patient of the loaded set, found through the API itself."""
    response = client.get("/v1/patients", params={"search": "rivera", "limit": 1})
    response.raise_for_status()
    return {"patient_id": response.json()["data"][0]["id"]}


# Searches over the synthetic set (bench/patients_data.py): a surname held by about 0.1% of
# patients, a fragment in about 2% (John, Johnny, Johnson, Johnston, ...), phone digits.
SCENARIOS += [
    Scenario("pat_list", "GET", "/v1/patients?limit=20",
             "first page by last name, exact total (audited read)", auth=True,
             needs_patients=True),
    Scenario("pat_surname", "GET", "/v1/patients?search=rivera&limit=20",
             "substring search, selective surname", auth=True, needs_patients=True),
    Scenario("pat_broad", "GET", "/v1/patients?search=john&limit=20",
             "substring search matching ~2% of patients, exact total", auth=True,
             needs_patients=True),
    Scenario("pat_phone", "GET", "/v1/patients?search=415200&limit=20",
             "phone search by digits", auth=True, needs_patients=True),
    Scenario("pat_get", "GET", "/v1/patients/{patient_id}",
             "one chart with computed fields (audited read)", auth=True,
             needs_patients=True, setup=pick_patient),
]


def by_name(name: str) -> Scenario:
    for scenario in SCENARIOS:
        if scenario.name == name:
            return scenario
    raise KeyError(name)
