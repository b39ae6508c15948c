"""The NCPDP Provider ID's check digit (pure functions, no database)."""

from __future__ import annotations

import pytest

from dermifi.pharmacies.identifiers import ncpdp_check_digit, ncpdp_problem


@pytest.mark.parametrize(("six", "check"), [
    ("123456", 3),  # (1+3+5) + 2*(2+4+6) = 33
    ("765432", 9),  # (7+5+3) + 2*(6+4+2) = 39
    ("054321", 4),  # (0+4+2) + 2*(5+3+1) = 24
    ("000000", 0),
    ("909090", 7),  # (9+9+9) + 2*0 = 27
    ("090909", 4),  # 0 + 2*(9+9+9) = 54
])
def test_check_digit(six: str, check: int) -> None:
    assert ncpdp_check_digit(six) == check


@pytest.mark.parametrize("valid", ["1234563", "7654329", "0543214", "0000000", "9090907"])
def test_valid_ids(valid: str) -> None:
    assert ncpdp_problem(valid) is None


@pytest.mark.parametrize("wrong_check", ["1234567", "1234564", "7654320", "0543215"])
def test_a_wrong_check_digit(wrong_check: str) -> None:
    assert ncpdp_problem(wrong_check) == "Not a valid NCPDP ID (check digit)"


@pytest.mark.parametrize("malformed", ["", "123456", "12345630", "123456a", "123 563",
                                       "١٢٣٤٥٦٣"])  # Arabic-Indic digits are not digits here
def test_malformed(malformed: str) -> None:
    assert ncpdp_problem(malformed) == "An NCPDP ID is 7 digits"


def test_swapped_neighbours_are_caught() -> None:
    # The weights 1 and 2 catch a swap of two neighbouring digits unless they differ by 5.
    assert ncpdp_problem("2134563") is not None
