"""Voucher rules without a database: DEC-8 codes, MOD-VO-3 values, VCH-1 validity, VCH-9 gate, CHK-10."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from boxoffice.domain.models import VoucherType
from boxoffice.domain.vouchers import (
    VoucherTerms,
    check_discount_value,
    hidden_ticket_problem,
    normalize_code,
    validity_problem,
)
from boxoffice.errors import InvalidInput, VoucherExpired, VoucherInvalid

NOW = datetime(2027, 5, 1, 12, 0, tzinfo=UTC)


def test_dec8_codes_are_trimmed_and_upper_cased() -> None:
    assert normalize_code("  spring ") == "SPRING"


@pytest.mark.parametrize("bad", ["", "   ", None, "x" * 101])
def test_dec8_empty_or_absurd_codes_are_invalid_input(bad: object) -> None:
    with pytest.raises(InvalidInput):
        normalize_code(bad)  # type: ignore[arg-type]


def test_mod_vo_3_rejects_negative_and_percentage_above_100() -> None:
    with pytest.raises(InvalidInput):
        check_discount_value(VoucherType.FIXED_AMOUNT, Decimal(-1))
    with pytest.raises(InvalidInput):
        check_discount_value(VoucherType.PERCENTAGE, Decimal("100.01"))
    assert check_discount_value(VoucherType.PERCENTAGE, Decimal(100)) == Decimal("100.00")
    assert check_discount_value(VoucherType.FIXED_AMOUNT, Decimal(150)) == Decimal("150.00")


def _valid(**kw: object) -> VoucherInvalid | None:
    args: dict[str, object] = {"code": "SPRING", "is_active": True, "times_used": 0, "max_uses": 1,
                               "valid_from": None, "valid_until": None, "now": NOW}
    args.update(kw)
    return validity_problem(**args)  # type: ignore[arg-type]


def test_vch1_valid_voucher() -> None:
    assert _valid() is None


def test_vch1_used_up_message() -> None:
    problem = _valid(times_used=1)
    assert isinstance(problem, VoucherExpired)
    assert "Voucher SPRING is used up" in str(problem)


def test_vch1_max_uses_zero_is_never_valid() -> None:
    assert _valid(max_uses=0) is not None


def test_vch1_inactive() -> None:
    assert isinstance(_valid(is_active=False), VoucherInvalid)


def test_vch1_window_ends_are_inclusive() -> None:
    assert _valid(valid_from=NOW, valid_until=NOW) is None
    assert _valid(valid_from=NOW + timedelta(microseconds=1)) is not None
    assert _valid(valid_until=NOW - timedelta(microseconds=1)) is not None


def _terms(unlocks: bool, tickets: frozenset[int] = frozenset()) -> VoucherTerms:
    return VoucherTerms("VIP", VoucherType.PERCENTAGE, Decimal(0), unlocks, tickets, frozenset())


def test_vch9_hidden_ticket_gate() -> None:
    assert "requires a voucher that unlocks hidden tickets" in (hidden_ticket_problem("Speaker", 3, None) or "")
    assert hidden_ticket_problem("Speaker", 3, _terms(False)) is not None
    assert "does not cover" in (hidden_ticket_problem("Speaker", 3, _terms(True, frozenset({4}))) or "")
    assert hidden_ticket_problem("Speaker", 3, _terms(True, frozenset({3}))) is None
    assert hidden_ticket_problem("Speaker", 3, _terms(True)) is None


def test_chk10_snapshot_has_exactly_the_four_keys() -> None:
    data = json.loads(VoucherTerms("SPRING", VoucherType.FIXED_AMOUNT, Decimal(20), True,
                                   frozenset(), frozenset()).details_json())
    assert data == {"code": "SPRING", "voucher_type": "fixed_amount", "discount_value": "20.00",
                    "unlocks_hidden_tickets": True}
