"""NPI and DEA check digits (contract, Providers), as pure functions."""

from __future__ import annotations

import pytest

from dermifi.core.identifiers import luhn_valid, npi_problem
from dermifi.providers.identifiers import dea_check_digit, dea_problems, surname_initial


class TestNpi:
    # 1234567893 is CMS's worked example; the vendor document's 1234567890 and 9876543210 fail
    # the check, and the contract's validation wins over the document's sample numbers.
    @pytest.mark.parametrize("npi", ["1234567893", "9876543213", "1245319599", "1003000126"])
    def test_valid(self, npi: str) -> None:
        assert npi_problem(npi) is None

    @pytest.mark.parametrize("npi", ["1234567890", "9876543210", "1234567894", "1245319598"])
    def test_wrong_check_digit(self, npi: str) -> None:
        assert npi_problem(npi) == "Not a valid NPI (check digit)"

    @pytest.mark.parametrize("npi", ["123456789", "12345678931", "12345678a3", ""])
    def test_not_ten_digits(self, npi: str) -> None:
        assert npi_problem(npi) == "An NPI is 10 digits"

    def test_the_prefix_matters(self) -> None:
        # Without the 80840 prefix 1234567893 fails a plain Luhn check, and 1234567897 passes.
        assert not luhn_valid("1234567893")
        assert luhn_valid("1234567897")
        assert npi_problem("1234567897") is not None

    def test_every_single_digit_error_is_caught(self) -> None:
        valid = "1234567893"
        for position in range(10):
            for digit in "0123456789":
                if digit == valid[position]:
                    continue
                typo = valid[:position] + digit + valid[position + 1:]
                assert npi_problem(typo) is not None, typo


class TestDea:
    def test_check_digit(self) -> None:
        # (1 + 3 + 5) + 2 * (2 + 4 + 6) = 33: the check digit is 3.
        assert dea_check_digit("123456") == 3
        # The classic worked example AP5836727: (5 + 3 + 7) + 2 * (8 + 6 + 2) = 47.
        assert dea_check_digit("583672") == 7

    def test_valid(self) -> None:
        assert dea_problems("BC1234563", last_name="Chen") == []
        assert dea_problems("FJ1234563", last_name="Johnson") == []
        assert dea_problems("MO1234563", last_name="O'Brien") == []

    def test_document_example_fails_its_check_digit(self) -> None:
        assert dea_problems("BC1234567", last_name="Chen") == [
            "Not a valid DEA number (check digit)"]

    def test_second_letter_is_the_last_names_initial(self) -> None:
        assert dea_problems("BX1234563", last_name="Chen") == [
            "The second letter must be the initial of the last name"]

    @pytest.mark.parametrize("letter", ["A", "B", "F", "G", "M"])
    def test_practitioner_registrant_types(self, letter: str) -> None:
        assert dea_problems(f"{letter}C1234563", last_name="Chen") == []

    # P/R: manufacturers, distributors, researchers, treatment programs; X: the retired
    # DATA-waiver number; C, D, E, H, J, K, L, S, T, U: business activity codes, not prefixes.
    @pytest.mark.parametrize("letter", ["P", "R", "X", "C", "D", "E", "H", "Z"])
    def test_other_first_letters(self, letter: str) -> None:
        problems = dea_problems(f"{letter}C1234563", last_name="Chen")
        assert len(problems) == 1
        assert problems[0].startswith("The first letter is not a practitioner's registrant")

    def test_every_problem_at_once(self) -> None:
        assert len(dea_problems("XZ1234567", last_name="Chen")) == 3

    @pytest.mark.parametrize("dea", ["bc1234563", "B11234563", "BC123456", "BC12345630", ""])
    def test_malformed(self, dea: str) -> None:
        assert dea_problems(dea, last_name="Chen") == [
            "A DEA number is two capital letters and seven digits"]

    @pytest.mark.parametrize(("name", "initial"), [
        ("Chen", "C"), ("ólafsson", "O"), ("O'Brien", "O"), ("de la Cruz", "D"),
        ("Ñúñez", "N"), (" 'Smith", "S"), ("李", None)])
    def test_surname_initial(self, name: str, initial: str | None) -> None:
        assert surname_initial(name) == initial

    def test_a_name_without_latin_letters_is_not_compared(self) -> None:
        assert dea_problems("BC1234563", last_name="李") == []
