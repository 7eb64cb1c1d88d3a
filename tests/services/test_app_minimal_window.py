"""The fallback catalogue window of ``boxoffice run`` shows the demo catalogue and does not crash."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from boxoffice.app import AppServices, build_app
from boxoffice.db.engine import sqlite_url
from boxoffice.demo.seed import seed_demo
from boxoffice.timeutil import UTC, FixedClock
from boxoffice.ui.minimal import CatalogWindow


@pytest.fixture
def app(tmp_path: Path) -> Iterator[AppServices]:
    services = build_app(sqlite_url(tmp_path / "desk.sqlite3"), clock=FixedClock(datetime(2026, 11, 24, tzinfo=UTC)))
    yield services
    services.close()


def test_window_lists_every_ticket_and_addon_of_the_demo(qtbot: QtBot, app: AppServices) -> None:
    seed_demo(app.ctx)
    window = CatalogWindow(app)
    qtbot.addWidget(window)
    assert window.heading.text() == "PyDesk Conf 2027: catalogue"
    assert window.table.rowCount() == 9
    names = [window.table.item(r, 1).text() for r in range(window.table.rowCount())]
    assert names[:5] == ["Early Bird", "Individual", "Corporate", "Student", "Speaker"]
    assert window.table.item(1, 2).text() == "$120.00"
    assert window.table.item(1, 3).text() == "800"
    assert window.table.item(3, 4).text().startswith("voucher only")


def test_window_on_an_empty_database_explains_what_to_do(qtbot: QtBot, app: AppServices) -> None:
    window = CatalogWindow(app)
    qtbot.addWidget(window)
    assert "import-conference" in window.heading.text()
    assert window.table.rowCount() == 0
