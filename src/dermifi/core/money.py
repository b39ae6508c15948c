"""Exact money. Amounts are ``Decimal`` in Python, exact in the database (``MoneyColumn``)
and a JSON number with at most two decimals on the wire (``fields.Money``). Arithmetic runs on
unrounded ``Decimal`` values and is rounded half-up to cents once, at the end."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
# NUMERIC(12, 2): ten digits before the point. Far above any clinic's order.
LARGEST = Decimal("9999999999.99")


def round_to_cents(value: Decimal) -> Decimal:
    """Half away from zero, as invoices round: 2.345 to 2.35, -2.345 to -2.35."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def exact_cents(value: Decimal) -> Decimal:
    """``value`` as a whole number of cents, refusing what would be lost by storing it: more
    than two decimals (round first, on purpose), floats, and amounts beyond the column."""
    if not isinstance(value, Decimal) or not value.is_finite():
        raise TypeError("money is a finite Decimal, never a float")
    cents = value.quantize(CENT)
    if cents != value:
        raise ValueError("money has at most two decimals; round with round_to_cents first")
    if abs(cents) > LARGEST:
        raise ValueError("money beyond NUMERIC(12, 2)")
    return cents
