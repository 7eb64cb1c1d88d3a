"""money.py: exact round trip to and from Stripe minor units, and operator amount parsing (STR-1)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from boxoffice.money import (
    MAX_AMOUNT,
    ZERO_DECIMAL_CURRENCIES,
    from_minor_units,
    parse_amount,
    quantize,
    to_minor_units,
)

two_place = st.decimals(min_value=0, max_value=MAX_AMOUNT, places=2, allow_nan=False, allow_infinity=False)
currencies = st.sampled_from(["USD", "eur", "GBP", "cad"])
zero_decimal = st.sampled_from(sorted(ZERO_DECIMAL_CURRENCIES) + ["jpy"])


@given(two_place, currencies)
def test_round_trip_two_decimal_STR1(amount: Decimal, currency: str) -> None:
    units = to_minor_units(amount, currency)
    assert isinstance(units, int) and units == int(amount * 100)
    assert from_minor_units(units, currency) == amount


@given(st.integers(min_value=0, max_value=10**12), currencies)
def test_units_round_trip_STR1(units: int, currency: str) -> None:
    assert to_minor_units(from_minor_units(units, currency), currency) == units


@given(st.integers(min_value=0, max_value=10**9), zero_decimal)
def test_zero_decimal_currencies_sent_as_is_STR1(units: int, currency: str) -> None:
    assert to_minor_units(Decimal(units), currency) == units
    assert from_minor_units(units, currency) == Decimal(units)


@given(st.decimals(min_value=0, max_value=10**6, places=3, allow_nan=False, allow_infinity=False), currencies)
def test_finer_than_cents_is_refused_never_rounded(amount: Decimal, currency: str) -> None:
    if amount == amount.quantize(Decimal("0.01")):
        assert from_minor_units(to_minor_units(amount, currency), currency) == amount
    else:
        with pytest.raises(ValueError, match="finer"):
            to_minor_units(amount, currency)


def test_examples_STR1() -> None:
    assert to_minor_units(Decimal("10.00"), "usd") == 1000
    assert to_minor_units(Decimal("0.01"), "USD") == 1
    assert from_minor_units(50, "USD") == Decimal("0.50")
    with pytest.raises(ValueError):
        to_minor_units(Decimal("10.999"), "USD")
    with pytest.raises(ValueError):
        to_minor_units(Decimal("1.9"), "JPY")
    with pytest.raises(TypeError):
        to_minor_units(10.0, "USD")  # type: ignore[arg-type]


@given(two_place)
def test_parse_amount_round_trips_its_own_text(amount: Decimal) -> None:
    assert parse_amount(str(amount)) == amount
    assert parse_amount(f"${amount:,.2f}") == amount
    assert parse_amount(amount) == amount


@given(st.decimals(min_value=-(10**6), max_value=10**6, places=4, allow_nan=False, allow_infinity=False))
def test_parse_amount_accepts_only_non_negative_cents(value: Decimal) -> None:
    if value < 0 or value != quantize(value):
        with pytest.raises(ValueError):
            parse_amount(str(value))
    else:
        assert parse_amount(str(value)) == value


@pytest.mark.parametrize("text", ["", "  ", "abc", "1e999999", "NaN", "Infinity", "100000000.00"])
def test_parse_amount_rejects_garbage(text: str) -> None:
    with pytest.raises(ValueError):
        parse_amount(text)
