"""Settings screen (admins): saving applies the idle lock and quick notes at once, audited; Stripe key masked."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from boxoffice.config import load_settings
from boxoffice.domain.models import AuditEntry
from boxoffice.stripe_sync import keys
from tests.gui.auth_helpers import locked_window, sign_in
from tests.gui.conftest import ADMIN_PASSWORD
from tests.gui.helpers import type_text

pytestmark = pytest.mark.no_default_actor


def _audit(services):
    with services.db.read() as session:
        rows = list(session.scalars(select(AuditEntry).where(
            AuditEntry.action.in_(["settings_change", "stripe_key_change"]))))
        session.expunge_all()
        return rows


def _settings_screen(qtbot, desk, tmp_path):
    window = locked_window(qtbot, desk, tmp_path)
    sign_in(qtbot, window, "Ada", ADMIN_PASSWORD)
    qtbot.waitUntil(lambda: not window.is_locked())
    window.show_screen(len(window.nav_buttons) - 1)
    assert window.stack.currentWidget() is window.settings_screen
    return window, window.settings_screen


def test_saving_settings_applies_them_and_writes_an_audit_row(qtbot, desk, services, staff_team, tmp_path,
                                                             keychain: Any) -> None:
    window, screen = _settings_screen(qtbot, desk, tmp_path)
    qtbot.waitUntil(lambda: "none" in screen.key_label.text())
    screen.idle_minutes.setValue(3)
    screen.quick_notes.setText("10, 20, 50")
    screen.save.click()
    qtbot.waitUntil(lambda: screen.message.text() == "Settings saved.")
    assert window.idle.interval() == 3 * 60_000 and desk.quick_cash_notes == (10, 20, 50)
    assert load_settings(tmp_path / "settings.json").settings.idle_lock_minutes == 3
    (row,) = _audit(services)
    assert row.actor_name == "Ada" and "idle_lock_minutes" in row.detail
    screen.quick_notes.setText("ten")
    screen.save.click()
    qtbot.waitUntil(lambda: "whole amounts" in screen.message.text())
    assert len(_audit(services)) == 1


def test_changing_the_stripe_key_shows_it_masked_only(qtbot, desk, services, staff_team, tmp_path,
                                                     keychain: Any) -> None:
    _window, screen = _settings_screen(qtbot, desk, tmp_path)
    screen.change_key.click()
    dialog = screen.key_dialog
    type_text(qtbot, dialog.key, "pk_test_not_a_secret")
    dialog.save.click()
    qtbot.waitUntil(lambda: "does not look like" in dialog.message.text())
    dialog.key.setText("sk_test_abcdefghijkl9876")
    dialog.save.click()
    qtbot.waitUntil(lambda: "sk_test_...9876" in screen.key_label.text())
    assert "abcdefghijkl" not in screen.key_label.text() + screen.key_message.text()
    assert keys.load_secret_key() == "sk_test_abcdefghijkl9876"
    (row,) = _audit(services)
    assert row.action == "stripe_key_change" and "abcdefghijkl" not in row.detail
