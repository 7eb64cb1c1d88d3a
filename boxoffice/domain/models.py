"""Mapped classes of the registration domain (the seed's twelve models plus the desk's own)."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from boxoffice.db.base import Base
from boxoffice.db.types import UTCDateTime
from boxoffice.timeutil import SystemClock

_clock = SystemClock()


def _now() -> datetime:
    return _clock.now()


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    """Store the lower-case value, as a VARCHAR with a CHECK (portable to SQLite and PostgreSQL)."""
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=24,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now, onupdate=_now)


# --------------------------------------------------------------------------- enums


class CartStatus(str, enum.Enum):
    OPEN = "open"
    CHECKED_OUT = "checked_out"
    EXPIRED = "expired"
    ABANDONED = "abandoned"


class OrderStatus(str, enum.Enum):
    PENDING = "pending"
    PAID = "paid"
    REFUNDED = "refunded"
    PARTIALLY_REFUNDED = "partially_refunded"
    CANCELLED = "cancelled"


SETTLED_STATUSES = (OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED)


class VoucherType(str, enum.Enum):
    COMP = "comp"
    PERCENTAGE = "percentage"
    FIXED_AMOUNT = "fixed_amount"


class PaymentMethod(str, enum.Enum):
    STRIPE = "stripe"      # card not present (Checkout Session / payment link), confirmed by Stripe
    TERMINAL = "terminal"  # card present at a Stripe Terminal reader
    COMP = "comp"          # zero-value record for free orders
    CREDIT = "credit"      # store credit
    MANUAL = "manual"      # cheque, bank transfer, other money entered by staff
    CASH = "cash"          # [DESK] notes and coins into the drawer (a manual payment with change)


CARD_METHODS = (PaymentMethod.STRIPE, PaymentMethod.TERMINAL)


class PaymentStatus(str, enum.Enum):
    PENDING = "pending"
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REFUNDED = "refunded"
    VOIDED = "voided"      # [ISSUE 6] recorded by mistake and voided by a lead; counts for nothing


class CreditStatus(str, enum.Enum):
    AVAILABLE = "available"
    APPLIED = "applied"
    EXPIRED = "expired"


class RefundMethod(str, enum.Enum):
    CARD = "card"      # back to the card through Stripe (stripe and terminal money)
    CASH = "cash"      # out of the drawer
    CREDIT = "credit"  # store credit instead of money
    MANUAL = "manual"  # back by the way it came (cheque, transfer) recorded by staff


class RefundStatus(str, enum.Enum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class CaptureStatus(str, enum.Enum):
    AUTHORIZED = "authorized"
    CAPTURED = "captured"
    CANCELLED = "cancelled"
    FAILED = "failed"


# --------------------------------------------------------------------------- people


class Conference(TimestampMixin, Base):
    """The event being sold; holds the settings the rules read (capacity, zone, currency, holds)."""

    __tablename__ = "conference"
    __table_args__ = (
        CheckConstraint("total_capacity >= 0", name="capacity_nonneg"),
        CheckConstraint("cart_expiry_minutes > 0", name="cart_expiry_pos"),
        CheckConstraint("hold_minutes > 0", name="hold_pos"),
        CheckConstraint("tickets_sold >= 0 AND tickets_held >= 0", name="counters_nonneg"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    total_capacity: Mapped[int] = mapped_column(Integer, default=0)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    start_date: Mapped[str] = mapped_column(String(10), default="")  # ISO date, local to the venue
    end_date: Mapped[str] = mapped_column(String(10), default="")
    venue: Mapped[str] = mapped_column(String(200), default="")
    website_url: Mapped[str] = mapped_column(String(300), default="")
    reference_prefix: Mapped[str] = mapped_column(String(20), default="ORD")
    cart_expiry_minutes: Mapped[int] = mapped_column(Integer, default=30)
    hold_minutes: Mapped[int] = mapped_column(Integer, default=15)
    stripe_publishable_key: Mapped[str] = mapped_column(String(200), default="")
    # Secret keys live in the OS keychain, never in the database (see stripe_sync.gateway).
    # Running totals of ticket units (add-ons excluded) in settled and held orders (CAP-1).
    tickets_sold: Mapped[int] = mapped_column(Integer, default=0)
    tickets_held: Mapped[int] = mapped_column(Integer, default=0)

    ticket_types: Mapped[list[TicketType]] = relationship(
        back_populates="conference", cascade="all, delete-orphan", passive_deletes=True
    )
    addons: Mapped[list[AddOn]] = relationship(
        back_populates="conference", cascade="all, delete-orphan", passive_deletes=True
    )
    vouchers: Mapped[list[Voucher]] = relationship(
        back_populates="conference", cascade="all, delete-orphan", passive_deletes=True
    )

    def __str__(self) -> str:
        return self.name


class Customer(TimestampMixin, Base):
    """The attendee who buys (the seed's "user"); email optional for anonymous walk-up sales."""

    __tablename__ = "customer"
    __table_args__ = (
        Index("ix_customer_email_lower", text("lower(email)")),
        Index("ix_customer_name_lower", text("lower(name)")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str | None] = mapped_column(String(254), default=None)
    company: Mapped[str] = mapped_column(String(200), default="")
    is_anonymous: Mapped[bool] = mapped_column(Boolean, default=False)

    def __str__(self) -> str:
        return self.name or self.email or f"Walk-up #{self.id}"


class Staff(TimestampMixin, Base):
    """A staff member operating a desk; recorded as ``created_by`` on payments and refunds."""

    __tablename__ = "staff"

    __table_args__ = (
        CheckConstraint("role IN ('volunteer', 'lead', 'admin')", name="role_known"),
        CheckConstraint("secret_kind IN ('', 'pin', 'password')", name="secret_kind_known"),
        CheckConstraint("failed_attempts >= 0", name="failed_attempts_nonneg"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # [ISSUE 6] sign-in: role, a scrypt hash of the PIN (volunteers) or password (leads, admins)
    # as "scrypt$n$r$p$salt_hex$hash_hex", and the lockout state after repeated failures.
    role: Mapped[str] = mapped_column(String(16), default="volunteer", server_default="volunteer")
    secret_kind: Mapped[str] = mapped_column(String(16), default="", server_default="")
    secret_hash: Mapped[str] = mapped_column(String(300), default="", server_default="")
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)

    def __str__(self) -> str:
        return self.name


class AuditEntry(Base):
    """[ISSUE 6] One sensitive action: who (and who approved it), what, on what, amounts, desk.

    Append-only: database triggers refuse UPDATE and DELETE. Written by the services in the
    same transaction as the change it records (``services/audit.py: record``).
    """

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_at", "at"),
        Index("ix_audit_action_at", "action", "at"),
        Index("ix_audit_actor_at", "actor_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now)
    desk: Mapped[str] = mapped_column(String(100), default="")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"), default=None)
    actor_name: Mapped[str] = mapped_column(String(200), default="")
    actor_role: Mapped[str] = mapped_column(String(16), default="")
    approver_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff.id", ondelete="SET NULL"), default=None
    )
    approver_name: Mapped[str] = mapped_column(String(200), default="")
    action: Mapped[str] = mapped_column(String(60))
    target_type: Mapped[str] = mapped_column(String(60), default="")
    target_id: Mapped[int | None] = mapped_column(Integer, default=None)
    target_label: Mapped[str] = mapped_column(String(300), default="")
    amount_before: Mapped[Decimal | None] = mapped_column(default=None)
    amount_after: Mapped[Decimal | None] = mapped_column(default=None)
    detail: Mapped[str] = mapped_column(Text, default="")   # JSON object of further before/after values


class CashShift(Base):
    """[ISSUE 6] A desk's cash drawer from opening float to counted close.

    Cash payments and cash refunds taken while it is open point at it (``shift_id``). At most
    one open shift per desk (partial unique index). ``expected_cash`` is stored at close.
    """

    __tablename__ = "cash_shift"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'closed')", name="status_known"),
        CheckConstraint("opening_float >= 0", name="float_nonneg"),
        CheckConstraint("counted_cash IS NULL OR counted_cash >= 0", name="counted_nonneg"),
        CheckConstraint("status = 'open' OR closed_at IS NOT NULL", name="closed_has_time"),
        Index("uq_cash_shift_open_desk", "desk_name", unique=True,
              postgresql_where=text("status = 'open'"), sqlite_where=text("status = 'open'")),
        Index("ix_cash_shift_desk_opened", "desk_name", "opened_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    desk_name: Mapped[str] = mapped_column(String(100))
    conference_id: Mapped[int | None] = mapped_column(
        ForeignKey("conference.id", ondelete="SET NULL"), default=None
    )
    status: Mapped[str] = mapped_column(String(16), default="open")
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now)
    opened_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff.id", ondelete="SET NULL"), default=None
    )
    opening_float: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    closed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff.id", ondelete="SET NULL"), default=None
    )
    expected_cash: Mapped[Decimal | None] = mapped_column(default=None)
    counted_cash: Mapped[Decimal | None] = mapped_column(default=None)
    note: Mapped[str] = mapped_column(Text, default="")


