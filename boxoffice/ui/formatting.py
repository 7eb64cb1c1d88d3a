"""Display text for money, times and statuses (the UI is the only place that shows local time)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from boxoffice.money import format_money
from boxoffice.timeutil import zone

STATUS_LABELS = {
    "pending": "Pending",
    "paid": "Paid",
    "refunded": "Refunded",
    "partially_refunded": "Part refunded",
    "cancelled": "Cancelled",
    "available": "Available",
    "applied": "Applied",
    "expired": "Expired",
}


class Display:
    """Formats values for one conference (currency and time zone)."""

    def __init__(self, currency: str = "USD", timezone: str = "UTC") -> None:
        self.currency = currency
        try:
            self.zone = zone(timezone)
        except ValueError:
            self.zone = zone("UTC")

    def money(self, amount: Decimal | None) -> str:
        return "" if amount is None else format_money(amount, self.currency)

    def when(self, value: datetime | None) -> str:
        return "" if value is None else value.astimezone(self.zone).strftime("%Y-%m-%d %H:%M")


def status_label(status: object) -> str:
    raw = str(getattr(status, "value", status))
    return STATUS_LABELS.get(raw, raw.replace("_", " ").capitalize())
