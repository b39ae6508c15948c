"""The NPI's check digit: providers and pharmacies both carry a National Provider Identifier.

Pure functions, no I/O.
"""

from __future__ import annotations

import re

NPI_PATTERN = r"^[0-9]{10}$"

# The NPI's check digit is the Luhn check digit of the 9 leading digits prefixed by 80840
# (ISO 7812 health-industry card issuer prefix), CMS "NPI check digit" specification.
NPI_PREFIX = "80840"


def luhn_valid(digits: str) -> bool:
    """The Luhn (mod 10) check over a string of digits whose last digit is the check digit."""
    if not digits.isdigit():
        return False
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def npi_problem(npi: str) -> str | None:
    """Why ``npi`` is not a valid NPI, or None."""
    if not re.fullmatch(NPI_PATTERN, npi):
        return "An NPI is 10 digits"
    if not luhn_valid(NPI_PREFIX + npi):
        return "Not a valid NPI (check digit)"
    return None