# --------------------------------------------------------------------------- catalogue

addon_requires_ticket_type = Table(
    "addon_requires_ticket_type",
    Base.metadata,
    Column("addon_id", ForeignKey("addon.id", ondelete="CASCADE"), primary_key=True),
    Column("ticket_type_id", ForeignKey("ticket_type.id", ondelete="CASCADE"), primary_key=True),
)

voucher_ticket_type = Table(
    "voucher_ticket_type",
    Base.metadata,
    Column("voucher_id", ForeignKey("voucher.id", ondelete="CASCADE"), primary_key=True),
    Column("ticket_type_id", ForeignKey("ticket_type.id", ondelete="CASCADE"), primary_key=True),
)

voucher_addon = Table(
    "voucher_addon",
    Base.metadata,
    Column("voucher_id", ForeignKey("voucher.id", ondelete="CASCADE"), primary_key=True),
    Column("addon_id", ForeignKey("addon.id", ondelete="CASCADE"), primary_key=True),
)


class _CatalogItem:
    """The columns a ticket type and an add-on share: what it is, its price, window and stock."""

    id: Mapped[int] = mapped_column(primary_key=True)
    conference_id: Mapped[int] = mapped_column(ForeignKey("conference.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    price: Mapped[Decimal]
    available_from: Mapped[datetime | None] = mapped_column(default=None)
    available_until: Mapped[datetime | None] = mapped_column(default=None)
    total_quantity: Mapped[int] = mapped_column(Integer, default=0)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    order: Mapped[int] = mapped_column(Integer, default=0)
    # Units in settled orders, and in pending orders that carry a hold (live or lapsed); kept
    # up to date in the same transaction as every order status change (services/order_state.py).
    sold_quantity: Mapped[int] = mapped_column(Integer, default=0)
    held_quantity: Mapped[int] = mapped_column(Integer, default=0)


class TicketType(_CatalogItem, TimestampMixin, Base):
    """A purchasable ticket category of one conference (total_quantity 0 = unlimited)."""

    __tablename__ = "ticket_type"
    __table_args__ = (
        UniqueConstraint("conference_id", "slug"),
        CheckConstraint("price >= 0", name="price_nonneg"),
        CheckConstraint("total_quantity >= 0", name="total_nonneg"),
        CheckConstraint("limit_per_user >= 0", name="limit_nonneg"),
        CheckConstraint('"order" >= 0', name="order_nonneg"),
        CheckConstraint("sold_quantity >= 0 AND held_quantity >= 0", name="counters_nonneg"),
    )

    limit_per_user: Mapped[int] = mapped_column(Integer, default=10)
    requires_voucher: Mapped[bool] = mapped_column(Boolean, default=False)

    conference: Mapped[Conference] = relationship(back_populates="ticket_types")
    available_addons: Mapped[list[AddOn]] = relationship(
        secondary=addon_requires_ticket_type, back_populates="requires_ticket_types"
    )

    def __str__(self) -> str:
        return f"{self.name}"


class AddOn(_CatalogItem, TimestampMixin, Base):
    """An optional extra (workshop, t-shirt); empty requires_ticket_types = no prerequisite."""

    __tablename__ = "addon"
    __table_args__ = (
        UniqueConstraint("conference_id", "slug"),
        CheckConstraint("price >= 0", name="price_nonneg"),
        CheckConstraint("total_quantity >= 0", name="total_nonneg"),
        CheckConstraint('"order" >= 0', name="order_nonneg"),
        CheckConstraint("sold_quantity >= 0 AND held_quantity >= 0", name="counters_nonneg"),
    )


    conference: Mapped[Conference] = relationship(back_populates="addons")
    requires_ticket_types: Mapped[list[TicketType]] = relationship(
        secondary=addon_requires_ticket_type, back_populates="available_addons"
    )

    def __str__(self) -> str:
        return f"{self.name}"


class Voucher(TimestampMixin, Base):
    """A discount and/or access code; codes are stored upper-case, unique per conference."""

    __tablename__ = "voucher"
    __table_args__ = (
        UniqueConstraint("conference_id", "code"),
        CheckConstraint("discount_value >= 0", name="discount_nonneg"),
        CheckConstraint(
            "voucher_type <> 'percentage' OR discount_value <= 100", name="percentage_max_100"
        ),
        CheckConstraint("max_uses >= 0", name="max_uses_nonneg"),
        CheckConstraint("times_used >= 0", name="times_used_nonneg"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conference_id: Mapped[int] = mapped_column(ForeignKey("conference.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(100))
    voucher_type: Mapped[VoucherType] = mapped_column(
        _enum(VoucherType, "voucher_type"), default=VoucherType.COMP
    )
    discount_value: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    max_uses: Mapped[int] = mapped_column(Integer, default=1)
    times_used: Mapped[int] = mapped_column(Integer, default=0)
    valid_from: Mapped[datetime | None] = mapped_column(default=None)
    valid_until: Mapped[datetime | None] = mapped_column(default=None)
    unlocks_hidden_tickets: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)

    conference: Mapped[Conference] = relationship(back_populates="vouchers")
    applicable_ticket_types: Mapped[list[TicketType]] = relationship(secondary=voucher_ticket_type)
    applicable_addons: Mapped[list[AddOn]] = relationship(secondary=voucher_addon)

    def __str__(self) -> str:
        return self.code


# --------------------------------------------------------------------------- cart


class Cart(TimestampMixin, Base):
    """One customer's selection for one conference before checkout."""

    __tablename__ = "cart"
    __table_args__ = (Index("ix_cart_customer_conf_status", "customer_id", "conference_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"))
    conference_id: Mapped[int] = mapped_column(ForeignKey("conference.id", ondelete="CASCADE"), index=True)
    status: Mapped[CartStatus] = mapped_column(_enum(CartStatus, "cart_status"), default=CartStatus.OPEN)
    voucher_id: Mapped[int | None] = mapped_column(
        ForeignKey("voucher.id", ondelete="SET NULL"), default=None
    )
    expires_at: Mapped[datetime | None] = mapped_column(default=None)

    customer: Mapped[Customer] = relationship()
    conference: Mapped[Conference] = relationship()
    voucher: Mapped[Voucher | None] = relationship()
    items: Mapped[list[CartItem]] = relationship(
        back_populates="cart", cascade="all, delete-orphan", order_by="CartItem.id"
    )


class CartItem(Base):
    """One line of a cart: exactly one of ticket type or add-on."""

    __tablename__ = "cart_item"
    __table_args__ = (
        CheckConstraint(
            "(ticket_type_id IS NOT NULL AND addon_id IS NULL) OR "
            "(ticket_type_id IS NULL AND addon_id IS NOT NULL)",
            name="exactly_one_product",
        ),
        CheckConstraint("quantity >= 0", name="quantity_nonneg"),
        UniqueConstraint("cart_id", "ticket_type_id"),
        UniqueConstraint("cart_id", "addon_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cart_id: Mapped[int] = mapped_column(ForeignKey("cart.id", ondelete="CASCADE"))
    ticket_type_id: Mapped[int | None] = mapped_column(
        ForeignKey("ticket_type.id", ondelete="CASCADE"), default=None
    )
    addon_id: Mapped[int | None] = mapped_column(ForeignKey("addon.id", ondelete="CASCADE"), default=None)
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now)

    cart: Mapped[Cart] = relationship(back_populates="items")
    ticket_type: Mapped[TicketType | None] = relationship()
    addon: Mapped[AddOn | None] = relationship()


# --------------------------------------------------------------------------- orders


class Order(TimestampMixin, Base):
    """The result of a checkout: line snapshots, totals, reference and inventory hold."""

    __tablename__ = "order"
    __table_args__ = (
        CheckConstraint("subtotal >= 0", name="subtotal_nonneg"),
        CheckConstraint("discount_amount >= 0", name="discount_nonneg"),
        CheckConstraint("total >= 0", name="total_nonneg"),
        Index("ix_order_status_hold", "status", "hold_expires_at"),
        Index("ix_order_customer_conf", "customer_id", "conference_id"),
        Index("ix_order_conf_created", "conference_id", "created_at"),
        # Order search (migration 0004): prefix column first, then what the page query filters on.
        Index("ix_order_email_search", text("lower(billing_email)"), "conference_id", "created_at", "status"),
        Index("ix_order_name_search", text("lower(billing_name)"), "conference_id", "created_at", "status"),
        Index("ix_order_company_search", text("lower(billing_company)"), "conference_id", "created_at", "status"),
        Index("ix_order_reference_search", "reference", "conference_id", "created_at", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conference_id: Mapped[int] = mapped_column(ForeignKey("conference.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"))
    status: Mapped[OrderStatus] = mapped_column(
        _enum(OrderStatus, "order_status"), default=OrderStatus.PENDING
    )
    subtotal: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    discount_amount: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    total: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    voucher_code: Mapped[str] = mapped_column(String(100), default="")
    voucher_details: Mapped[str] = mapped_column(Text, default="")
    billing_name: Mapped[str] = mapped_column(String(200), default="")
    billing_email: Mapped[str] = mapped_column(String(254), default="")
    billing_company: Mapped[str] = mapped_column(String(200), default="")
    reference: Mapped[str] = mapped_column(String(100), unique=True)
    hold_expires_at: Mapped[datetime | None] = mapped_column(default=None)
    # [DESK] staff attention: money received for a cancelled order, an open dispute, ...
    needs_attention: Mapped[str] = mapped_column(Text, default="")
    disputed: Mapped[bool] = mapped_column(Boolean, default=False)

    conference: Mapped[Conference] = relationship()
    customer: Mapped[Customer] = relationship()
    line_items: Mapped[list[OrderLineItem]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderLineItem.id"
    )
    payments: Mapped[list[Payment]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="Payment.id"
    )
    refunds: Mapped[list[Refund]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="Refund.id"
    )
    applied_credits: Mapped[list[Credit]] = relationship(
        foreign_keys="Credit.applied_to_order_id", back_populates="applied_to_order"
    )
    issued_credits: Mapped[list[Credit]] = relationship(
        foreign_keys="Credit.source_order_id", back_populates="source_order"
    )

    def __str__(self) -> str:
        return f"{self.reference} ({self.status.value})"


class OrderLineItem(Base):
    """Frozen snapshot of one cart line at checkout; never edited afterwards."""

    __tablename__ = "order_line_item"
    __table_args__ = (
        CheckConstraint("quantity >= 0", name="quantity_nonneg"),
        CheckConstraint("unit_price >= 0", name="unit_price_nonneg"),
        CheckConstraint("discount_amount >= 0", name="discount_nonneg"),
        Index("ix_order_line_item_order", "order_id"),
        Index("ix_order_line_item_ticket_type", "ticket_type_id"),
        Index("ix_order_line_item_addon", "addon_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id", ondelete="CASCADE"))
    description: Mapped[str] = mapped_column(String(300))
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    unit_price: Mapped[Decimal]
    discount_amount: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    line_total: Mapped[Decimal]
    ticket_type_id: Mapped[int | None] = mapped_column(
        ForeignKey("ticket_type.id", ondelete="SET NULL"), default=None
    )
    addon_id: Mapped[int | None] = mapped_column(ForeignKey("addon.id", ondelete="SET NULL"), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now)

    order: Mapped[Order] = relationship(back_populates="line_items")
    ticket_type: Mapped[TicketType | None] = relationship()
    addon: Mapped[AddOn | None] = relationship()


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
        _enum(PaymentMethod, "payment_method"), default=PaymentMethod.STRIPE
    )
    status: Mapped[PaymentStatus] = mapped_column(
        _enum(PaymentStatus, "payment_status"), default=PaymentStatus.SUCCEEDED
    )
    amount: Mapped[Decimal]
    stripe_payment_intent_id: Mapped[str] = mapped_column(String(200), default="")
    stripe_charge_id: Mapped[str] = mapped_column(String(200), default="")
    reference: Mapped[str] = mapped_column(String(200), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now)
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
    # [ISSUE 6] the cash drawer shift a cash payment went into
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
    method: Mapped[RefundMethod] = mapped_column(_enum(RefundMethod, "refund_method"))
    status: Mapped[RefundStatus] = mapped_column(
        _enum(RefundStatus, "refund_status"), default=RefundStatus.SUCCEEDED
    )
    stripe_refund_id: Mapped[str] = mapped_column(String(200), default="")
    idempotency_key: Mapped[str | None] = mapped_column(String(200), default=None, unique=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    credit_id: Mapped[int | None] = mapped_column(ForeignKey("credit.id", ondelete="SET NULL"), default=None)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now)
    # [ISSUE 6] the cash drawer shift a cash refund was paid out of
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
        _enum(CreditStatus, "credit_status"), default=CreditStatus.AVAILABLE
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


class Attendee(TimestampMixin, Base):
    """One registered person per (customer, conference), created when an order becomes paid (PAY-9)."""

    __tablename__ = "attendee"
    __table_args__ = (UniqueConstraint("customer_id", "conference_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"))
    conference_id: Mapped[int] = mapped_column(ForeignKey("conference.id", ondelete="CASCADE"))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("order.id", ondelete="SET NULL"), default=None)
    access_code: Mapped[str] = mapped_column(String(8), unique=True)
    completed_registration: Mapped[bool] = mapped_column(Boolean, default=False)


# --------------------------------------------------------------------------- Stripe


class StripeCustomer(Base):
    """The Stripe customer of one customer in one conference's Stripe account."""

    __tablename__ = "stripe_customer"
    __table_args__ = (
        UniqueConstraint("customer_id", "conference_id"),
        UniqueConstraint("conference_id", "stripe_customer_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"))
    conference_id: Mapped[int] = mapped_column(ForeignKey("conference.id", ondelete="CASCADE"))
    stripe_customer_id: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now)


class StripeEvent(Base):
    """A Stripe event seen by the desk: the idempotency ledger of event sync."""

    __tablename__ = "stripe_event"
    __table_args__ = (Index("ix_stripe_event_pending", "processed", "stripe_created", "stripe_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    stripe_id: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(200))
    livemode: Mapped[bool] = mapped_column(Boolean, default=False)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    customer_id: Mapped[str] = mapped_column(String(200), default="")
    processed: Mapped[bool] = mapped_column(Boolean, default=False)
    api_version: Mapped[str] = mapped_column(String(50), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now)
    # [DESK] polling: Stripe's own creation time (epoch seconds) orders processing.
    stripe_created: Mapped[int] = mapped_column(Integer, default=0)
    ignored: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(default=None)

    processing_exceptions: Mapped[list[EventProcessingException]] = relationship(
        back_populates="event", passive_deletes=True
    )

    def __str__(self) -> str:
        return f"{self.kind} ({'processed' if self.processed else 'pending'})"


class EventProcessingException(Base):
    """A failure while handling a stored event (append-only)."""

    __tablename__ = "event_processing_exception"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("stripe_event.id", ondelete="SET NULL"), default=None, index=True
    )
    data: Mapped[str] = mapped_column(Text, default="")
    message: Mapped[str] = mapped_column(String(500))
    traceback: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now)

    event: Mapped[StripeEvent | None] = relationship(back_populates="processing_exceptions")


class TerminalPayment(TimestampMixin, Base):
    """Card-present detail of one terminal Payment (reader, capture status, card brand/last 4)."""

    __tablename__ = "terminal_payment"

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payment.id", ondelete="CASCADE"), unique=True)
    conference_id: Mapped[int] = mapped_column(ForeignKey("conference.id", ondelete="CASCADE"))
    terminal_id: Mapped[str] = mapped_column(String(200), default="")
    reader_id: Mapped[str] = mapped_column(String(200), default="")
    payment_intent_id: Mapped[str] = mapped_column(String(200), index=True)
    capture_status: Mapped[CaptureStatus] = mapped_column(
        _enum(CaptureStatus, "capture_status"), default=CaptureStatus.AUTHORIZED
    )
    captured_at: Mapped[datetime | None] = mapped_column(default=None)
    cancelled_at: Mapped[datetime | None] = mapped_column(default=None)
    card_brand: Mapped[str] = mapped_column(String(40), default="")
    card_last4: Mapped[str] = mapped_column(String(4), default="")
    receipt_url: Mapped[str] = mapped_column(String(500), default="")

    payment: Mapped[Payment] = relationship()


class SyncState(Base):
    """Small key/value rows: the event-sync cursor, the poller lease, and the like."""

    __tablename__ = "sync_state"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_now, onupdate=_now)


__all__ = [
    "AddOn", "Attendee", "Base", "CARD_METHODS", "CaptureStatus", "Cart", "CartItem", "CartStatus",
    "Conference", "Credit", "CreditStatus", "Customer", "EventProcessingException", "Order",
    "OrderLineItem", "OrderStatus", "Payment", "PaymentMethod", "PaymentStatus", "Refund",
    "RefundMethod", "RefundStatus", "SETTLED_STATUSES", "Staff", "StripeCustomer", "StripeEvent",
    "SyncState", "TerminalPayment", "TicketType", "Voucher", "VoucherType",
]
