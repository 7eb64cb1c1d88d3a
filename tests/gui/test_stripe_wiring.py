"""The desk with and without Stripe: Sync screen (F4), status-bar sync state, card methods in the payment dialog."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from boxoffice.app import AppServices, build_app
from boxoffice.db.engine import sqlite_url
from boxoffice.domain.models import TicketType
from boxoffice.services.sales.order_views import OrderSummary
from boxoffice.stripe_sync.keys import API_BASE_ENV, SECRET_KEY_ENV
from boxoffice.timeutil import FixedClock
from boxoffice.ui.desk import Desk
from boxoffice.ui.dialogs.payment import PaymentDialog
from boxoffice.ui.main_window import MainWindow
from boxoffice.ui.messages import RecordingMessages
from boxoffice.ui.screens.sync.screen import SyncScreen
from boxoffice.ui.stripe_wiring import CARD_METHOD_KEYS, install_stripe, unregister_card_methods
from boxoffice.ui.tasks import TaskRunner
from tests import factories
from tests.fakes.fake_stripe import FakeStripe
from tests.stripe.conftest import FAKE_KEY

_RUNNERS: list[TaskRunner] = []  # kept alive for the session: no runner is deleted while Qt may still call it


@pytest.fixture
def fake() -> Iterator[FakeStripe]:
    server = FakeStripe().start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def no_keychain(keychain: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """An empty keychain (the fake Secret Service on Linux), so a developer's real Stripe key never leaks in."""
    monkeypatch.delenv(SECRET_KEY_ENV, raising=False)
    monkeypatch.delenv(API_BASE_ENV, raising=False)
    yield
    unregister_card_methods()


def open_desk(qtbot: Any, db_path: Path, clock: FixedClock, **install: Any) -> tuple[AppServices, MainWindow]:
    services = build_app(sqlite_url(db_path), clock=clock)
    conf = factories.conference(services.db, reference_prefix="PY")
    factories.ticket_type(services.db, conf.id, name="Regular", price=Decimal("100.00"), total_quantity=50)
    operator = services.staff.get_or_create("Grace")
    tasks = TaskRunner()
    _RUNNERS.append(tasks)
    desk = Desk(services=services, tasks=tasks, messages=RecordingMessages(), conference_id=conf.id,
                operator_id=operator.id, operator_name="Grace")
    window = MainWindow(desk, conference_name=conf.name, database_label=services.db.display_url)
    qtbot.addWidget(window)
    install_stripe(window, **install)
    window.resize(1280, 800)   # a desk's window: wide enough for the buttons' keys
    window.show()
    return services, window


def close_desk(qtbot: Any, services: AppServices, window: MainWindow) -> None:
    if window.sync_controller is not None:
        window.sync_controller.stop()
    window.desk.tasks.wait_idle()
    qtbot.wait(20)  # deliver the last callbacks while their widgets still exist
    services.close()


def make_order(window: MainWindow) -> OrderSummary:
    services, desk = window.desk.services, window.desk
    customer = factories.customer(services.db, name="Ada Buyer", email="ada@example.org")
    cart = services.carts.open_cart(desk.conference_id, customer.id)
    with services.db.read() as session:
        ticket_id = session.query(TicketType.id).filter_by(conference_id=desk.conference_id).scalar()
    services.carts.add_ticket(cart.id, ticket_id, 1)
    return services.checkout.checkout(cart.id)


