"""Schemathesis hooks for tests/e2e/test_schemathesis.py, loaded by the ``st`` process through
``SCHEMATHESIS_HOOKS``; it reads the server and the admin's credentials from the environment.

Authentication: every generated case that calls an operation with a security requirement
gets an access token from a login of its own. ``POST /v1/auth/logout`` revokes the session it
is called with, so a shared token would turn every later case into a 401 that says nothing
about the operation under test; a session per case keeps the cases independent. Cases that
schemathesis sends without (or with broken) credentials on purpose are left alone by it.

Password policy: ``POST /v1/users`` refuses a password that is long enough but common or easy
to guess (zxcvbn; NIST SP 800-63B), with 400 ``VALIDATION_ERROR``. JSON Schema cannot state
that rule (the schema describes it in words), so a positive case, which schemathesis
expects to be accepted, gets a strong password in place of one the server's own policy
function refuses. Negative cases are sent exactly as generated.
"""

from __future__ import annotations

import os
from typing import Any

import httpx
import schemathesis
from schemathesis import GenerationMode

from dermifi.auth.passwords import password_problems

BASE_URL_ENV = "DERMIFI_ST_BASE_URL"
EMAIL_ENV = "DERMIFI_ST_EMAIL"
PASSWORD_ENV = "DERMIFI_ST_PASSWORD"  # noqa: S105 - the name of a variable
STRONG_PASSWORD = "umber-kestrel-orbit-harbour-93"  # noqa: S105 - a test value


@schemathesis.auth(refresh_interval=None)  # no caching: get() runs for every case
class FreshAdminLogin:
    def get(self, case: schemathesis.Case, ctx: schemathesis.AuthContext) -> str | None:
        if not ctx.operation.definition.raw.get("security"):
            return None  # public operation: send it as generated
        response = httpx.post(
            f"{os.environ[BASE_URL_ENV]}/v1/auth/login",
            json={"email": os.environ[EMAIL_ENV], "password": os.environ[PASSWORD_ENV]},
            timeout=30,
        )
        if response.status_code != 200:
            raise RuntimeError(f"admin login failed: {response.status_code} {response.text}")
        token: Any = response.json()["accessToken"]
        return str(token)

    def set(self, case: schemathesis.Case, data: str, ctx: schemathesis.AuthContext) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@schemathesis.hook("map_case").apply_to(method="POST", path="/v1/users")
def strong_password_for_positive_cases(ctx: schemathesis.HookContext,
                                       case: schemathesis.Case) -> schemathesis.Case:
    body = case.body
    if (case.meta is None or case.meta.generation.mode != GenerationMode.POSITIVE
            or not isinstance(body, dict) or not isinstance(body.get("password"), str)):
        return case
    related = [str(body.get(key) or "") for key in ("email", "firstName", "lastName")]
    if password_problems(body["password"].strip(), related=related):
        case.body = {**body, "password": STRONG_PASSWORD}
    return case
