"""Registrations in Settings (admins): the source saved without its password, Sync now with a progress
bar, the counts in the status bar, a bad source's message, and the automatic re-sync.

The desk imports the real django-program sample (a copy of the shared SQLite file) through the real
widgets, the task runner and the service; the keychain is the test keychain.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from boxoffice.services.admin.conference_import import import_conference
from boxoffice.ui.registrations_sync import install_registrations_sync, load_source_password
from tests.gui.auth_helpers import locked_window, sign_in
from tests.gui.conftest import ADMIN_PASSWORD

pytestmark = pytest.mark.no_default_actor

SAMPLE = Path("/work/shared/seeds/django-program/sample.sqlite3")
CONFERENCE_FILE = Path(__file__).parents[1] / "data" / "conference.example.toml"

needs_sample = pytest.mark.skipif(not SAMPLE.exists(), reason="the django-program sample is not on this machine")


def _settings(qtbot: Any, desk: Any, services: Any, tmp_path: Path) -> tuple[Any, Any]:
    from boxoffice.config import Settings
    from boxoffice.services.staff.access import SYSTEM, acting_as

    with acting_as(SYSTEM):
        desk.conference_id = import_conference(services.ctx, CONFERENCE_FILE).conference_id
    window = locked_window(qtbot, desk, tmp_path)
    install_registrations_sync(window, Settings())
    sign_in(qtbot, window, "Ada", ADMIN_PASSWORD)
    qtbot.waitUntil(lambda: not window.is_locked())
    window.show_screen(len(window.nav_buttons) - 1)   # Settings, the admin's last screen
    assert window.stack.currentWidget() is window.settings_screen
    return window, window.settings_screen.registrations


@needs_sample
def test_sync_now_imports_the_sample_with_a_progress_bar_and_the_counts_in_the_status_bar(
        qtbot: Any, desk: Any, services: Any, staff_team: Any, tmp_path: Path, keychain: Any) -> None:
    web = tmp_path / "web.sqlite3"
    shutil.copyfile(SAMPLE, web)
    window, section = _settings(qtbot, desk, services, tmp_path)
    seen: list[tuple[int, int]] = []
    window.registrations_sync.progress.connect(lambda done, total: seen.append((done, total)))
    section.source.setText(f"sqlite:///{web}")
    section.minutes.setValue(0)
    section.save.click()
    qtbot.waitUntil(lambda: section.message.text() == "Registrations source saved.", timeout=5000)
    section.sync_button.click()
    assert not section.sync_button.isEnabled()
    qtbot.waitUntil(lambda: section.message.text().startswith("Synced:"), timeout=20000)
    assert "50 new" in section.message.text()
    assert section.progress.maximum() == 50 and section.progress.value() == 50
    assert seen[0] == (0, 0) and seen[-1] == (50, 50)
    assert "Registrations synced" in window.status_registrations.text()
    assert "50 new, 0 updated, 0 unchanged, 0 skipped" in window.status_registrations.text()
    section.sync_button.click()   # again: nothing changed upstream
    qtbot.waitUntil(lambda: "50 unchanged" in window.status_registrations.text(), timeout=20000)


def test_the_password_goes_to_the_keychain_and_never_into_the_settings_file(
        qtbot: Any, desk: Any, services: Any, staff_team: Any, tmp_path: Path, keychain: Any) -> None:
    _window, section = _settings(qtbot, desk, services, tmp_path)
    section.source.setText("postgresql://web:inline-s3cret@db.example.org/web")
    section.save.click()
    qtbot.waitUntil(lambda: section.save.isEnabled(), timeout=5000)
    assert section.message.text() == "Registrations source saved."
    text = (tmp_path / "settings.json").read_text()
    assert "inline-s3cret" not in text and "postgresql://web@db.example.org/web" in text
    assert load_source_password("postgresql://web@db.example.org/web") == "inline-s3cret"
    assert section.source.text() == "postgresql://web@db.example.org/web" and section.password.text() == ""
    section.password.setText("typed-s3cret")
    section.save.click()
    qtbot.waitUntil(lambda: load_source_password("postgresql://web@db.example.org/web") == "typed-s3cret",
                    timeout=5000)
    assert "typed-s3cret" not in (tmp_path / "settings.json").read_text()


def test_a_bad_source_shows_its_message_and_imports_nothing(
        qtbot: Any, desk: Any, services: Any, staff_team: Any, tmp_path: Path, keychain: Any) -> None:
    window, section = _settings(qtbot, desk, services, tmp_path)
    section.sync_button.click()
    qtbot.waitUntil(lambda: "Choose a registrations source" in section.message.text(), timeout=5000)
    section.source.setText(f"sqlite:///{tmp_path / 'missing.sqlite3'}")
    section.save.click()
    qtbot.waitUntil(lambda: section.message.text() == "Registrations source saved.", timeout=5000)
    section.sync_button.click()
    qtbot.waitUntil(lambda: "there is no file" in section.message.text(), timeout=10000)
    assert section.sync_button.isEnabled() and section.progress.value() == 0
    assert "sync failed" in window.status_registrations.text()


@needs_sample
def test_the_automatic_re_sync_fires_on_its_interval(
        qtbot: Any, desk: Any, services: Any, staff_team: Any, tmp_path: Path, keychain: Any) -> None:
    window, section = _settings(qtbot, desk, services, tmp_path)
    sync = window.registrations_sync
    section.source.setText(f"sqlite:///{SAMPLE}")
    section.minutes.setValue(10)
    section.save.click()
    qtbot.waitUntil(lambda: section.message.text() == "Registrations source saved.", timeout=5000)
    assert sync.interval_ms == 10 * 60_000
    sync.set_interval_ms(200)   # the same timer, a short interval
    with qtbot.waitSignal(sync.finished, timeout=20000) as blocker:
        pass
    assert blocker.args[0].new == 50
    qtbot.waitUntil(lambda: "50 new" in window.status_registrations.text())
    sync.stop()
