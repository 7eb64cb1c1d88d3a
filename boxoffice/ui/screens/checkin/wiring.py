"""Adds the Check-in screen (F11) to a main window: every signed-in operator may check people in."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from boxoffice.ui.screens.checkin.screen import CheckInScreen


def install_checkin(window: Any) -> None:
    """The screen is built when first shown (``window.checkin``)."""
    desk = window.desk

    def build() -> CheckInScreen:
        from boxoffice.ui.screens.checkin.screen import CheckInScreen

        return CheckInScreen(desk)

    window.add_screen("Check-in", "F11", build, name="checkin")
