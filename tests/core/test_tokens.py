"""Access tokens are verified once per process and kept; what is kept never outlives the
token's expiry, and a token that failed verification is never kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest

from dermifi.core.security import TokenError, Tokens

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def _tokens() -> Tokens:
    return Tokens(secret_key="k" * 48, issuer="dermifi", audience="dermifi-api")


def _access(tokens: Tokens, *, ttl: int = 60) -> str:
    issued = int(NOW.timestamp())
    return tokens.encode({"sub": "usr_1", "sid": "ses_1", "prc": "prc_1", "jti": "j1",
                          "typ": "access", "iat": issued, "exp": issued + ttl})


def test_a_kept_token_is_still_refused_once_expired() -> None:
    tokens = _tokens()
    token = _access(tokens, ttl=60)
    assert tokens.decode(token, expected_type="access", now=NOW)["sub"] == "usr_1"
    assert tokens.decode(token, expected_type="access", now=NOW + timedelta(seconds=59))
    with pytest.raises(TokenError, match="expired"):
        tokens.decode(token, expected_type="access", now=NOW + timedelta(seconds=60))


def test_a_kept_token_is_still_refused_as_another_type() -> None:
    tokens = _tokens()
    token = _access(tokens)
    tokens.decode(token, expected_type="access", now=NOW)
    with pytest.raises(TokenError, match="type"):
        tokens.decode(token, expected_type="refresh", now=NOW)


def test_a_forged_token_is_refused_every_time() -> None:
    tokens = _tokens()
    forged = jwt.encode({"sub": "usr_1", "typ": "access"}, "another key " * 4, algorithm="HS256")
    for _ in range(2):
        with pytest.raises(TokenError):
            tokens.decode(forged, expected_type="access", now=NOW)


def test_callers_cannot_change_what_is_kept() -> None:
    tokens = _tokens()
    token = _access(tokens)
    tokens.decode(token, expected_type="access", now=NOW)["sub"] = "usr_admin"
    assert tokens.decode(token, expected_type="access", now=NOW)["sub"] == "usr_1"


def test_a_token_from_another_key_is_not_accepted_by_this_one() -> None:
    mine, theirs = _tokens(), Tokens(secret_key="z" * 48, issuer="dermifi",
                                     audience="dermifi-api")
    token = _access(theirs)
    theirs.decode(token, expected_type="access", now=NOW)  # kept there, not here
    with pytest.raises(TokenError):
        mine.decode(token, expected_type="access", now=NOW)
