"""Exact money on both backends, in arithmetic and on the wire."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
import pytest_asyncio
from pydantic import BaseModel, ValidationError
from sqlalchemy import Column, Integer, MetaData, Table, func, insert, select, text
from sqlalchemy.exc import StatementError

from dermifi.core.db import MoneyColumn
from dermifi.core.fields import Money, MoneyAmount
from dermifi.core.money import round_to_cents
from dermifi.core.state import AppState

ledger = Table("test_money_ledger", MetaData(),
               Column("id", Integer, primary_key=True), Column("amount", MoneyColumn))


@pytest_asyncio.fixture
async def table(state: AppState) -> AsyncIterator[Table]:
    async with state.engine.begin() as conn:
        await conn.run_sync(ledger.create)
    yield ledger
    async with state.engine.begin() as conn:
        await conn.run_sync(ledger.drop)


async def _store(state: AppState, *amounts: Decimal | None) -> None:
    async with state.engine.begin() as conn:
        await conn.execute(insert(ledger), [{"amount": amount} for amount in amounts])


@pytest.mark.parametrize("amount", ["0.01", "0.10", "25.00", "-100.00", "1234567.89",
                                    "9999999999.99", "-9999999999.99", "0.00"])
async def test_amounts_come_back_exactly_with_two_decimals(
        state: AppState, table: Table, amount: str) -> None:
    await _store(state, Decimal(amount))
    async with state.engine.connect() as conn:
        stored = await conn.scalar(select(ledger.c.amount))
    assert stored == Decimal(amount)
    assert isinstance(stored, Decimal)
    assert stored.as_tuple().exponent == -2


async def test_stored_as_exact_numbers_not_binary_floats(state: AppState, table: Table) -> None:
    # Read back, a float and a quantized Decimal look alike; the stored type does not.
    await _store(state, Decimal("19.99"))
    async with state.engine.connect() as conn:
        if state.engine.dialect.name == "sqlite":
            stored = (await conn.execute(text(
                "SELECT typeof(amount), amount FROM test_money_ledger"))).one()
            assert tuple(stored) == ("integer", 1999)
        else:
            stored = (await conn.execute(text(
                "SELECT pg_typeof(amount)::text, amount::text FROM test_money_ledger"))).one()
            assert tuple(stored) == ("numeric", "19.99")


async def test_null_stays_null(state: AppState, table: Table) -> None:
    await _store(state, None)
    async with state.engine.connect() as conn:
        assert await conn.scalar(select(ledger.c.amount)) is None


async def test_sums_in_sql_are_exact(state: AppState, table: Table) -> None:
    # As binary floats, ten dimes are 0.9999999999999999.
    await _store(state, *[Decimal("0.10")] * 10, Decimal("-0.30"), Decimal("0.20"))
    async with state.engine.connect() as conn:
        total = await conn.scalar(select(func.sum(ledger.c.amount)))
    assert total == Decimal("0.90")
    assert isinstance(total, Decimal)


@pytest.mark.parametrize(("amount", "error"), [
    (Decimal("1.005"), ValueError),  # round on purpose, not by accident in the driver
    (Decimal("10000000000.00"), ValueError),  # beyond NUMERIC(12, 2)
    (Decimal("NaN"), TypeError),
    (0.1, TypeError),  # a float is already inexact
])
async def test_what_cannot_be_stored_exactly_is_refused(
        state: AppState, table: Table, amount: object, error: type[Exception]) -> None:
    with pytest.raises(StatementError) as raised:
        await _store(state, amount)  # type: ignore[arg-type]
    assert isinstance(raised.value.orig, error)
    async with state.engine.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(ledger)) == 0


@pytest.mark.parametrize(("value", "rounded"), [
    ("2.345", "2.35"), ("2.344", "2.34"), ("-2.345", "-2.35"), ("0.005", "0.01"),
    ("0.004999", "0.00"), ("100", "100.00"), ("19.999", "20.00"),
])
def test_rounding_is_half_up_to_cents(value: str, rounded: str) -> None:
    result = round_to_cents(Decimal(value))
    assert result == Decimal(rounded)
    assert str(result) == rounded


class Invoice(BaseModel):
    subtotal: MoneyAmount
    insurance: MoneyAmount


class Copay(BaseModel):
    copay: Money


def test_amounts_leave_as_json_numbers() -> None:
    body = json.loads(Invoice(subtotal=Decimal("125.00"),
                              insurance=Decimal("-100.00")).model_dump_json())
    assert body == {"subtotal": 125.0, "insurance": -100.0}
    assert all(isinstance(value, float) for value in body.values())
    assert Invoice(subtotal=Decimal("0.30"), insurance=Decimal("0")).model_dump(
        mode="json") == {"subtotal": 0.3, "insurance": 0.0}


def test_an_unrounded_amount_is_not_answered() -> None:
    with pytest.raises(ValueError, match="two decimals"):
        Invoice(subtotal=Decimal("1.005"), insurance=Decimal("0")).model_dump(mode="json")


@pytest.mark.parametrize(("sent", "kept"), [(25, "25.00"), (1.15, "1.15"), (0.1, "0.10"),
                                            (19.99, "19.99")])
def test_money_in_is_a_number_kept_exactly(sent: float, kept: str) -> None:
    assert str(Copay.model_validate({"copay": sent}).copay) == kept


@pytest.mark.parametrize("sent", ["25", True, 1.155, -1, None])
def test_money_in_refuses_what_is_not_an_amount(sent: object) -> None:
    with pytest.raises(ValidationError):
        Copay.model_validate({"copay": sent})
