"""Cart and order pricing (PRC-1..9, VCH-3, DEC-7): Decimal, half-up to the cent, per line."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from boxoffice.domain.models import VoucherType
from boxoffice.domain.vouchers import VoucherTerms
from boxoffice.money import ZERO, quantize, round_half_up

HUNDRED = Decimal(100)


@dataclass(frozen=True)
class PriceInput:
    """One cart line to price: its kind ("ticket"/"addon"), product, unit price and quantity."""

    kind: str
    product_id: int | None
    unit_price: Decimal
    quantity: int


@dataclass(frozen=True)
class PricedLine:
    line_subtotal: Decimal
    discount: Decimal
    line_total: Decimal


@dataclass(frozen=True)
class PriceSummary:
    lines: tuple[PricedLine, ...]
    subtotal: Decimal
    discount: Decimal
    total: Decimal


def line_subtotal(unit_price: Decimal, quantity: int) -> Decimal:
    """MOD-CI-3: unit price × quantity."""
    return quantize(unit_price * quantity)


def percentage_discount(amount: Decimal, percent: Decimal) -> Decimal:
    """PRC-5: percentage of a line total, rounded half-up to the cent (never above the line)."""
    return min(round_half_up(amount * percent / HUNDRED), amount)


def spread_fixed(budget: Decimal, amounts: Sequence[Decimal]) -> list[Decimal]:
    """PRC-7 with the DEC-7 clamp: shares in line order that sum exactly to min(budget, Σ amounts).

    Every share but the last is proportional (half-up); the last takes the remainder; no share
    exceeds its line, and whatever a clamped line cannot take is carried to lines with room left.
    """
    total = sum(amounts, ZERO)
    given = min(quantize(budget), total)  # B of PRC-7
    remaining = given
    shares = [ZERO] * len(amounts)
    if not amounts or remaining <= 0:
        return shares
    last = len(amounts) - 1
    for i, amount in enumerate(amounts):
        if i == last or total == 0:
            share = remaining
        else:
            share = min(round_half_up(given * amount / total), remaining)
        share = min(share, amount)
        shares[i] = share
        remaining -= share
    # Carry what clamped lines could not take to earlier lines that still have room (DEC-7).
    for i, amount in enumerate(amounts):
        if remaining <= 0:
            break
        extra = min(remaining, amount - shares[i])
        shares[i] += extra
        remaining -= extra
    return shares


def price(lines: Sequence[PriceInput], voucher: VoucherTerms | None) -> PriceSummary:
    """PRC-1..9: per-line discounts from the voucher's type and scope, then the totals."""
    subtotals = [line_subtotal(line.unit_price, line.quantity) for line in lines]
    discounts = [ZERO] * len(lines)
    if voucher is not None:
        eligible = [i for i, line in enumerate(lines) if voucher.applies_to(line.kind, line.product_id)]
        if voucher.voucher_type == VoucherType.COMP:
            for i in eligible:
                discounts[i] = subtotals[i]
        elif voucher.voucher_type == VoucherType.PERCENTAGE:
            for i in eligible:
                discounts[i] = percentage_discount(subtotals[i], voucher.discount_value)
        elif voucher.voucher_type == VoucherType.FIXED_AMOUNT:
            shares = spread_fixed(voucher.discount_value, [subtotals[i] for i in eligible])
            for i, share in zip(eligible, shares):
                discounts[i] = share
    priced = tuple(
        PricedLine(line_subtotal=s, discount=d, line_total=s - d) for s, d in zip(subtotals, discounts)
    )
    subtotal = sum(subtotals, ZERO)
    discount = sum(discounts, ZERO)
    return PriceSummary(priced, subtotal, discount, max(subtotal - discount, ZERO))
