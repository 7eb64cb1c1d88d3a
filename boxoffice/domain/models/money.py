"""Money: payments, refunds and store credit, with their methods and states."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from boxoffice.db.base import Base
from boxoffice.db.types import UTCDateTime
from boxoffice.domain.models.columns import TimestampMixin, now, portable_enum

if TYPE_CHECKING:
    from boxoffice.domain.models.catalog import Conference
    from boxoffice.domain.models.sales import Customer, Order
    from boxoffice.domain.models.staff import Staff


class PaymentMethod(str, enum.Enum):
    STRIPE = "stripe"      # card not present (Checkout Session / payment link), confirmed by Stripe
    TERMINAL = "terminal"  # card present at a Stripe Terminal reader
    COMP = "comp"          # zero-value record for free orders
    CREDIT = "credit"      # store credit
    MANUAL = "manual"      # cheque, bank transfer, other money entered by staff
    CASH = "cash"          # [DESK] notes and coins into the drawer (a manual payment with change)
    WEB = "web"            # taken by the web registration system; imported, never handled at the desk


CARD_METHODS = (PaymentMethod.STRIPE, PaymentMethod.TERMINAL)


class PaymentStatus(str, enum.Enum):
    PENDING = "pending"
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REFUNDED = "refunded"
    VOIDED = "voided"      # recorded by mistake and voided by a lead; counts for nothing


class CreditStatus(str, enum.Enum):
    AVAILABLE = "available"
    APPLIED = "applied"
    EXPIRED = "expired"


class RefundMethod(str, enum.Enum):
    CARD = "card"      # back to the card through Stripe (stripe and terminal money)
    CASH = "cash"      # out of the drawer
    CREDIT = "credit"  # store credit instead of money
    MANUAL = "manual"  # back by the way it came (cheque, transfer) recorded by staff
    WEB = "web"        # refunded by the web registration system; imported


class RefundStatus(str, enum.Enum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class Payment(Base):
    """One money movement (or zero-value record) against an order."""

    __tablename__ = "payment"
    __table_args__ = (
        CheckConstraint("amount >= 0", name="amount_nonneg"),
        CheckConstraint("amount_tendered IS NULL OR amount_tendered >= 0", name="tendered_nonneg"),
        CheckConstraint("change_given >= 0", name="change_nonneg"),
        Index("ix_payment_order", "order_id"),
        Index("ix_payment_shift", "shift_id"),
        Index("ix_payment_intent", "stripe_payment_intent_id"),
        Index("ix_payment_charge", "stripe_charge_id"),
        Index("uq_payment_idempotency_key", "idempotency_key", unique=True,
              postgresql_where=text("idempotency_key IS NOT NULL"),
              sqlite_where=text("idempotency_key IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id", ondelete="CASCADE"))
    method: Mapped[PaymentMethod] = mapped_column(
        portable_enum(PaymentMethod, "payment_method"), default=PaymentMethod.STRIPE
    )
    status: Mapped[PaymentStatus] = mapped_column(
        portable_enum(PaymentStatus, "payment_status"), default=PaymentStatus.SUCCEEDED
    )
    amount: Mapped[Decimal]
    stripe_payment_intent_id: Mapped[str] = mapped_column(String(200), default="")
    stripe_charge_id: Mapped[str] = mapped_column(String(200), default="")
    reference: Mapped[str] = mapped_column(String(200), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    # [DESK] cash: what the customer handed over and the change given back (amount = applied).
    amount_tendered: Mapped[Decimal | None] = mapped_column(default=None)
    change_given: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    # [FIX ORD-5] the credit a credit payment drew on, so a cancel restores exactly that credit.
    credit_id: Mapped[int | None] = mapped_column(ForeignKey("credit.id", ondelete="SET NULL"), default=None)
    # Card attempts: the idempotency key derived from and stored with the local attempt.
    idempotency_key: Mapped[str | None] = mapped_column(String(200), default=None)
    card_brand: Mapped[str] = mapped_column(String(40), default="")
    card_last4: Mapped[str] = mapped_column(String(4), default="")
    failure_reason: Mapped[str] = mapped_column(Text, default="")
    # Card attempts: the parameters first sent under each idempotency key and the keys in use (JSON).
    stripe_request: Mapped[str] = mapped_column(Text, default="", server_default="")
    # the cash drawer shift a cash payment went into
    shift_id: Mapped[int | None] = mapped_column(ForeignKey("cash_shift.id", ondelete="SET NULL"), default=None)

    order: Mapped[Order] = relationship(back_populates="payments")
    created_by: Mapped[Staff | None] = relationship()
    credit: Mapped[Credit | None] = relationship(foreign_keys=[credit_id])

    def __str__(self) -> str:
        return f"{self.method.value} {self.amount}"


class Refund(Base):
    """[DEC-1] A refund of its own: amount, method, status, Stripe id, reason, operator."""

    __tablename__ = "refund"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_pos"),
        Index("ix_refund_order", "order_id"),
        Index("ix_refund_shift", "shift_id"),
        Index("ix_refund_stripe_id", "stripe_refund_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id", ondelete="CASCADE"))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payment.id", ondelete="SET NULL"), default=None)
    amount: Mapped[Decimal]
    method: Mapped[RefundMethod] = mapped_column(portable_enum(RefundMethod, "refund_method"))
    status: Mapped[RefundStatus] = mapped_column(
        portable_enum(RefundStatus, "refund_status"), default=RefundStatus.SUCCEEDED
    )
    stripe_refund_id: Mapped[str] = mapped_column(String(200), default="")
    idempotency_key: Mapped[str | None] = mapped_column(String(200), default=None, unique=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    credit_id: Mapped[int | None] = mapped_column(ForeignKey("credit.id", ondelete="SET NULL"), default=None)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    # the cash drawer shift a cash refund was paid out of
    shift_id: Mapped[int | None] = mapped_column(ForeignKey("cash_shift.id", ondelete="SET NULL"), default=None)

    order: Mapped[Order] = relationship(back_populates="refunds")
    payment: Mapped[Payment | None] = relationship()
    credit: Mapped[Credit | None] = relationship(foreign_keys=[credit_id])
    created_by: Mapped[Staff | None] = relationship()


class Credit(TimestampMixin, Base):
    """Store credit of one customer for one conference; remaining never negative."""

    __tablename__ = "credit"
    __table_args__ = (
        CheckConstraint("amount >= 0", name="amount_nonneg"),
        CheckConstraint("remaining_amount >= 0", name="remaining_nonneg"),
        CheckConstraint("remaining_amount <= amount", name="remaining_le_amount"),
        Index("ix_credit_customer_conf", "customer_id", "conference_id"),
        Index("ix_credit_source_order", "source_order_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"))
    conference_id: Mapped[int] = mapped_column(ForeignKey("conference.id", ondelete="CASCADE"))
    amount: Mapped[Decimal]
    remaining_amount: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    status: Mapped[CreditStatus] = mapped_column(
        portable_enum(CreditStatus, "credit_status"), default=CreditStatus.AVAILABLE
    )
    applied_to_order_id: Mapped[int | None] = mapped_column(
        ForeignKey("order.id", ondelete="SET NULL"), default=None
    )
    source_order_id: Mapped[int | None] = mapped_column(
        ForeignKey("order.id", ondelete="SET NULL"), default=None
    )
    note: Mapped[str] = mapped_column(Text, default="")
    expires_at: Mapped[datetime | None] = mapped_column(default=None)  # [DEC-3]

    customer: Mapped[Customer] = relationship()
    conference: Mapped[Conference] = relationship()
    applied_to_order: Mapped[Order | None] = relationship(
        foreign_keys=[applied_to_order_id], back_populates="applied_credits"
    )
    source_order: Mapped[Order | None] = relationship(
        foreign_keys=[source_order_id], back_populates="issued_credits"
    )

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # MOD-CR-2: an available credit created without a balance starts with its face value.
        status = kwargs.get("status", CreditStatus.AVAILABLE)
        if status == CreditStatus.AVAILABLE and not kwargs.get("remaining_amount"):
            self.remaining_amount = kwargs.get("amount", Decimal("0.00"))
        self.status = status
