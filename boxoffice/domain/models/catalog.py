"""The catalogue: conferences, ticket types, add-ons and vouchers."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from boxoffice.db.base import Base
from boxoffice.domain.models.columns import TimestampMixin, portable_enum


class VoucherType(str, enum.Enum):
    COMP = "comp"
    PERCENTAGE = "percentage"
    FIXED_AMOUNT = "fixed_amount"


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
    # What receipts print (PRN-1): the organiser, and a tax line when a rate is set (prices include it)
    # or when the conference states that its prices include tax.
    organiser: Mapped[str] = mapped_column(String(200), default="")
    tax_rate: Mapped[Decimal | None] = mapped_column(Numeric(6, 3), default=None)   # percent, e.g. 19.000
    tax_label: Mapped[str] = mapped_column(String(40), default="VAT")
    prices_include_tax: Mapped[bool] = mapped_column(Boolean, default=False)
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
    # Read at check-in for every holder of this ticket (speaker, minor, VIP): admitting needs a key.
    checkin_note: Mapped[str] = mapped_column(Text, default="", server_default="")

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


    # Handed out at the desk (dinner, t-shirt, workshop seat): check-in shows "used of bought".
    redeemable: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")

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
        portable_enum(VoucherType, "voucher_type"), default=VoucherType.COMP
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
