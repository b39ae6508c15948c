"""Property-based conformance: the real server against its own /v1/openapi.json (schemathesis).

Every check schemathesis has (``--checks all``: no 5xx, status codes, content types, headers
and bodies as documented, schema-valid input accepted, schema-invalid input refused, auth
honoured, Allow headers, ...), over the examples, coverage, fuzzing and stateful phases, as an
admin. Zero failures and zero errors are required, and no warning but `missing_test_data` (see
SCHEMATHESIS_CONFIG); the server may log no error either.

The run is the ``st`` command line in its own process, as a developer would run it; the hooks
in tests/e2e/schemathesis_hooks.py log in (again after a logout revoked the session) and keep
positive cases within the business rules a schema cannot state (strong passwords, real phone
numbers and ICD-10 codes, a current If-Match, ...), each stated in the schema in words.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.server import ServerProcess, dermifi
from tests.support import TEST_PASSWORD

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parents[2]
ADMIN_EMAIL = "st-admin@example.com"
# Fixed, so a failure reproduces; DERMIFI_ST_SEED explores others.
SEED = os.environ.get("DERMIFI_ST_SEED", "20261125")
MAX_EXAMPLES = 10  # per operation and phase; the coverage phase adds its boundary cases

SCHEMATHESIS_CONFIG = f"""\
[generation]
max-examples = {MAX_EXAMPLES}
database = "none"

[warnings]
# Every warning fails the run but `missing_test_data`: that one says an operation was reached
# only with ids that do not exist (404), which is about the depth of the run (links between
# operations), not about the API's conformance; it is still printed.
fail-on = [
  "missing_auth", "base_url_mismatch", "validation_mismatch", "missing_deserializer",
  "unused_openapi_auth", "unsupported_regex", "method_not_allowed", "constants_extraction",
  "unmatched_filter", "unresolvable_reference", "rate_limited", "dictionary_mismatch",
  "timeout_units",
]

[cache]
enabled = false

# The run is an admin's, and only providers and nurses write notes: once the stateful phase
# reaches a real patient, those operations answer 403 by design, which is not missing
# authentication. Every other warning still fails them.
[[operations]]
include-name-regex = '^(POST|PATCH) /v1/patients/[{{]patient_id[}}]/notes'

[operations.warnings]
fail-on = [
  "base_url_mismatch", "validation_mismatch", "missing_deserializer", "unused_openapi_auth",
  "unsupported_regex", "method_not_allowed", "constants_extraction", "unmatched_filter",
  "unresolvable_reference", "rate_limited", "dictionary_mismatch", "timeout_units",
]
"""

# Limits that a fuzzer would meet within seconds; with them the run would be about them.
# Both answers are documented (429 everywhere, 423 on login) and have tests of their own.
LIMITS_OFF = {
    "DERMIFI_RATE_LIMIT": "1000000/minute",
    "DERMIFI_LOGIN_RATE_LIMIT": "1000000/minute",
    # schemathesis learns the admin's email from GET /v1/users and tries it with random
    # passwords: without this it locks the account it is logged in with (423 ACCOUNT_LOCKED).
    "DERMIFI_LOCKOUT_THRESHOLD": "100",
    "DERMIFI_LOCKOUT_WINDOW_SECONDS": "1",
    "DERMIFI_LOCKOUT_DURATION_SECONDS": "1",
}


# PostgreSQL only, unless DERMIFI_ST_ALL_BACKENDS=1. One run over the whole API takes minutes
# (the coverage phase alone sends thousands of requests, and grows with every operation), and
# what it judges - status codes, content types, bodies, validation - is decided above the
# database, the same on both backends. PostgreSQL is the production backend and the stricter
# one (NUL bytes, column types); SQLite's behaviour is covered by the rest of the suite.
BACKENDS = (["sqlite", "postgresql"] if os.environ.get("DERMIFI_ST_ALL_BACKENDS") == "1"
            else ["postgresql"])


@pytest.mark.parametrize("e2e_backend", BACKENDS, indirect=True)
def test_server_conforms_to_its_openapi_schema(server_env: dict[str, str],
                                               tmp_path: Path) -> None:
    env = {**server_env, **LIMITS_OFF}
    dermifi("practice", "create", "--name", "Schemathesis Clinic", env=env)
    dermifi("user", "create", "--email", ADMIN_EMAIL, "--password", TEST_PASSWORD,
            "--role", "admin", env=env)
    config = tmp_path / "schemathesis.toml"
    config.write_text(SCHEMATHESIS_CONFIG)

    with ServerProcess(env, tmp_path / "server.log") as server:
        run = subprocess.run(
            [sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "run",
             f"{server.url}/v1/openapi.json", "--checks", "all", "--seed", SEED,
             # One worker: hypothesis describes strategies with ast.parse, which CPython 3.11
             # can break on when threads do it at once (SystemError: AST constructor ...).
             "--workers", "1", "--no-color"],
            env={
                **os.environ,
                "PYTHONPATH": os.pathsep.join(
                    p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH")) if p),
                "SCHEMATHESIS_HOOKS": "tests.e2e.schemathesis_hooks",
                "DERMIFI_ST_BASE_URL": server.url,
                "DERMIFI_ST_EMAIL": ADMIN_EMAIL,
                "DERMIFI_ST_PASSWORD": TEST_PASSWORD,
            },
            # Nothing (reports, caches) is written into the working tree.
            cwd=tmp_path, capture_output=True, text=True, timeout=1800, check=False,
        )
        server_errors = _server_errors(server.log())

    output = run.stdout + run.stderr
    summary = run.stdout.strip().splitlines()[-1] if run.stdout.strip() else ""
    if run.returncode != 0 or re.search(r"\b(failure|error)s?\b", summary) or server_errors:
        # pytest.fail, not assert: pytest would truncate the report.
        pytest.fail(f"schemathesis (seed {SEED}, exit {run.returncode}):\n{output[-40000:]}\n"
                    "server errors:\n" + "\n".join(server_errors), pytrace=False)


def _server_errors(log: str) -> list[str]:
    """Each distinct error the server logged, by its last line (the exception)."""
    seen: dict[str, None] = {}
    for line in log.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and record.get("level") in {"error", "critical"}:
            exception = str(record.get("exception") or "").strip().splitlines()
            seen[f"{record.get('event')}: {exception[-1] if exception else ''}"[:500]] = None
    return list(seen)
