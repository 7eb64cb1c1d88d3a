"""What the order services return: plain, frozen views of an order, its lines, payments and refunds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

# How an order flagged after an oversell (DEC-14) starts its attention note.
OVERSOLD_MARK = "Oversold: needs a lead."


@dataclass(frozen=True)
class OrderSummary:
    id: int
    reference: str
    status: str
    customer_id: int
    billing_name: str
    billing_email: str
    billing_company: str
    subtotal: Decimal
    discount: Decimal
    total: Decimal
    paid: Decimal
    balance: Decimal
    refunded: Decimal
    created_at: datetime
    hold_expires_at: datetime | None
    needs_attention: str
    disputed: bool

    @property
    def oversold(self) -> bool:
        """Card money came in after the hold lapsed and the stock was sold: a lead admits or refunds."""
        return self.status == "pending" and OVERSOLD_MARK in self.needs_attention


@dataclass(frozen=True)
class OrderLineView:
    id: int
    kind: str  # "ticket" | "addon"
    product_id: int | None
    description: str
    quantity: int
    unit_price: Decimal
    discount: Decimal
    line_total: Decimal
    cancelled: int = 0  # units a lead cancelled (DEC-10); ``quantity`` still says what was bought

    @property
    def live(self) -> int:
        return self.quantity - self.cancelled


@dataclass(frozen=True)
class PaymentView:
    id: int
    method: str
    status: str
    amount: Decimal
    amount_tendered: Decimal | None
    change_given: Decimal
    reference: str
    note: str
    operator_name: str
    card_brand: str
    card_last4: str
    credit_id: int | None
    created_at: datetime


@dataclass(frozen=True)
class RefundView:
    id: int
    method: str
    status: str
    amount: Decimal
    reason: str
    stripe_refund_id: str
    operator_name: str
    credit_id: int | None
    created_at: datetime


@dataclass(frozen=True)
class OrderCreditView:
    """A store credit seen from one order: drawn on to pay it, or issued by refunding it."""

    id: int
    amount: Decimal
    remaining: Decimal
    status: str
    used_here: Decimal  # Σ credit payments of this order drawn on it (0 for issued credits)
    expires_at: datetime | None
    note: str


@dataclass(frozen=True)
class OrderDetail:
    summary: OrderSummary
    conference_id: int
    voucher_code: str
    lines: tuple[OrderLineView, ...]
    payments: tuple[PaymentView, ...]
    refunds: tuple[RefundView, ...]
    credits_applied: tuple[OrderCreditView, ...]
    credits_issued: tuple[OrderCreditView, ...]
