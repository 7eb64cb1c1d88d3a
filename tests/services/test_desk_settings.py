"""Desk settings changes: admins only, validated, saved atomically, audited with before and after."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from boxoffice.config import Settings, load_settings
from boxoffice.domain.models import AuditEntry
from boxoffice.errors import InvalidInput, PermissionDenied
from boxoffice.services.desk.settings import DeskSettingsService, parse_quick_cash_notes
from boxoffice.services.staff.access import Actor, Role, acting_as


def _rows(ctx) -> list[AuditEntry]:
    with ctx.db.read() as session:
        rows = list(session.scalars(select(AuditEntry)))
        session.expunge_all()
        return rows


def test_saving_changes_writes_the_file_and_one_audit_row(ctx, tmp_path) -> None:
    path = tmp_path / "settings.json"
    service = DeskSettingsService(ctx, path)
    new = service.save(Settings(), desk_name=" Desk  2 ", idle_lock_minutes=3, quick_cash_notes="50, 5 ,20",
                       stripe_reader_id="tmr_123")
    assert (new.desk_name, new.idle_lock_minutes, new.quick_cash_notes) == ("Desk 2", 3, (5, 20, 50))
    assert load_settings(path).settings == new
    (row,) = _rows(ctx)
    assert row.action == "settings_change" and row.actor_name == "test admin"
    detail = json.loads(row.detail)
    assert detail["idle_lock_minutes"] == {"before": 10, "after": 3}
    assert set(detail) == {"desk_name", "idle_lock_minutes", "quick_cash_notes", "stripe_reader_id"}
    assert service.save(new, desk_name="Desk 2", idle_lock_minutes=3, quick_cash_notes=(5, 20, 50),
                        stripe_reader_id="tmr_123") is new
    assert len(_rows(ctx)) == 1                       # nothing changed: no row


@pytest.mark.parametrize(("field", "value"), [
    ("desk_name", "  "), ("idle_lock_minutes", -1), ("idle_lock_minutes", 999),
    ("quick_cash_notes", "5, ten"), ("quick_cash_notes", ""), ("stripe_reader_id", "tmr 1"),
])
def test_bad_values_are_refused_and_nothing_is_saved(ctx, tmp_path, field, value) -> None:
    path = tmp_path / "settings.json"
    values = {"desk_name": "Desk 1", "idle_lock_minutes": 10, "quick_cash_notes": "5", "stripe_reader_id": ""}
    values[field] = value
    with pytest.raises(InvalidInput) as exc:
        DeskSettingsService(ctx, path).save(Settings(), **values)
    assert exc.value.field == field
    assert not path.exists() and _rows(ctx) == []


@pytest.mark.no_default_actor
def test_a_lead_may_not_change_settings(ctx, tmp_path) -> None:
    with acting_as(Actor(3, "Linus", Role.LEAD)), pytest.raises(PermissionDenied, match="needs an admin"):
        DeskSettingsService(ctx, tmp_path / "s.json").save(
            Settings(), desk_name="X", idle_lock_minutes=1, quick_cash_notes="5", stripe_reader_id="")


def test_quick_notes_are_sorted_and_unique() -> None:
    assert parse_quick_cash_notes("100 20;20,5") == (5, 20, 100)


def test_the_registrations_source_and_its_interval_are_saved_without_a_password(ctx, tmp_path) -> None:
    path = tmp_path / "settings.json"
    service = DeskSettingsService(ctx, path)
    current = Settings()
    base = {"desk_name": "Desk 1", "idle_lock_minutes": 10, "quick_cash_notes": "5, 10", "stripe_reader_id": ""}
    with pytest.raises(InvalidInput, match="password out of the registrations URL"):
        service.save(current, **base, registrations_source="postgresql://web:s3cret@db/web")
    with pytest.raises(InvalidInput, match="every 0 \\(never\\) to 1440 minutes"):
        service.save(current, **base, registrations_sync_minutes=-1)
    new = service.save(current, **base, registrations_source=" postgresql://web@db/web ", registrations_sync_minutes=5)
    saved = load_settings(path).settings
    assert (saved.registrations_source, saved.registrations_sync_minutes) == ("postgresql://web@db/web", 5)
    assert new == saved and "s3cret" not in path.read_text()
    with pytest.raises(ValueError, match="registrations_sync_minutes"):
        Settings.from_json({"registrations_sync_minutes": "10"})
    assert Settings.from_json({}).registrations_sync_minutes == 10


def _save_printers(ctx, path, **printers):
    from boxoffice.services.desk.settings import PrinterChoice

    return DeskSettingsService(ctx, path).save(Settings(), desk_name="Desk 1", idle_lock_minutes=10,
                                               quick_cash_notes="5, 10, 20, 50, 100", stripe_reader_id="",
                                               printers=PrinterChoice(**printers))


def test_printer_settings_are_saved_and_audited_with_before_and_after(ctx, tmp_path) -> None:
    path = tmp_path / "settings.json"
    new = _save_printers(ctx, path, receipt_printer=" NETWORK:10.0.0.5:9100 ", receipt_paper_mm=58,
                         auto_receipt=True, cash_drawer=False, badge_printer="Zebra ZD421",
                         print_badge_on_checkin=True)
    assert (new.receipt_printer, new.receipt_paper_mm, new.auto_receipt, new.cash_drawer) == (
        "network:10.0.0.5:9100", 58, True, False)
    assert load_settings(path).settings == new
    (row,) = _rows(ctx)
    detail = json.loads(row.detail)
    assert set(detail) == {"receipt_printer", "receipt_paper_mm", "auto_receipt", "cash_drawer", "badge_printer",
                           "print_badge_on_checkin"}
    assert detail["cash_drawer"] == {"before": True, "after": False}


@pytest.mark.parametrize(("printers", "says"), [
    ({"receipt_printer": "bluetooth:AA:BB"}, "network:HOST[:PORT]"),
    ({"receipt_printer": "usb:zz:02"}, "usb:VENDOR:PRODUCT"),
    ({"receipt_printer": "network:10.0.0.5", "receipt_paper_mm": 70}, "58 or 80 mm"),
    ({"auto_receipt": True}, "Automatic receipts need a receipt printer"),
])
def test_bad_printer_settings_are_refused_and_nothing_is_saved(ctx, tmp_path, printers, says) -> None:
    path = tmp_path / "settings.json"
    with pytest.raises(InvalidInput) as exc:
        _save_printers(ctx, path, **printers)
    assert says in str(exc.value)
    assert not path.exists() and _rows(ctx) == []
