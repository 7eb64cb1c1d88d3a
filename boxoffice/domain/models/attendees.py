"""Attendees: the people who come to the conference, one per registration."""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from boxoffice.db.base import Base
from boxoffice.domain.models.columns import TimestampMixin


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
