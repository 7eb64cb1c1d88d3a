"""The desk's start path: screens are built on first use, and card payments come on after the window shows."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from boxoffice import gc_pause
from boxoffice.app import STRIPE_PENDING, build_app
from boxoffice.config import Settings
from boxoffice.db.engine import sqlite_url
from boxoffice.stripe_sync.keys import API_BASE_ENV, SECRET_KEY_ENV
from boxoffice.timeutil import FixedClock
from boxoffice.ui.desk import Desk
from boxoffice.ui.dialogs.payment import PaymentDialog
from boxoffice.ui.launch import after_ready, connect_stripe_later, install_features
from boxoffice.ui.main_window import MainWindow
from boxoffice.ui.messages import RecordingMessages
from boxoffice.ui.screens.orders.screen import OrdersScreen
from boxoffice.ui.screens.staff.screen import StaffScreen
from boxoffice.ui.stripe_wiring import CARD_METHOD_KEYS, unregister_card_methods
from boxoffice.ui.tasks import TaskRunner
from tests import factories
from tests.fakes.fake_stripe import FakeStripe
from tests.stripe.conftest import FAKE_KEY

_RUNNERS: list[TaskRunner] = []  # kept for the session: no runner is deleted while Qt may still call it


def nav_labels(window: MainWindow) -> list[str]:
    """The nav buttons in the order they stand in the bar, visible or not."""
    layout = window._nav.row
    buttons = [layout.itemAt(i).widget() for i in range(layout.count())]
    return [b.text().split("  ")[0] for b in buttons if b in window.nav_buttons]


def open_window(qtbot: Any, services: Any, conference_id: int, tmp_path: Path) -> MainWindow:
    tasks = TaskRunner()
    _RUNNERS.append(tasks)
    desk = Desk(services=services, tasks=tasks, messages=RecordingMessages(), conference_id=conference_id)
    window = MainWindow(desk, conference_name="Python 2077", database_label=services.db.display_url)
    qtbot.addWidget(window)
    install_features(window, Settings(conference_id=conference_id), settings_path=tmp_path / "settings.json")
    window.resize(1280, 820)
    window.show()
    return window


@pytest.fixture
def fake() -> Iterator[FakeStripe]:
    server = FakeStripe().start()
    yield server
    server.stop()
    unregister_card_methods()


def test_screens_are_built_when_first_shown_or_read(qtbot, db_path: Path, clock: FixedClock, tmp_path: Path) -> None:
    services = build_app(sqlite_url(db_path), clock=clock, use_stripe=False)
    conf = factories.conference(services.db, reference_prefix="PY")
    window = open_window(qtbot, services, conf.id, tmp_path)
    try:
        # The admin acting in tests is signed in, so Sell is shown (and built); nothing else is yet.
        assert window.is_built("sell")
        for name in ("orders", "credits", "shifts_screen", "catalog_admin_screen", "audit_screen",
                     "staff_screen", "settings_screen", "checkin", "badge_screen"):
            assert not window.is_built(name), name
        assert nav_labels(window) == ["Sell", "Orders", "Credits", "Shifts", "Catalog", "Audit log", "Staff",
                                      "Settings", "Check-in", "Badges"]
        names = [b.text().split("  ")[0] for b in window.nav_buttons]   # with or without its key, by width
        orders_index = names.index("Orders")
        window.show_screen(orders_index)
        assert window.is_built("orders") and isinstance(window.orders, OrdersScreen)
        assert window.stack.currentWidget() is window.orders
        staff = window.staff_screen   # reading the attribute builds the screen in its place
        assert isinstance(staff, StaffScreen)
        assert window.stack.indexOf(staff) == names.index("Staff")
        assert window.stack.currentWidget() is window.orders   # building it did not show it
        assert window.stack.count() == len(window.nav_buttons)
    finally:
        window.close()
        services.close()


def test_card_payments_come_on_after_the_window_shows(
        qtbot, db_path: Path, clock: FixedClock, tmp_path: Path, fake: FakeStripe,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_KEY_ENV, FAKE_KEY)
    monkeypatch.setenv(API_BASE_ENV, fake.url)
    services = build_app(sqlite_url(db_path), clock=clock, stripe_later=True)
    assert services.card_payments is None and services.poller is None
    assert services.card_status == STRIPE_PENDING
    conf = factories.conference(services.db, reference_prefix="PY")
    factories.ticket_type(services.db, conf.id, name="Regular", price=Decimal("100.00"), total_quantity=50)
    window = open_window(qtbot, services, conf.id, tmp_path)
    try:
        assert not any(p.key in CARD_METHOD_KEYS for p in PaymentDialog.extra_methods)
        connect_stripe_later(window, Settings(conference_id=conf.id))
        assert window.status_sync.text() == f"Card payments: {STRIPE_PENDING}"
        qtbot.waitUntil(lambda: window.desk.services.card_payments is not None, timeout=10_000)
        connected = window.desk.services
        assert connected.poller is not None and connected.card_status == ""
        assert connected.refunds is not services.refunds   # refunds now go back through the gateway
        assert {p.key for p in PaymentDialog.extra_methods} >= set(CARD_METHOD_KEYS)
        # Sync (F4) and Readers (F5) stand after Credits although they were added last.
        assert nav_labels(window) == ["Sell", "Orders", "Credits", "Sync", "Readers", "Shifts", "Catalog",
                                      "Audit log", "Staff", "Settings", "Check-in", "Badges"]
        qtbot.waitUntil(lambda: window.status_sync.text().startswith("Stripe online · last sync"),
                        timeout=10_000)
    finally:
        if window.sync_controller is not None:
            window.sync_controller.stop()
        window.desk.tasks.wait_idle()
        qtbot.wait(20)
        window.close()
        services.close()


@pytest.mark.no_default_actor
def test_a_database_that_does_not_answer_at_start_does_not_hold_the_rest_back(
        qtbot, db_path: Path, clock: FixedClock, tmp_path: Path) -> None:
    """The sign-in names never come (their table is gone): after the fallback the data model loads
    anyway and garbage collection, paused for the start, is back on."""
    import gc

    services = build_app(sqlite_url(db_path), clock=clock, use_stripe=False)
    conf = factories.conference(services.db, reference_prefix="PY")
    with services.db.engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE staff RENAME TO staff_elsewhere")
    window = open_window(qtbot, services, conf.id, tmp_path)
    gc_pause.pause()
    try:
        assert window.is_locked()
        after_ready(window, Settings(conference_id=conf.id), fallback_ms=500)
        qtbot.wait(50)
        assert not gc.isenabled() and not window.lock_screen.ready   # still waiting for the names
        qtbot.waitUntil(gc.isenabled, timeout=5000)
        qtbot.waitUntil(lambda: {"auth", "carts", "catalog", "customers"} <= set(services._built), timeout=10_000)
        assert not window.lock_screen.ready
        window.desk.tasks.wait_idle()
    finally:
        gc.enable()
        window.close()
        services.close()
