"""Pricing rules PRC-1..9, VCH-3/7/8 and DEC-7, with exact Decimal examples from the spec."""

from __future__ import annotations

from decimal import Decimal

import pytest

from boxoffice.domain.models import VoucherType
from boxoffice.domain.pricing import PriceInput, percentage_discount, price, spread_fixed
from boxoffice.domain.vouchers import VoucherTerms

D = Decimal


def terms(kind: VoucherType, value: str = "0", *, tickets: set[int] = frozenset(),  # type: ignore[assignment]
          addons: set[int] = frozenset()) -> VoucherTerms:  # type: ignore[assignment]
    return VoucherTerms("CODE", kind, D(value), False, frozenset(tickets), frozenset(addons))


def ticket(pid: int, unit: str, qty: int = 1) -> PriceInput:
    return PriceInput("ticket", pid, D(unit), qty)


def addon(pid: int, unit: str, qty: int = 1) -> PriceInput:
    return PriceInput("addon", pid, D(unit), qty)


def test_prc2_empty_cart_is_all_zero() -> None:
    summary = price([], terms(VoucherType.COMP))
    assert summary.lines == ()
    assert (summary.subtotal, summary.discount, summary.total) == (D("0.00"), D("0.00"), D("0.00"))


def test_prc3_prc4_subtotal_without_voucher() -> None:
    summary = price([ticket(1, "100.00", 2), addon(1, "25.50", 3)], None)
    assert summary.subtotal == D("276.50")
    assert summary.discount == D("0.00")
    assert summary.total == D("276.50")
    assert [ln.line_total for ln in summary.lines] == [D("200.00"), D("76.50")]


@pytest.mark.parametrize(
    ("amount", "percent", "expected"),
    [("12.25", "10", "1.23"), ("0.50", "50", "0.25"), ("10.00", "33.33", "3.33"), ("0.05", "50", "0.03")],
)
def test_prc5_percentage_rounds_half_up_per_line(amount: str, percent: str, expected: str) -> None:
    assert percentage_discount(D(amount), D(percent)) == D(expected)


def test_prc5_percentage_applies_to_line_total_not_unit() -> None:
    # 50 % of a 2 x 0.25 line is 0.25 (per unit would give 0.26).
    summary = price([ticket(1, "0.25", 2)], terms(VoucherType.PERCENTAGE, "50"))
    assert summary.lines[0].discount == D("0.25")


def test_prc5_three_lines_at_33_33_percent_give_9_99() -> None:
    summary = price([ticket(1, "10.00"), ticket(2, "10.00"), ticket(3, "10.00")],
                    terms(VoucherType.PERCENTAGE, "33.33"))
    assert [ln.discount for ln in summary.lines] == [D("3.33")] * 3
    assert summary.discount == D("9.99")
    assert summary.total == D("20.01")


def test_prc6_comp_discounts_every_applicable_line_fully() -> None:
    summary = price([ticket(1, "100.00", 10), addon(7, "20.00")], terms(VoucherType.COMP))
    assert summary.total == D("0.00")
    assert [ln.line_total for ln in summary.lines] == [D("0.00"), D("0.00")]


@pytest.mark.parametrize(
    ("budget", "amounts", "expected"),
    [
        ("80.00", ["100.00", "300.00"], ["20.00", "60.00"]),
        ("25.00", ["100.00", "25.00"], ["20.00", "5.00"]),
        ("10.00", ["10.00", "10.00", "10.00"], ["3.33", "3.33", "3.34"]),
        ("1000.00", ["10.00"], ["10.00"]),
    ],
)
def test_prc7_fixed_amount_examples(budget: str, amounts: list[str], expected: list[str]) -> None:
    assert spread_fixed(D(budget), [D(a) for a in amounts]) == [D(e) for e in expected]


def test_prc7_dec7_tiny_lines_never_go_negative_and_sum_exactly() -> None:
    # The source gives 0.00, 0.00, 0.00, 0.00, 0.02 (last line negative); DEC-7 clamps and carries.
    shares = spread_fixed(D("0.02"), [D("0.01")] * 5)
    assert sum(shares) == D("0.02")
    assert all(D("0.00") <= s <= D("0.01") for s in shares)


def test_dec7_clamped_last_line_carries_back_to_earlier_lines() -> None:
    shares = spread_fixed(D("10.00"), [D("9.99"), D("0.02")])
    assert shares == [D("9.98"), D("0.02")]
    assert sum(shares) == D("10.00")


def test_prc7_fixed_amount_only_over_eligible_lines_in_cart_order() -> None:
    lines = [ticket(1, "100.00"), addon(5, "50.00"), ticket(2, "300.00")]
    summary = price(lines, terms(VoucherType.FIXED_AMOUNT, "80.00", tickets={1, 2}, addons={99}))
    assert [ln.discount for ln in summary.lines] == [D("20.00"), D("0.00"), D("60.00")]
    assert summary.total == D("370.00")


def test_vch7_ticket_scope_does_not_restrict_addons() -> None:
    # Restricted to ticket 1 with an empty add-on scope: every add-on is still discounted.
    summary = price([ticket(1, "100.00"), ticket(2, "100.00"), addon(3, "20.00")],
                    terms(VoucherType.PERCENTAGE, "10", tickets={1}))
    assert [ln.discount for ln in summary.lines] == [D("10.00"), D("0.00"), D("2.00")]


def test_vch8_voucher_applies_to_all_units() -> None:
    summary = price([ticket(1, "100.00", 10)], terms(VoucherType.COMP))
    assert summary.discount == D("1000.00")


def test_vch3_fixed_amount_with_no_eligible_line_gives_nothing() -> None:
    summary = price([ticket(1, "100.00")], terms(VoucherType.FIXED_AMOUNT, "10", tickets={2}))
    assert summary.discount == D("0.00")
    assert summary.total == D("100.00")


def test_prc8_prc9_line_total_and_order_total() -> None:
    summary = price([ticket(1, "40.00"), addon(2, "10.00")], terms(VoucherType.FIXED_AMOUNT, "45.00"))
    assert all(ln.line_total == ln.line_subtotal - ln.discount for ln in summary.lines)
    assert summary.total == D("5.00")
