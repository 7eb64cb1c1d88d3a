"""Does the desk fit a screen? Run as ``python -m tests.gui.fit_check WIDTH HEIGHT`` (Qt's own pixels).

Builds the main window on demo data with every screen (an admin signed in, so every nav button
shows, plus the Sync and Readers buttons a Stripe desk adds), opens it sized for a screen of
WIDTH×HEIGHT, puts a ticket and three add-ons in the cart with a voucher, opens every screen and the payment dialog, and prints one
JSON object: the window's size and, per screen, the problems found. A problem is a button or label
(with text) not wholly inside the screen, one narrower than its text needs (cut off), or a label
shortened with "…". ``tests/gui/test_fit_screens.py`` runs it at 100 % and at 150 % scale.
"""

from __future__ import annotations

import json
import sys
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

from PySide6.QtCore import QRect
from PySide6.QtWidgets import QLabel, QPushButton, QScrollArea, QWidget

from boxoffice.app import build_app
from boxoffice.config import Settings
from boxoffice.db.engine import sqlite_url
from boxoffice.demo.seed import seed_demo
from boxoffice.services.staff.access import SYSTEM, acting_as, set_operator
from boxoffice.ui.desk import Desk
from boxoffice.ui.formatting import Display
from boxoffice.ui.launch import application, install_features
from boxoffice.ui.main_window import MainWindow
from boxoffice.ui.messages import Messages
from boxoffice.ui.tasks import TaskRunner
from boxoffice.ui.widgets.elided_label import ElidedLabel
from tests.gui.screenshots import settle


def _scrolls_into_view(widget: QWidget, top: QWidget, room: QRect) -> bool:
    """True when ``widget`` sits in a scroll area that is itself in view: scrolling reaches it."""
    parent = widget.parentWidget()
    while parent is not None and parent is not top:
        if isinstance(parent, QScrollArea):
            viewport = parent.viewport()
            corners = (viewport.mapTo(top, viewport.rect().topLeft()),
                       viewport.mapTo(top, viewport.rect().bottomRight()))
            return all(room.contains(corner) for corner in corners)
        parent = parent.parentWidget()
    return False


def problems(top: QWidget, room: QRect) -> list[str]:
    """Buttons and labels under ``top`` that are outside ``room`` (top's own coordinates) or cut off."""
    found = []
    for widget in top.findChildren(QLabel) + top.findChildren(QPushButton):
        text = widget.text()
        if not text or not widget.isVisible() or _scrolls_into_view(widget, top, room):
            continue
        rect = widget.rect()
        corners = (widget.mapTo(top, rect.topLeft()), widget.mapTo(top, rect.bottomRight()))
        name = text.replace("\n", " ")[:40]
        if not all(room.contains(corner) for corner in corners):
            found.append(f"outside: {name!r} at {corners[0].toTuple()}-{corners[1].toTuple()}")
        elif isinstance(widget, ElidedLabel) and widget.is_elided():
            found.append(f"shortened: {name!r}")
        elif widget.width() < widget.minimumSizeHint().width() \
                and (isinstance(widget, QPushButton) or not widget.wordWrap()):
            found.append(f"cut off: {name!r} {widget.width()} < {widget.minimumSizeHint().width()}")
    return found


def main(width: int, height: int) -> dict[str, Any]:
    _app = application()
    work = Path(tempfile.mkdtemp())
    services = build_app(sqlite_url(work / "demo.sqlite3"), use_stripe=False)
    with acting_as(SYSTEM):
        conference_id = seed_demo(services.ctx).conference_id
        services.auth.add_staff("Avery Admin", "admin", "admin passphrase")
        services.shifts.open(Decimal("150.00"), conference_id=conference_id)
    conference = services.conferences.get(conference_id)
    set_operator(None)
    desk = Desk(services, TaskRunner(), Messages(), conference_id, Display(conference.currency, conference.timezone))
    window = MainWindow(desk, conference_name=conference.name,
                        database_label=str(work / "a rather long folder name" / "demo.sqlite3"))
    install_features(window, Settings(), settings_path=work / "settings.json")
    window.add_screen("Sync", "F4", QWidget())      # what a desk with Stripe adds
    window.add_screen("Readers", "F5", QWidget())
    window.resize(width, height)
    window.show()
    settle(300)
    room = QRect(0, 0, width, height)
    report: dict[str, Any] = {"screens": {"Sign-in": problems(window, room)}}
    window.sign_in_as(services.auth.sign_in("Avery Admin", "admin passphrase"))
    settle(500)
    for name in ("Individual", "Tutorial: Intro to Django", "PyDesk T-Shirt", "Conference Dinner"):
        window.sell.catalog.tile(name).click()   # a full cart: its lines must not push Pay off the screen
        settle(400)
    window.sell.voucher.setText("SPRING25")
    window.sell.voucher.returnPressed.emit()
    settle(400)
    report["size"] = list(window.size().toTuple())
    report["nav"] = [b.text().replace("\n", " ") for b in window.nav_buttons if not b.isHidden()]
    for index, button in enumerate(window.nav_buttons):
        window.show_screen(index)
        settle(400)
        report["screens"][button.text().replace("\n", " ")] = problems(window, room)
    window.show_screen(0)
    window.sell.cart_panel.attendee.walkup.setChecked(True)
    window.sell.pay()
    settle(600)
    dialog = window.sell.payment_dialog
    if dialog is None:
        report["screens"]["Payment"] = ["the payment dialog did not open"]
    else:
        report["screens"]["Payment"] = problems(dialog, QRect(0, 0, min(width, dialog.width()),
                                                              min(height, dialog.height())))
        report["payment_size"] = list(dialog.size().toTuple())
        dialog.reject()
    desk.tasks.wait_idle()
    return report


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]), int(sys.argv[2]))))
