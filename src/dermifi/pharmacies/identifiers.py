"""The check digit of a pharmacy's NCPDP Provider ID (the former NABP number).

Pure functions, no I/O, like ``providers.identifiers`` (whose NPI check a pharmacy's NPI uses).
"""

from __future__ import annotations

import re

NCPDP_PATTERN = r"^[0-9]{7}$"


def ncpdp_check_digit(six_digits: str) -> int:
    """NCPDP's rule: the digits in positions 1, 3 and 5, plus twice those in 2, 4 and 6; the
    last digit of that sum is the seventh digit."""
    d = [int(c) for c in six_digits]
    return (d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])) % 10


def ncpdp_problem(ncpdp_id: str) -> str | None:
    """Why ``ncpdp_id`` is not a valid NCPDP Provider ID, or None."""
    if not re.fullmatch(NCPDP_PATTERN, ncpdp_id):
        return "An NCPDP ID is 7 digits"
    if ncpdp_check_digit(ncpdp_id[:6]) != int(ncpdp_id[6]):
        return "Not a valid NCPDP ID (check digit)"
    return None
