"""Property tests: every priced cart balances to the cent (PRC-3/5/7/9, DEC-7)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from boxoffice.domain.models import VoucherType
from boxoffice.domain.pricing import PriceInput, price, spread_fixed
from boxoffice.domain.vouchers import VoucherTerms

cents = st.integers(min_value=0, max_value=10_000_000).map(lambda c: Decimal(c).scaleb(-2))
lines = st.lists(
    st.builds(PriceInput, st.sampled_from(["ticket", "addon"]), st.integers(1, 5), cents,
              st.integers(1, 999)),
    max_size=8,
)
voucher = st.one_of(
    st.none(),
    st.builds(
        VoucherTerms, st.just("X"), st.sampled_from(list(VoucherType)),
        st.integers(0, 10000).map(lambda c: Decimal(c).scaleb(-2)), st.booleans(),
        st.frozensets(st.integers(1, 5), max_size=3), st.frozensets(st.integers(1, 5), max_size=3),
    ),
)


@given(lines, voucher)
def test_totals_balance_to_the_cent(items: list[PriceInput], terms: VoucherTerms | None) -> None:
    summary = price(items, terms)
    assert summary.subtotal == sum((ln.line_subtotal for ln in summary.lines), Decimal("0.00"))
    assert summary.discount == sum((ln.discount for ln in summary.lines), Decimal("0.00"))
    assert summary.total == sum((ln.line_total for ln in summary.lines), Decimal("0.00"))
    assert summary.total == max(summary.subtotal - summary.discount, Decimal("0.00"))
    for ln in summary.lines:
        assert ln.discount.as_tuple().exponent == -2
        assert Decimal("0.00") <= ln.discount <= ln.line_subtotal
        assert ln.line_total >= 0


@given(st.integers(0, 10_000_000).map(lambda c: Decimal(c).scaleb(-2)), st.lists(cents, max_size=10))
def test_fixed_amount_gives_exactly_min_budget_total(budget: Decimal, amounts: list[Decimal]) -> None:
    shares = spread_fixed(budget, amounts)
    assert sum(shares, Decimal("0.00")) == min(budget, sum(amounts, Decimal("0.00")))
    assert all(Decimal("0.00") <= s <= a for s, a in zip(shares, amounts))
