"""The one ID generator: a type prefix and 128 random bits, never guessable."""

from __future__ import annotations

import secrets

_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"


def new_id(prefix: str) -> str:
    """Return e.g. ``pat_3k9x...``: 25 base-36 characters carry 128 bits of randomness."""
    number = secrets.randbits(128)
    chars = []
    for _ in range(25):
        number, rem = divmod(number, 36)
        chars.append(_ALPHABET[rem])
    return f"{prefix}_{''.join(chars)}"