def test_stripe_configured_adds_sync_screen_status_and_card_methods(
    qtbot, db_path, clock, fake, monkeypatch
) -> None:
    """EVT-13 / PAY-11: with a key the desk polls, shows the sync state, F4 Sync, and takes cards by QR."""
    monkeypatch.setenv(SECRET_KEY_ENV, FAKE_KEY)
    monkeypatch.setenv(API_BASE_ENV, fake.url)
    services, window = open_desk(qtbot, db_path, clock, reader_id="tmr_desk1", fast_ms=50, slow_ms=60_000)
    try:
        assert services.card_payments is not None and services.poller is not None and services.card_status == ""
        controller = window.sync_controller
        assert controller is not None
        qtbot.waitUntil(lambda: controller.last_success is not None, timeout=10_000)
        assert window.status_sync.text().startswith("Stripe online · last sync ")
        assert window.status_sync.text() == controller.status_text()

        assert [b.text() for b in window.nav_buttons][-2:] == ["Sync  [F4]", "Readers  [F5]"]
        with qtbot.waitSignal(window.sync_screen.refreshed, timeout=10_000):
            qtbot.keyClick(window, Qt.Key.Key_F4)
        assert isinstance(window.stack.currentWidget(), SyncScreen)
        assert window.sync_screen.retry_all_button.text() == "Retry all failed"

        order = make_order(window)
        dialog = PaymentDialog(window.desk, order, parent=window)
        qtbot.addWidget(dialog)
        assert set(CARD_METHOD_KEYS) <= set(dialog.method_buttons)
        dialog.choose("card_phone")
        with qtbot.waitSignal(dialog.paid, timeout=15_000) as paid:
            dialog.submit()
            page = dialog.pages.currentWidget()
            qtbot.waitUntil(lambda: page.dialog is not None and page.dialog.attempt is not None, timeout=10_000)
            assert controller.interval_ms == 50   # a card payment waits: sync polls fast
            fake.pay_session(page.dialog.attempt.checkout_session_id)
        assert paid.args[0].paid_in_full and paid.args[0].order.status == "paid"
        qtbot.waitUntil(lambda: controller.interval_ms == 60_000, timeout=5_000)
    finally:
        close_desk(qtbot, services, window)


def test_without_stripe_status_says_card_payments_off_and_no_card_buttons(qtbot, db_path, clock) -> None:
    services, window = open_desk(qtbot, db_path, clock)
    try:
        assert services.card_payments is None and services.poller is None
        assert window.sync_controller is None
        text = window.status_sync.text()
        assert text.startswith("Card payments off: ") and SECRET_KEY_ENV in text
        assert [b.text() for b in window.nav_buttons] == ["Sell  [F1]", "Orders  [F2]", "Credits  [F3]"]
        dialog = PaymentDialog(window.desk, make_order(window), parent=window)
        qtbot.addWidget(dialog)
        assert set(dialog.method_buttons) == {"cash", "credit", "comp", "manual"}
    finally:
        close_desk(qtbot, services, window)


def test_card_reader_method_lists_readers_and_takes_the_payment(qtbot, db_path, clock, fake, monkeypatch) -> None:
    """PAY-11: the desk's reader is preselected; a tap on it pays the order and closes the payment dialog."""
    monkeypatch.setenv(SECRET_KEY_ENV, FAKE_KEY)
    monkeypatch.setenv(API_BASE_ENV, fake.url)
    services, window = open_desk(qtbot, db_path, clock, reader_id="tmr_desk2", fast_ms=50, slow_ms=60_000)
    try:
        dialog = PaymentDialog(window.desk, make_order(window), parent=window)
        qtbot.addWidget(dialog)
        dialog.choose("card_reader")
        page = dialog.pages.currentWidget()
        qtbot.waitUntil(lambda: page.readers.count() == 2, timeout=10_000)
        assert page.readers.currentData() == "tmr_desk2"
        with qtbot.waitSignal(dialog.paid, timeout=15_000) as paid:
            dialog.submit()
            qtbot.waitUntil(lambda: page.dialog is not None and page.dialog.attempt is not None, timeout=10_000)
            assert window.sync_controller is not None and window.sync_controller.interval_ms == 50
            fake.present_payment_method("tmr_desk2")
        result = paid.args[0]
        assert result.method == "terminal" and result.applied == Decimal("100.00") and result.order.balance == 0
    finally:
        close_desk(qtbot, services, window)
