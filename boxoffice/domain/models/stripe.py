"""Stripe's records at the desk: customers, the event ledger, terminal payments, sync state."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from boxoffice.db.base import Base
from boxoffice.db.types import UTCDateTime
from boxoffice.domain.models.columns import TimestampMixin, now, portable_enum

if TYPE_CHECKING:
    from boxoffice.domain.models.money import Payment


class CaptureStatus(str, enum.Enum):
    AUTHORIZED = "authorized"
    CAPTURED = "captured"
    CANCELLED = "cancelled"
    FAILED = "failed"


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
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)


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
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
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
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)

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
        portable_enum(CaptureStatus, "capture_status"), default=CaptureStatus.AUTHORIZED
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
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now, onupdate=now)
