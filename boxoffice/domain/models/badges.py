"""Badges and desk printing: badge templates, the badge print log, and the desk's receipt print log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, LargeBinary, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from boxoffice.db.base import Base
from boxoffice.db.types import UTCDateTime
from boxoffice.domain.models.columns import TimestampMixin, now


class BadgeTemplate(TimestampMixin, Base):
    """How a badge looks (BDG-1): page size in millimetres, the fields shown, fonts, colours, logo.

    ``ticket_type_id`` NULL is the conference's default; at most one template per ticket type and one
    default per conference (partial unique indexes). ``columns``/``rows`` above 1 lay several badges
    on one sheet (A4). ``fields`` lists what is shown, in order; ``banner_colors`` maps a ticket type id
    (as text) to the banner colour it gets on this template (``banner_color`` otherwise).
    """

    __tablename__ = "badge_template"
    __table_args__ = (
        CheckConstraint("page_width_mm > 0 AND page_height_mm > 0", name="page_pos"),
        CheckConstraint("columns >= 1 AND rows >= 1", name="grid_pos"),
        Index("uq_badge_template_type", "conference_id", "ticket_type_id", unique=True,
              postgresql_where=text("ticket_type_id IS NOT NULL"), sqlite_where=text("ticket_type_id IS NOT NULL")),
        Index("uq_badge_template_default", "conference_id", unique=True,
              postgresql_where=text("ticket_type_id IS NULL"), sqlite_where=text("ticket_type_id IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conference_id: Mapped[int] = mapped_column(ForeignKey("conference.id", ondelete="CASCADE"))
    ticket_type_id: Mapped[int | None] = mapped_column(
        ForeignKey("ticket_type.id", ondelete="CASCADE"), default=None
    )
    name: Mapped[str] = mapped_column(String(100), default="Badge")
    page_preset: Mapped[str] = mapped_column(String(20), default="label-89x51")
    page_width_mm: Mapped[int] = mapped_column(Integer, default=89)
    page_height_mm: Mapped[int] = mapped_column(Integer, default=51)
    columns: Mapped[int] = mapped_column(Integer, default=1)
    rows: Mapped[int] = mapped_column(Integer, default=1)
    fields: Mapped[list[str]] = mapped_column(JSON, default=list)
    font_family: Mapped[str] = mapped_column(String(100), default="Noto Sans")
    name_size_pt: Mapped[int] = mapped_column(Integer, default=22)
    text_size_pt: Mapped[int] = mapped_column(Integer, default=10)
    text_color: Mapped[str] = mapped_column(String(9), default="#1a1a1a")
    background_color: Mapped[str] = mapped_column(String(9), default="#ffffff")
    banner_color: Mapped[str] = mapped_column(String(9), default="#1f4e79")
    banner_text_color: Mapped[str] = mapped_column(String(9), default="#ffffff")
    banner_colors: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    logo_png: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)


class BadgePrint(Base):
    """One badge print (BDG-5): attendee, time, operator (and approving lead), desk, printer, reprint and why.

    ``status`` is ``printed`` or ``failed`` (``error`` then says why); the reprint guard counts the
    printed rows only.
    """

    __tablename__ = "badge_print"
    __table_args__ = (
        CheckConstraint("status IN ('printed', 'failed')", name="status_known"),
        Index("ix_badge_print_attendee", "attendee_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    attendee_id: Mapped[int] = mapped_column(ForeignKey("attendee.id", ondelete="CASCADE"))
    conference_id: Mapped[int] = mapped_column(ForeignKey("conference.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    desk: Mapped[str] = mapped_column(String(100), default="")
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"), default=None)
    operator_name: Mapped[str] = mapped_column(String(200), default="")
    approver_name: Mapped[str] = mapped_column(String(200), default="")
    printer: Mapped[str] = mapped_column(String(200), default="")
    reprint: Mapped[bool] = mapped_column(default=False)
    reason: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default="printed")
    error: Mapped[str] = mapped_column(Text, default="")


class ReceiptPrint(Base):
    """One job sent to a desk's receipt printer (PRN-1..3): a receipt, a drawer kick, or a test page.

    ``kind`` is ``receipt``, ``drawer`` (no-sale opening) or ``test``; ``drawer_kicked`` says the job
    pulsed the cash drawer; ``status`` is ``printed`` or ``failed`` with the reason in ``error``.
    """

    __tablename__ = "receipt_print"
    __table_args__ = (
        CheckConstraint("kind IN ('receipt', 'drawer', 'test')", name="kind_known"),
        CheckConstraint("status IN ('printed', 'failed')", name="status_known"),
        Index("ix_receipt_print_order", "order_id"),
        Index("ix_receipt_print_desk_at", "desk", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("order.id", ondelete="SET NULL"), default=None)
    kind: Mapped[str] = mapped_column(String(10), default="receipt")
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    desk: Mapped[str] = mapped_column(String(100), default="")
    operator_name: Mapped[str] = mapped_column(String(200), default="")
    printer: Mapped[str] = mapped_column(String(200), default="")
    drawer_kicked: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(10), default="printed")
    error: Mapped[str] = mapped_column(Text, default="")
