"""Adds the admin screens (Staff F9, Settings F10) to a main window; only admins see them."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from boxoffice.config import Settings
from boxoffice.services.staff.access import Permission

if TYPE_CHECKING:
    from boxoffice.ui.screens.settings.screen import SettingsScreen
    from boxoffice.ui.screens.staff.screen import StaffScreen


def install_admin_screens(window: Any, settings: Settings, *, settings_path: Path | None = None,
                          conference_slug: str | None = None) -> None:
    """Staff and Settings screens (built when first shown, as ``window.staff_screen`` and
    ``window.settings_screen``); saved settings apply at once to the idle lock, quick cash notes and printers."""
    desk = window.desk

    def staff() -> StaffScreen:
        from boxoffice.ui.screens.staff.screen import StaffScreen

        return StaffScreen(desk)

    def settings_screen() -> SettingsScreen:
        from boxoffice.ui.idle import IdleWatcher
        from boxoffice.ui.screens.settings.screen import SettingsScreen

        sync = getattr(window, "registrations_sync", None)
        screen = SettingsScreen(desk, settings, settings_path=settings_path, conference_slug=conference_slug,
                                registrations_sync=sync)

        def apply(new: Settings) -> None:
            from boxoffice.ui.desk import DeskPrinters

            desk.printers = DeskPrinters.of(new)
            desk.quick_cash_notes = tuple(new.quick_cash_notes)
            desk.idle_lock_minutes = new.idle_lock_minutes
            desk.checkin_walkups = new.checkin_walkups
            window.idle.set_interval(IdleWatcher.minutes_to_ms(new.idle_lock_minutes))
            if sync is not None:
                sync.configure(new.registrations_source, new.registrations_sync_minutes)

        screen.settings_saved.connect(apply)
        return screen

    window.add_screen("Staff", "F9", staff, name="staff_screen", permission=Permission.MANAGE_STAFF)
    window.add_screen("Settings", "F10", settings_screen, name="settings_screen",
                      permission=Permission.MANAGE_SETTINGS)
