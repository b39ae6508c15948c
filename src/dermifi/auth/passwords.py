"""Password policy (NIST SP 800-63B): length, not composition; common passwords refused."""

from __future__ import annotations

from zxcvbn import zxcvbn

MIN_LENGTH = 12
MAX_LENGTH = 128
# zxcvbn's scale: 0-2 are guessable with online or offline attacks of modest size.
MIN_STRENGTH = 3


def password_problems(password: str, *, related: list[str] | None = None) -> list[str]:
    """Why a password is refused, or [] when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return [f"Password must be at least {MIN_LENGTH} characters"]
    if len(password) > MAX_LENGTH:
        return [f"Password must be at most {MAX_LENGTH} characters"]
    # zxcvbn's cost grows with length; the first 64 characters decide whether it is common.
    result = zxcvbn(password[:64], user_inputs=related or [])
    if result["score"] < MIN_STRENGTH:
        return ["Password is too common or too easy to guess"]
    return []
