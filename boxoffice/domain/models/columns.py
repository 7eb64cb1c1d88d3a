"""Column helpers every area's models share: the clock default, portable enums, timestamps."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum
from sqlalchemy.orm import Mapped, mapped_column

from boxoffice.db.types import UTCDateTime
from boxoffice.timeutil import SystemClock

_clock = SystemClock()


def now() -> datetime:
    return _clock.now()


def portable_enum(cls: type[enum.Enum], name: str) -> Enum:
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
    """Created and updated times (UTC), set by the desk's clock."""

    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now, onupdate=now)
