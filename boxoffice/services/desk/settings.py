"""Desk settings changes (admins): validate, save the settings file, and audit what changed (printers too)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from boxoffice.config import MAX_SYNC_MINUTES, Settings, save_settings
from boxoffice.errors import InvalidInput
from boxoffice.services.context import ServiceContext
from boxoffice.services.staff import audit
from boxoffice.services.staff.access import Permission, authorize

MAX_IDLE_LOCK_MINUTES = 240
MAX_QUICK_NOTES = 8
AUDITED_FIELDS = ("desk_name", "idle_lock_minutes", "quick_cash_notes", "stripe_reader_id", "checkin_walkups",
                  "registrations_source", "registrations_sync_minutes", "receipt_printer",
                  "receipt_paper_mm", "auto_receipt", "cash_drawer", "badge_printer", "print_badge_on_checkin")
PAPER_WIDTHS_MM = (58, 80)


def parse_quick_cash_notes(text: str) -> tuple[int, ...]:
    """``"5, 10, 20"`` -> ``(5, 10, 20)``: whole amounts, sorted, no repeats."""
    parts = [p for p in text.replace(";", ",").replace(" ", ",").split(",") if p]
    try:
        notes = sorted({int(p) for p in parts})
    except ValueError:
        raise InvalidInput("Quick cash notes are whole amounts separated by commas, e.g. 5, 10, 20, 50.",
                           field="quick_cash_notes") from None
    if not notes or len(notes) > MAX_QUICK_NOTES or notes[0] < 1 or notes[-1] > 100_000:
        raise InvalidInput(f"Give 1 to {MAX_QUICK_NOTES} quick cash notes between 1 and 100,000.",
                           field="quick_cash_notes")
    return tuple(notes)


@dataclass(frozen=True)
class PrinterChoice:
    """The printer section of the Settings screen, as typed."""

    receipt_printer: str = ""          # network:HOST[:PORT], usb:VENDOR:PRODUCT, serial:DEVICE[:BAUD], file:PATH
    receipt_paper_mm: int = 80
    auto_receipt: bool = False
    cash_drawer: bool = True
    badge_printer: str = ""            # a system printer's name; "" for PDF
    print_badge_on_checkin: bool = False


def _checked_printers(choice: PrinterChoice) -> dict[str, Any]:
    from boxoffice.services.printing.printer_connection import parse_spec  # python-escpos: only when saving

    receipt = choice.receipt_printer.strip()
    if receipt:
        receipt = f"{receipt.partition(':')[0].lower()}:{receipt.partition(':')[2].strip()}"
        parse_spec(receipt)   # InvalidInput that says which forms work
    if choice.receipt_paper_mm not in PAPER_WIDTHS_MM:
        raise InvalidInput("Receipt paper is 58 or 80 mm wide.", field="receipt_paper_mm")
    badge = choice.badge_printer.strip()
    if len(badge) > 200:
        raise InvalidInput("The badge printer's name is too long; pick it from the list.", field="badge_printer")
    if choice.auto_receipt and not receipt:
        raise InvalidInput("Automatic receipts need a receipt printer: give its connection, or untick "
                           "“Print a receipt after each sale”.", field="receipt_printer")
    return {"receipt_printer": receipt, "receipt_paper_mm": choice.receipt_paper_mm,
            "auto_receipt": bool(choice.auto_receipt), "cash_drawer": bool(choice.cash_drawer),
            "badge_printer": badge, "print_badge_on_checkin": bool(choice.print_badge_on_checkin)}


class DeskSettingsService:
    """Change this desk's settings file; every change leaves a SETTINGS_CHANGE audit row."""

    def __init__(self, ctx: ServiceContext, path: Path | None = None) -> None:
        self._ctx = ctx
        self._path = path

    def save(self, current: Settings, *, desk_name: str, idle_lock_minutes: int,
             quick_cash_notes: tuple[int, ...] | str, stripe_reader_id: str,
             checkin_walkups: bool | None = None, registrations_source: str | None = None,
             registrations_sync_minutes: int | None = None, printers: PrinterChoice | None = None) -> Settings:
        """Validate and save; returns the new settings (``current`` itself when nothing changed).

        ``checkin_walkups``: whether a sale at this desk checks its attendees in at once (None: unchanged).
        ``registrations_source`` (a database URL without its password, or a CSV file) and
        ``registrations_sync_minutes`` (0: no automatic re-sync): None leaves them unchanged.
        ``printers`` (``None``: as they are) sets the desk's receipt printer, paper, automatic
        receipt, cash drawer, badge printer and badge-on-check-in.
        """
        authorize(Permission.MANAGE_SETTINGS)
        name = " ".join(str(desk_name).split())
        if not name or len(name) > 100:
            raise InvalidInput("Give the desk a name of 1 to 100 characters (it is printed on shift reports).",
                               field="desk_name")
        if isinstance(idle_lock_minutes, bool) or not isinstance(idle_lock_minutes, int) \
                or not 0 <= idle_lock_minutes <= MAX_IDLE_LOCK_MINUTES:
            raise InvalidInput(f"The idle lock is 0 (never) to {MAX_IDLE_LOCK_MINUTES} minutes.",
                               field="idle_lock_minutes")
        notes = parse_quick_cash_notes(quick_cash_notes) if isinstance(quick_cash_notes, str) \
            else parse_quick_cash_notes(",".join(str(n) for n in quick_cash_notes))
        reader = stripe_reader_id.strip()
        if len(reader) > 100 or " " in reader:
            raise InvalidInput("The card reader id is the tmr_… id from the Stripe dashboard (no spaces).",
                               field="stripe_reader_id")
        walkups = current.checkin_walkups if checkin_walkups is None else checkin_walkups
        if not isinstance(walkups, bool):
            raise InvalidInput("Checking walk-up sales in is on or off.", field="checkin_walkups")
        source = current.registrations_source if registrations_source is None else registrations_source.strip()
        if "://" in source and _has_password(source):
            raise InvalidInput("Leave the password out of the registrations URL: it goes to the keychain.",
                               field="registrations_source")
        minutes = current.registrations_sync_minutes if registrations_sync_minutes is None \
            else registrations_sync_minutes
        if isinstance(minutes, bool) or not isinstance(minutes, int) or not 0 <= minutes <= MAX_SYNC_MINUTES:
            raise InvalidInput(f"The registrations re-sync is every 0 (never) to {MAX_SYNC_MINUTES} minutes.",
                               field="registrations_sync_minutes")
        new = replace(current, desk_name=name, idle_lock_minutes=idle_lock_minutes, quick_cash_notes=notes,
                      stripe_reader_id=reader, checkin_walkups=walkups, registrations_source=source,
                      registrations_sync_minutes=minutes)
        if printers is not None:
            new = replace(new, **_checked_printers(printers))
        changed: dict[str, Any] = {}
        for field in AUDITED_FIELDS:
            before, after = getattr(current, field), getattr(new, field)
            if before != after:
                changed[field] = {"before": _plain(before), "after": _plain(after)}
        if not changed:
            return current
        with self._ctx.db.write() as session:
            audit.record(session, self._ctx, audit.SETTINGS_CHANGE, target_type="settings",
                         target_label=f"{name} settings", detail=changed)
            save_settings(new, self._path)   # a failed save rolls the audit row back
        return new


def _has_password(url: str) -> bool:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).password is not None
    except ArgumentError:
        return False


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value
