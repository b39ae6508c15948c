"""One account per email however it is spelled: NFKC and casefolding when the account is made
and when it logs in, so a look-alike (the Kelvin sign U+212A for ``k``, full-width letters)
can neither sign up beside an account nor reach another one than the email names."""

from __future__ import annotations

import httpx
import pytest

from dermifi.core.errors import Conflict
from dermifi.core.fields import normalize_email
from dermifi.core.state import AppState
from dermifi.practices.models import Practice
from tests.factories.users import make_user
from tests.support import TEST_PASSWORD

KELVIN = "\u212a"


@pytest.mark.parametrize(("spelled", "stored"), [
    (f"{KELVIN}ate@clinic.example.org", "kate@clinic.example.org"),
    ("KATE@Clinic.Example.ORG", "kate@clinic.example.org"),
    ("\uff4bate@clinic.example.org", "kate@clinic.example.org"),  # full-width k
    ("  kate@clinic.example.org ", "kate@clinic.example.org"),
])
def test_spellings_of_one_email(spelled: str, stored: str) -> None:
    assert normalize_email(spelled) == stored


async def test_a_look_alike_cannot_make_a_second_account(
    state: AppState, practice: Practice,
) -> None:
    await make_user(state, practice_id=practice.id, email="kate@clinic.example.org")
    with pytest.raises(Conflict):
        await make_user(state, practice_id=practice.id,
                        email=f"{KELVIN}ate@clinic.example.org")


async def test_login_compares_the_normalised_spelling(
    anon_client: httpx.AsyncClient, state: AppState, practice: Practice,
) -> None:
    created = await make_user(state, practice_id=practice.id,
                              email=f"{KELVIN}ate@clinic.example.org")
    assert created.user.email == "kate@clinic.example.org"
    for spelled in ("kate@clinic.example.org", f"{KELVIN}ATE@clinic.example.org"):
        answer = await anon_client.post("/v1/auth/login", json={
            "email": spelled, "password": TEST_PASSWORD})
        assert answer.status_code == 200, answer.text
        assert answer.json()["user"]["id"] == created.user.id
