"""Staff: the people who operate the desks, the audit trail, and cash drawer shifts."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from boxoffice.db.base import Base
from boxoffice.db.types import UTCDateTime
from boxoffice.domain.models.columns import TimestampMixin, now


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
    # sign-in: role, a scrypt hash of the PIN (volunteers) or password (leads, admins)
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
    """One sensitive action: who (and who approved it), what, on what, amounts, desk.

    Append-only: database triggers refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL), and
    each row's ``chain_hash`` covers its content and the row before it, keyed with the PIN key, so
    an edited, forged or missing row is found by ``boxoffice audit verify``. Written by the services in the same
    transaction as the change it records (``services/staff/audit.py: record``).
    """

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_at", "at"),
        Index("ix_audit_action_at", "action", "at"),
        Index("ix_audit_actor_at", "actor_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
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
    # The hash chain (domain/audit_chain.py): the previous row's hash, and this row's over both,
    # keyed with the PIN key whose public id is chain_key_id ("" on rows from before the key).
    prev_hash: Mapped[str] = mapped_column(String(64), default="")
    chain_hash: Mapped[str] = mapped_column(String(64), default="")
    chain_key_id: Mapped[str] = mapped_column(String(16), default="")


class CashShift(Base):
    """A desk's cash drawer from opening float to counted close.

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
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
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
