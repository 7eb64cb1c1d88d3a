"""Sales: customers, carts and their items, orders and their frozen line items."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from boxoffice.db.base import Base
from boxoffice.db.bytewise import bytewise
from boxoffice.db.types import UTCDateTime
from boxoffice.domain.models.columns import TimestampMixin, now, portable_enum

if TYPE_CHECKING:
    from boxoffice.domain.models.catalog import AddOn, Conference, TicketType, Voucher
    from boxoffice.domain.models.money import Credit, Payment, Refund


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


class Cart(TimestampMixin, Base):
    """One customer's selection for one conference before checkout."""

    __tablename__ = "cart"
    __table_args__ = (Index("ix_cart_customer_conf_status", "customer_id", "conference_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"))
    conference_id: Mapped[int] = mapped_column(ForeignKey("conference.id", ondelete="CASCADE"), index=True)
    status: Mapped[CartStatus] = mapped_column(portable_enum(CartStatus, "cart_status"), default=CartStatus.OPEN)
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
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)

    cart: Mapped[Cart] = relationship(back_populates="items")
    ticket_type: Mapped[TicketType | None] = relationship()
    addon: Mapped[AddOn | None] = relationship()


# orders


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
        # Order search (migrations 0004, 0006): prefix column first (in code-point order, whatever
        # the database's collation), then what the page query filters on.
        Index("ix_order_email_search", bytewise(text("lower(billing_email)")), "conference_id", "created_at",
              "status"),
        Index("ix_order_name_search", bytewise(text("lower(billing_name)")), "conference_id", "created_at",
              "status"),
        Index("ix_order_company_search", bytewise(text("lower(billing_company)")), "conference_id", "created_at",
              "status"),
        Index("ix_order_reference_search", bytewise(text("reference")), "conference_id", "created_at", "status"),
        Index("uq_order_source", "source_system", "source_id", unique=True,
              postgresql_where=text("source_system <> ''"), sqlite_where=text("source_system <> ''")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conference_id: Mapped[int] = mapped_column(ForeignKey("conference.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"))
    status: Mapped[OrderStatus] = mapped_column(
        portable_enum(OrderStatus, "order_status"), default=OrderStatus.PENDING
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
    # Where an imported order came from ("" for the desk's own sales) and its id there.
    source_system: Mapped[str] = mapped_column(String(40), default="", server_default="")
    source_id: Mapped[str] = mapped_column(String(100), default="", server_default="")
    # A hash of the source's rows as last imported: a re-sync skips the orders whose hash is the same.
    source_fingerprint: Mapped[str] = mapped_column(String(64), default="", server_default="")

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
    """Frozen snapshot of one cart line at checkout; only ``cancelled_quantity`` changes afterwards.

    ``cancelled_quantity`` counts the units a lead cancelled (DEC-10): they left the stock counters and
    their attendees are void; the line keeps what was bought.
    """

    __tablename__ = "order_line_item"
    __table_args__ = (
        CheckConstraint("quantity >= 0", name="quantity_nonneg"),
        CheckConstraint("unit_price >= 0", name="unit_price_nonneg"),
        CheckConstraint("discount_amount >= 0", name="discount_nonneg"),
        CheckConstraint("cancelled_quantity >= 0 AND cancelled_quantity <= quantity", name="cancelled_within"),
        Index("ix_order_line_item_order", "order_id"),
        Index("ix_order_line_item_ticket_type", "ticket_type_id"),
        Index("ix_order_line_item_addon", "addon_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id", ondelete="CASCADE"))
    description: Mapped[str] = mapped_column(String(300))
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    cancelled_quantity: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    unit_price: Mapped[Decimal]
    discount_amount: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    line_total: Mapped[Decimal]
    ticket_type_id: Mapped[int | None] = mapped_column(
        ForeignKey("ticket_type.id", ondelete="SET NULL"), default=None
    )
    addon_id: Mapped[int | None] = mapped_column(ForeignKey("addon.id", ondelete="SET NULL"), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    source_id: Mapped[str] = mapped_column(String(100), default="", server_default="")   # imported lines

    order: Mapped[Order] = relationship(back_populates="line_items")
    ticket_type: Mapped[TicketType | None] = relationship()
    addon: Mapped[AddOn | None] = relationship()
