"""Cryptographic primitives: password hashing, JWTs, TOTP, secret sealing. No policy here."""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import hmac
import secrets
from datetime import datetime
from typing import Any

import jwt
import pyotp
from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

JWT_ALGORITHM = "HS256"
TOTP_STEP_SECONDS = 30
TOTP_DIGITS = 6


def constant_time_equals(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


class Passwords:
    """argon2id hashing, run in worker threads: each hash costs tens of ms by design."""

    def __init__(self, *, time_cost: int, memory_kib: int, parallelism: int,
                 max_concurrent: int = 4) -> None:
        self._hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism, type=Type.ID,
        )
        # Bounds memory: each hash holds memory_kib while it runs.
        self._slots = asyncio.Semaphore(max_concurrent)
        self._dummy_hash = self._hasher.hash(secrets.token_urlsafe(16))

    def hash_sync(self, password: str) -> str:
        return self._hasher.hash(password)

    async def hash(self, password: str) -> str:
        async with self._slots:
            return await asyncio.to_thread(self._hasher.hash, password)

    def _verify(self, stored_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(stored_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    async def verify(self, stored_hash: str | None, password: str) -> bool:
        """Verify; with no stored hash, spend the same time and fail (no user enumeration)."""
        async with self._slots:
            if stored_hash is None:
                await asyncio.to_thread(self._verify, self._dummy_hash, password + "x")
                return False
            return await asyncio.to_thread(self._verify, stored_hash, password)

    def needs_rehash(self, stored_hash: str) -> bool:
        return self._hasher.check_needs_rehash(stored_hash)


VERIFIED_TOKENS_KEPT = 4096


class TokenError(Exception):
    """A token that must not be accepted; the message is for logs, never for clients."""


class Tokens:
    def __init__(self, *, secret_key: str, issuer: str, audience: str) -> None:
        self._key = hashlib.sha256(b"dermifi-jwt:" + secret_key.encode()).digest()
        self._issuer = issuer
        self._audience = audience
        # A token's signature and claims never change, so each is checked once per process
        # (every request decoded it twice: rate limiter and authentication, ~0.1 ms each).
        # Only good tokens are kept; expiry is checked on every use, against the caller's
        # clock; revocation is the login session's business, read per request.
        self._verified = functools.lru_cache(maxsize=VERIFIED_TOKENS_KEPT)(self._verify)

    def _verify(self, token: str) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token, self._key, algorithms=[JWT_ALGORITHM], issuer=self._issuer,
                audience=self._audience,
                options={"require": ["exp", "iat", "sub", "jti", "typ", "iss", "aud"],
                         "verify_exp": False, "verify_iat": False, "verify_nbf": False},
            )
        except jwt.PyJWTError as exc:
            raise TokenError(type(exc).__name__) from exc
        return claims

    def encode(self, claims: dict[str, Any]) -> str:
        payload = {"iss": self._issuer, "aud": self._audience, **claims}
        return jwt.encode(payload, self._key, algorithm=JWT_ALGORITHM)

    def decode(self, token: str, *, expected_type: str, now: datetime) -> dict[str, Any]:
        claims = dict(self._verified(token))
        if claims.get("typ") != expected_type:
            raise TokenError("wrong token type")
        # Expiry is checked against the app's clock, not the machine's, so tests can pin time.
        exp = claims["exp"]
        if not isinstance(exp, int | float) or now.timestamp() >= exp:
            raise TokenError("expired")
        return claims


def new_totp_secret() -> str:
    return pyotp.random_base32(length=32)


def totp_uri(secret: str, *, account: str, issuer: str = "Dermifi") -> str:
    return pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_STEP_SECONDS).provisioning_uri(
        name=account, issuer_name=issuer,
    )


def totp_code(secret: str, at: datetime) -> str:
    return pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_STEP_SECONDS).at(at)


def match_totp(secret: str, code: str, at: datetime, *, window: int = 1) -> int | None:
    """The time step (counter) the code belongs to, within ±window steps of ``at``, or None."""
    if len(code) != TOTP_DIGITS or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_STEP_SECONDS)
    current = totp.timecode(at)
    matched: int | None = None
    for step in range(current - window, current + window + 1):
        # Check every candidate so timing does not tell which step matched.
        if constant_time_equals(totp.generate_otp(step), code) and matched is None:
            matched = step
    return matched


class SecretBox:
    """Seals secrets kept at rest (TOTP seeds) with a key derived from the server secret."""

    def __init__(self, secret_key: str) -> None:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                   info=b"dermifi-secret-box").derive(secret_key.encode())
        self._fernet = Fernet(base64.urlsafe_b64encode(key))

    def seal(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken as exc:
            raise ValueError("sealed secret cannot be opened with this key") from exc


def token_fingerprint(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:16]
