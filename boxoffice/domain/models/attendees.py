"""Attendees: one per ticket unit of a settled order, their check-ins and their add-on redemptions."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from boxoffice.db.base import Base
from boxoffice.db.types import UTCDateTime
from boxoffice.domain.models.columns import TimestampMixin, now, portable_enum

if TYPE_CHECKING:
    from boxoffice.domain.models.catalog import TicketType
    from boxoffice.domain.models.sales import Order, OrderLineItem


class AttendeeStatus(str, enum.Enum):
    VALID = "valid"
    VOID = "void"      # its unit or its order was refunded or cancelled: never admitted


class CheckInKind(str, enum.Enum):
    ENTRY = "entry"
    REENTRY = "re-entry"


class Attendee(TimestampMixin, Base):
    """The person holding one ticket unit (ATT-1): own name, email, company and access code.

    ``unit`` numbers the units of the ticket line from 1. The buyer is the first unit's attendee
    unless the desk names someone else (``customer_id`` then still names the buying customer of
    the order). ``source_system``/``source_id`` say where an imported attendee came from, so a
    re-import updates it instead of adding another; ``renamed_at_desk`` keeps a desk rename from
    being overwritten by an import.
    """

    __tablename__ = "attendee"
    __table_args__ = (
        UniqueConstraint("order_line_id", "unit"),
        CheckConstraint("unit >= 1", name="unit_pos"),
        Index("ix_attendee_order", "order_id"),
        Index("ix_attendee_conference_status", "conference_id", "status"),
        Index("uq_attendee_source", "source_system", "source_id", unique=True,
              postgresql_where=text("source_system <> ''"), sqlite_where=text("source_system <> ''")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conference_id: Mapped[int] = mapped_column(ForeignKey("conference.id", ondelete="CASCADE"))
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id", ondelete="CASCADE"))
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_line_item.id", ondelete="CASCADE"))
    unit: Mapped[int] = mapped_column(Integer, default=1)
    ticket_type_id: Mapped[int | None] = mapped_column(
        ForeignKey("ticket_type.id", ondelete="SET NULL"), default=None
    )
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id", ondelete="SET NULL"), default=None)
    name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    company: Mapped[str] = mapped_column(String(200), default="")
    # Upper-case; unique across the database (ATT-2). Web codes are kept exactly as they came.
    access_code: Mapped[str] = mapped_column(String(20), unique=True)
    status: Mapped[AttendeeStatus] = mapped_column(
        portable_enum(AttendeeStatus, "attendee_status"), default=AttendeeStatus.VALID
    )
    note: Mapped[str] = mapped_column(Text, default="")   # needs attention at check-in (CIN-2)
    renamed_at_desk: Mapped[bool] = mapped_column(default=False)
    source_system: Mapped[str] = mapped_column(String(40), default="")
    source_id: Mapped[str] = mapped_column(String(100), default="")

    order: Mapped[Order] = relationship()
    order_line: Mapped[OrderLineItem] = relationship()
    ticket_type: Mapped[TicketType | None] = relationship()
    check_ins: Mapped[list[CheckIn]] = relationship(
        back_populates="attendee", cascade="all, delete-orphan", passive_deletes=True, order_by="CheckIn.id"
    )

    def __str__(self) -> str:
        return f"{self.name or self.access_code} ({self.status.value})"


class AttendeeWord(Base):
    """One searchable word of an attendee (name words, email, company), folded: lower case, no accents.

    Prefix search over any word of a name (ATT-4) is an index range scan on ``(conference_id, word)``.
    Rewritten with the attendee whenever its name, email or company changes.
    """

    __tablename__ = "attendee_word"

    conference_id: Mapped[int] = mapped_column(ForeignKey("conference.id", ondelete="CASCADE"), primary_key=True)
    word: Mapped[str] = mapped_column(String(254), primary_key=True)
    attendee_id: Mapped[int] = mapped_column(ForeignKey("attendee.id", ondelete="CASCADE"), primary_key=True)

    __table_args__ = (Index("ix_attendee_word_attendee", "attendee_id"),)


class CheckIn(Base):
    """One admission (CIN-3): who, when, at which desk, by whom; undone rows stay, marked undone.

    At most one live ``entry`` per attendee (a partial unique index), so two desks scanning the same
    code at once record exactly one entry (CIN-4); a re-entry is a row of its own.
    """

    __tablename__ = "check_in"
    __table_args__ = (
        CheckConstraint("kind IN ('entry', 're-entry')", name="kind_known"),
        Index("uq_check_in_entry", "attendee_id", unique=True,
              postgresql_where=text("kind = 'entry' AND undone_at IS NULL"),
              sqlite_where=text("kind = 'entry' AND undone_at IS NULL")),
        Index("ix_check_in_attendee", "attendee_id"),
        Index("ix_check_in_conference_at", "conference_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    attendee_id: Mapped[int] = mapped_column(ForeignKey("attendee.id", ondelete="CASCADE"))
    conference_id: Mapped[int] = mapped_column(ForeignKey("conference.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16), default=CheckInKind.ENTRY.value)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    desk: Mapped[str] = mapped_column(String(100), default="")
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"), default=None)
    operator_name: Mapped[str] = mapped_column(String(200), default="")
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    undone_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"), default=None)
    undo_reason: Mapped[str] = mapped_column(Text, default="")

    attendee: Mapped[Attendee] = relationship(back_populates="check_ins")


class AddonAssignment(Base):
    """Units of an order's add-on line that belong to one attendee (RDM-2), when the order has several
    ticket units; with one ticket unit every add-on of the order is that attendee's without a row."""

    __tablename__ = "addon_assignment"
    __table_args__ = (
        UniqueConstraint("attendee_id", "order_line_id"),
        CheckConstraint("quantity >= 0", name="quantity_nonneg"),
        Index("ix_addon_assignment_line", "order_line_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    attendee_id: Mapped[int] = mapped_column(ForeignKey("attendee.id", ondelete="CASCADE"))
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_line_item.id", ondelete="CASCADE"))
    quantity: Mapped[int] = mapped_column(Integer, default=1)


class Redemption(Base):
    """One add-on unit handed out (RDM-1): a dinner ticket, a t-shirt, a workshop seat."""

    __tablename__ = "redemption"
    __table_args__ = (
        Index("ix_redemption_attendee", "attendee_id"),
        Index("ix_redemption_line", "order_line_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    attendee_id: Mapped[int] = mapped_column(ForeignKey("attendee.id", ondelete="CASCADE"))
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_line_item.id", ondelete="CASCADE"))
    addon_id: Mapped[int | None] = mapped_column(ForeignKey("addon.id", ondelete="SET NULL"), default=None)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    desk: Mapped[str] = mapped_column(String(100), default="")
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"), default=None)
    operator_name: Mapped[str] = mapped_column(String(200), default="")
