"""Check digits of a provider's DEA registration number (the NPI's, which pharmacies carry too,
are in ``core.identifiers``).

Pure functions, no I/O: the service calls them and reports every problem at once.
"""

from __future__ import annotations

import re
import unicodedata

DEA_PATTERN = r"^[A-Z]{2}[0-9]{7}$"


# First letter of a DEA registration number: the registrant type. DEA Diversion Control's
# registration record layout lists A/B/F/G (practitioner, hospital/clinic, pharmacy, teaching
# institution; A was the letter before 1985, then B, then F; G also marks DoD contractors),
# M (mid-level practitioner: NP, PA, ...), P/R (manufacturer, distributor, researcher,
# analytical lab, importer, exporter, reverse distributor, narcotic treatment program).
# Letters such as C, D, E, H, J, K, L, S, T, U are *business activity codes* of the same
# record, not number prefixes; X was the DATA-waiver identification number, retired when the
# Consolidated Appropriations Act 2023 ended the waiver, and was never the registration itself.
# A provider prescribes under a practitioner's registration, so only these are accepted:
PRACTITIONER_REGISTRANT_TYPES = frozenset("ABFGM")


def dea_check_digit(six_digits: str) -> int:
    """(d1 + d3 + d5) + 2 * (d2 + d4 + d6), last digit."""
    d = [int(c) for c in six_digits]
    return (d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])) % 10


def surname_initial(last_name: str) -> str | None:
    """The first letter of the last name as the DEA writes it (accents dropped): "Ólafsson" ->
    "O", "O'Brien" -> "O". None for a name with no Latin letter to compare with."""
    folded = unicodedata.normalize("NFKD", last_name)
    for char in folded:
        if "A" <= char.upper() <= "Z" and char.isascii():
            return char.upper()
    return None


def dea_problems(dea: str, *, last_name: str) -> list[str]:
    """Why ``dea`` is not a valid DEA number for a practitioner named ``last_name``."""
    if not re.fullmatch(DEA_PATTERN, dea):
        return ["A DEA number is two capital letters and seven digits"]
    problems = []
    if dea[0] not in PRACTITIONER_REGISTRANT_TYPES:
        problems.append("The first letter is not a practitioner's registrant type (one of "
                        + ", ".join(sorted(PRACTITIONER_REGISTRANT_TYPES)) + ")")
    initial = surname_initial(last_name)
    if initial is not None and dea[1] != initial:
        problems.append("The second letter must be the initial of the last name")
    if dea_check_digit(dea[2:8]) != int(dea[8]):
        problems.append("Not a valid DEA number (check digit)")
    return problems
