"""Qt pieces of Stripe: sync controller, Sync screen and card dialogs, on real services and fake Stripe."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

pytest.importorskip("pytestqt")

from boxoffice.stripe_sync.poller import Poller, list_events, list_exceptions
from boxoffice.ui.dialogs.card_phone import CardPhoneDialog
from boxoffice.ui.dialogs.card_reader import CardReaderDialog
from boxoffice.ui.messages import RecordingMessages
from boxoffice.ui.screens.sync.events_model import EventsModel
from boxoffice.ui.screens.sync.screen import SyncScreen
from boxoffice.ui.stripe_wiring import sync_backend
from boxoffice.ui.sync_controller import SyncController
from boxoffice.ui.tasks import TaskRunner
from tests.fakes.fake_stripe import DECLINE_NUMBER
from tests.stripe.conftest import make_gateway
from tests.stripe.test_event_sync import ours

_RUNNERS: list[TaskRunner] = []  # kept alive for the session: no runner is deleted while Qt may still call it


@pytest.fixture
def tasks(qtbot) -> Iterator[TaskRunner]:
    runner = TaskRunner()
    _RUNNERS.append(runner)
    yield runner
    runner.wait_idle()
    qtbot.wait(10)  # deliver the last callbacks while their widgets still exist


def test_controller_polls_off_the_gui_thread_and_reports(qtbot, tasks, poller, fake, make_order, cards):
    order = make_order(1)
    attempt = cards.start_terminal_payment(order.id, "tmr_desk1")
    fake.present_payment_method("tmr_desk1")
    cards.check_terminal_payment(attempt.payment_id)
    controller = SyncController(tasks, poller.poll_once, fast_ms=50, slow_ms=10_000)
    assert controller.interval_ms == 10_000
    controller.set_payment_in_flight("reader", True)
    assert controller.interval_ms == 50
    with qtbot.waitSignal(controller.sync_finished, timeout=10_000) as blocker:
        controller.start()
    assert blocker.args[0].fetched >= 1 and controller.online
    assert controller.status_text().startswith("Stripe online")
    controller.set_payment_in_flight("reader", False)
    assert controller.interval_ms == 10_000
    controller.stop()


def test_controller_says_offline_and_keeps_going(qtbot, tasks, ctx, fake):
    url = fake.url
    fake.stop()
    controller = SyncController(tasks, Poller(ctx, make_gateway(url, max_network_retries=0)).poll_once)
    with qtbot.waitSignal(controller.sync_failed, timeout=10_000) as blocker:
        controller.poll_now()
    assert "cannot be reached" in blocker.args[0]
    assert not controller.online and "cash" in controller.status_text()


def test_events_model_passes_the_model_tester(qtmodeltester, fake, poller, ctx):
    fake.emit(
        "payment_intent.succeeded",
        {"id": "pi_a", "amount": 1, "currency": "usd", "metadata": {"order_id": "9"}},
    )
    fake.emit("payment_intent.succeeded", {"id": "pi_b", "amount": 1, "currency": "usd", "metadata": {}})
    poller.poll_once()
    model = EventsModel()
    model.set_rows(list_events(ctx))
    qtmodeltester.check(model)
    assert model.rowCount() == 2


def test_sync_screen_lists_failures_and_retry_records_a_new_exception(qtbot, tasks, fake, poller, ctx):
    fake.emit(
        "payment_intent.succeeded",
        {"id": "pi_a", "amount": 1, "currency": "usd", "metadata": ours(ctx, order_id="9")},
    )
    poller.poll_once()
    messages = RecordingMessages()
    screen = SyncScreen(sync_backend(ctx, poller), tasks, messages)   # as the desk wires it
    qtbot.addWidget(screen)
    with qtbot.waitSignal(screen.refreshed, timeout=10_000):
        screen.refresh()
    assert screen.model.rowCount() == 1 and "1 failing" in screen.status.text()
    screen.table.selectRow(0)
    assert screen.retry_button.isEnabled() and "LookupError" in screen.details.toPlainText()
    with qtbot.waitSignal(screen.refreshed, timeout=10_000):
        screen.retry_button.click()
    assert "still fails" in messages.shown[-1].text
    assert len(list_exceptions(ctx)) == 2


def test_card_reader_dialog_happy_path(qtbot, tasks, cards, fake, make_order):
    order = make_order(1)
    dialog = CardReaderDialog(cards, tasks, order_id=order.id, reader_id="tmr_desk1", check_ms=20)
    qtbot.addWidget(dialog)
    dialog.start()
    qtbot.waitUntil(
        lambda: dialog.attempt is not None and dialog.attempt.payment_intent_id != "", timeout=10_000
    )
    assert "tap" in dialog.status.text()
    with qtbot.waitSignal(dialog.payment_finished, timeout=10_000) as blocker:
        fake.present_payment_method("tmr_desk1")
    assert blocker.args[0].order_status == "paid" and "visa" in dialog.status.text()


def test_card_reader_dialog_shows_a_decline_and_offers_retry(qtbot, tasks, cards, fake, make_order):
    order = make_order(1)
    dialog = CardReaderDialog(cards, tasks, order_id=order.id, reader_id="tmr_desk1", check_ms=20)
    qtbot.addWidget(dialog)
    dialog.start()
    qtbot.waitUntil(lambda: dialog.attempt is not None, timeout=10_000)
    fake.present_payment_method("tmr_desk1", number=DECLINE_NUMBER)
    qtbot.waitUntil(lambda: not dialog.retry_button.isHidden(), timeout=10_000)
    assert "declined" in dialog.status.text() and "still open" in dialog.status.text()


def test_card_reader_dialog_cancel(qtbot, tasks, cards, fake, make_order):
    order = make_order(1)
    dialog = CardReaderDialog(cards, tasks, order_id=order.id, reader_id="tmr_desk1", check_ms=10_000)
    qtbot.addWidget(dialog)
    dialog.start()
    qtbot.waitUntil(lambda: dialog.attempt is not None, timeout=10_000)
    dialog.cancel_button.click()
    qtbot.waitUntil(lambda: "cancelled" in dialog.status.text(), timeout=10_000)
    assert cards.in_flight(order.id) is None and fake.objects["tmr_desk1"]["action"] is None


def test_phone_dialog_shows_a_qr_and_closes_when_sync_sees_the_payment(
    qtbot, tasks, cards, fake, make_order, poller
):
    order = make_order(1)
    dialog = CardPhoneDialog(cards, tasks, order_id=order.id, check_ms=20)
    qtbot.addWidget(dialog)
    dialog.start()
    qtbot.waitUntil(lambda: dialog.attempt is not None, timeout=10_000)
    assert not dialog.qr.pixmap().isNull() and dialog.url.text().startswith("https://checkout.stripe.com/")
    fake.pay_session(dialog.attempt.checkout_session_id)
    with qtbot.waitSignal(dialog.payment_finished, timeout=10_000):
        poller.poll_once()


def test_controllers_of_two_desks_share_the_poller_lease_and_take_it_back_when_free(
    qtbot, tasks, ctx, db, clock, fake, gateway
):
    """Only the lease holder polls; a desk that lost the lease re-acquires it at a tick once it is free."""
    from boxoffice.db.locks import PollerLease

    lease_a = PollerLease(db, holder="desk-a", lease_seconds=30, clock=clock)
    lease_b = PollerLease(db, holder="desk-b", lease_seconds=30, clock=clock)
    desk_a = SyncController(tasks, Poller(ctx, gateway).poll_once, lease=lease_a, slow_ms=600_000)
    desk_b = SyncController(tasks, Poller(ctx, gateway).poll_once, lease=lease_b, slow_ms=600_000)
    fake.emit("payment_intent.succeeded", {"id": "pi_x", "amount": 1, "currency": "usd", "metadata": {}})

    with qtbot.waitSignal(desk_a.sync_finished, timeout=10_000) as first:
        desk_a.poll_now()
    assert desk_a.holds_lease is True and first.args[0].fetched == 1

    finished_b: list[object] = []
    desk_b.sync_finished.connect(finished_b.append)
    with qtbot.waitSignal(desk_b.status_changed, timeout=10_000):
        desk_b.poll_now()
    assert desk_b.holds_lease is False and finished_b == []  # desk B did not poll
    assert desk_b.online and "another desk" in desk_b.status_text()

    clock.advance(seconds=31)  # desk A stopped renewing (hung): its lease row lapsed, desk B takes over
    with qtbot.waitSignal(desk_b.sync_finished, timeout=10_000):
        desk_b.poll_now()
    assert desk_b.holds_lease is True and lease_b.held

    with qtbot.waitSignal(desk_a.status_changed, timeout=10_000):
        desk_a.poll_now()  # desk A wakes up: its renewal fails, it does not poll beside desk B
    assert desk_a.holds_lease is False and not lease_a.held

    desk_b.stop()  # desk B closes: the lease is given up at once
    assert desk_b.holds_lease is False and lease_a.holder_info() is None
    with qtbot.waitSignal(desk_a.sync_finished, timeout=10_000):
        desk_a.poll_now()  # the next tick of desk A takes the free lease back and polls again
    assert desk_a.holds_lease is True and lease_a.holder_info().holder == "desk-a"
    desk_a.stop()
