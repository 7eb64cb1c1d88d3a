"""Adds the admin screens (Staff F9, Settings F10) to a main window; only admins see them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from boxoffice.config import Settings
from boxoffice.services.access import Permission
from boxoffice.ui.idle import IdleWatcher
from boxoffice.ui.screens.settings.screen import SettingsScreen
from boxoffice.ui.screens.staff.screen import StaffScreen


def install_admin_screens(window: Any, settings: Settings, *, settings_path: Path | None = None,
                          conference_slug: str | None = None) -> tuple[StaffScreen, SettingsScreen]:
    """Staff and Settings screens; saved settings apply at once to the idle lock and quick cash notes."""
    desk = window.desk
    staff = StaffScreen(desk)
    screen = SettingsScreen(desk, settings, settings_path=settings_path, conference_slug=conference_slug)
    window.add_screen("Staff", "F9", staff, permission=Permission.MANAGE_STAFF)
    window.add_screen("Settings", "F10", screen, permission=Permission.MANAGE_SETTINGS)
    window.staff_screen, window.settings_screen = staff, screen

    def apply(new: Settings) -> None:
        desk.quick_cash_notes = tuple(new.quick_cash_notes)
        desk.idle_lock_minutes = new.idle_lock_minutes
        window.idle.set_interval(IdleWatcher.minutes_to_ms(new.idle_lock_minutes))

    screen.settings_saved.connect(apply)
    return staff, screen
