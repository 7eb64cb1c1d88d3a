"""Aware UTC time, an injectable clock, and conversion to the conference's zone for display."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# UTC is the app's one zone for stored times: callers take it from here along with the clock.
__all__ = [
    "UTC",
    "Clock",
    "FixedClock",
    "SystemClock",
    "ensure_aware",
    "format_local",
    "to_local",
    "zone",
]


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    """The real clock: aware UTC, microseconds kept."""

    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class FixedClock:
    """A clock for tests and simulations; advance it explicitly."""

    current: datetime = field(default_factory=lambda: datetime(2027, 5, 1, 12, 0, tzinfo=UTC))

    def now(self) -> datetime:
        return self.current

    def advance(self, **kwargs: float) -> datetime:
        self.current = self.current + timedelta(**kwargs)
        return self.current


def ensure_aware(value: datetime) -> datetime:
    """Return ``value`` in UTC; naive datetimes are refused (they are a bug)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value!r}: times must be timezone-aware")
    return value.astimezone(UTC)


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"Unknown time zone '{name}'. Use a name such as 'America/New_York'.") from None


def to_local(value: datetime, tz_name: str) -> datetime:
    return ensure_aware(value).astimezone(zone(tz_name))


def format_local(value: datetime | None, tz_name: str, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return ""
    return to_local(value, tz_name).strftime(fmt)
