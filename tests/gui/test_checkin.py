"""The Check-in screen on real services: every result of a scan, the queue, search, payment, undo, walk-ups."""

from __future__ import annotations

import csv
import threading
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import select

from boxoffice.domain.models import AttendeeStatus, AuditEntry, CheckIn
from boxoffice.services.checkin import roster
from boxoffice.ui.desk import Desk
from boxoffice.ui.screens.checkin.screen import CheckInScreen
from boxoffice.ui.screens.checkin.sounds import SOUND_OF, sound_path
from tests import factories
from tests.gui.helpers import paid_cash_sale, type_text


def make_screen(qtbot: Any, desk: Desk) -> CheckInScreen:
    screen = CheckInScreen(desk)
    qtbot.addWidget(screen)
    screen.resize(1200, 800)
    screen.show()
    screen.refresh()
    qtbot.waitUntil(lambda: screen.count.text() != "")
    return screen


def scan(qtbot: Any, screen: CheckInScreen, text: str, outcome: str) -> Any:
    """Type ``text`` and Enter into the scan field like a scanner; wait for the result ``outcome``."""
    qtbot.keyClicks(screen.scan, text)
    qtbot.keyClick(screen.scan, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: screen.panel.result is not None and screen.panel.result.outcome == outcome
                    and not screen.in_flight)
    return screen.panel.result


def alt(qtbot: Any, screen: CheckInScreen, key: Qt.Key) -> None:
    """An Alt+letter press as the volunteer makes it: focus stays in the scan field."""
    assert screen.scan.hasFocus()
    qtbot.keyClick(screen.scan, key, Qt.KeyboardModifier.AltModifier)


def code_of(services: Any, order_id: int, index: int = 0) -> str:
    return services.attendees.for_order(order_id)[index].access_code


def pending_order(services: Any, conference_id: int, ticket_id: int, name: str) -> Any:
    customer = services.customers.get_or_create(name=name, email=f"{name.split()[0].lower()}@example.org",
                                                company="")
    cart = services.carts.open_cart(conference_id, customer.id)
    services.carts.add_ticket(cart.id, ticket_id, 1)
    return services.checkout.checkout(cart.id)


def test_sounds_are_distinct_wav_files_for_every_kind_of_result() -> None:
    assert len(set(SOUND_OF.values())) == len(SOUND_OF)
    contents = {sound_path(kind).read_bytes() for kind in SOUND_OF.values()}
    assert len(contents) == len(SOUND_OF) and all(c[:4] == b"RIFF" and c[8:12] == b"WAVE" for c in contents)


def test_every_result_is_shown_large_in_its_colour_with_its_own_sound(qtbot, desk, services, catalogue) -> None:
    conf = catalogue.conference_id
    db = services.db
    speaker = factories.ticket_type(db, conf, name="Speaker", price=Decimal("10.00"), total_quantity=20,
                                    checkin_note="Speaker: send to the green room")
    ada = paid_cash_sale(services, conf, name="Ada Lovelace", email="ada@example.org",
                         tickets={catalogue.regular: 1})
    grace = paid_cash_sale(services, conf, name="Grace Hopper", email="grace@example.org",
                           tickets={speaker.id: 1})
    unpaid = pending_order(services, conf, catalogue.regular, "Alan Turing")
    cancelled = pending_order(services, conf, catalogue.regular, "Kurt Godel")
    services.orders.cancel(cancelled.id)
    refunded = paid_cash_sale(services, conf, name="Barbara Liskov", email="barbara@example.org",
                              tickets={catalogue.regular: 1})
    services.refunds.refund(refunded.id, refunded.total, method="cash", reason="Cannot come")
    voided = paid_cash_sale(services, conf, name="Edsger Dijkstra", email="edsger@example.org",
                            tickets={catalogue.regular: 1})
    with db.write() as session:   # as when the lead cancels that one ticket of the order
        roster.set_status(session, voided.id, AttendeeStatus.VOID)
    other = factories.conference(db, name="Other Conf", slug="other-conf", reference_prefix="OC")
    other_ticket = factories.ticket_type(db, other.id, name="Other pass", total_quantity=10)
    foreign = paid_cash_sale(services, other.id, name="Linus T", email="linus@example.org",
                             tickets={other_ticket.id: 1})

    screen = make_screen(qtbot, desk)
    seen: dict[str, tuple[str, str]] = {}

    def check(result: Any, tone: str) -> None:
        assert screen.panel.tone == tone
        assert screen.panel.headline.text() == result.headline and screen.panel.headline.isVisible()
        assert screen.panel.headline.font().pointSizeF() >= 2.5 * screen.scan.font().pointSizeF() / 1.6
        assert screen.scan.hasFocus()   # the next scan goes straight in
        seen[result.outcome] = (tone, screen.sounds.played[-1])

    result = scan(qtbot, screen, code_of(services, ada.id), "admitted")
    check(result, "green")
    assert screen.panel.name.text() == "Ada Lovelace" and "Regular" in screen.panel.ticket.text()
    assert screen.panel.undo_button.isVisible() and not screen.panel.admit_button.isVisible()

    result = scan(qtbot, screen, code_of(services, ada.id).lower(), "already_checked_in")
    check(result, "amber")
    assert "Checked in at" in screen.panel.detail.text() and "Desk 1" in screen.panel.detail.text()
    assert screen.panel.admit_button.isVisible()
    alt(qtbot, screen, Qt.Key.Key_A)   # re-entry only on the explicit key
    qtbot.waitUntil(lambda: screen.panel.headline.text() == "Admitted again")
    with db.read() as session:
        kinds = [c.kind for c in session.scalars(select(CheckIn).order_by(CheckIn.id))]
    assert kinds == ["entry", "re-entry"]

    result = scan(qtbot, screen, code_of(services, grace.id), "attention")
    check(result, "amber")
    assert "green room" in screen.panel.notes.text()
    alt(qtbot, screen, Qt.Key.Key_A)
    qtbot.waitUntil(lambda: screen.panel.result.outcome == "admitted")
    assert screen.panel.name.text() == "Grace Hopper"

    result = scan(qtbot, screen, unpaid.reference, "not_paid")
    check(result, "red")
    assert screen.panel.pay_button.isVisible()
    check(scan(qtbot, screen, cancelled.reference, "cancelled"), "red")
    check(scan(qtbot, screen, code_of(services, refunded.id), "refunded"), "red")
    check(scan(qtbot, screen, code_of(services, voided.id), "void"), "red")
    check(scan(qtbot, screen, "ZZZZ9999", "unknown"), "red")
    result = scan(qtbot, screen, code_of(services, foreign.id), "other_conference")
    check(result, "red")
    assert "Other Conf" in screen.panel.detail.text() and result.next_step in screen.panel.next_step.text()

    assert set(seen) == {"admitted", "already_checked_in", "attention", "not_paid", "cancelled", "refunded",
                         "void", "unknown", "other_conference"}
    assert len({sound for _tone, sound in seen.values()}) == len(seen)   # a sound of its own each


def test_the_result_clears_after_its_time_and_the_count_follows(qtbot, desk, services, catalogue,
                                                                monkeypatch) -> None:
    from boxoffice.ui.screens.checkin import screen as screen_module

    monkeypatch.setattr(screen_module, "RESULT_MS", 50)
    ada = paid_cash_sale(services, catalogue.conference_id, name="Ada Lovelace", email="ada@example.org",
                         tickets={catalogue.regular: 1})
    screen = make_screen(qtbot, desk)
    qtbot.waitUntil(lambda: screen.count.text() == "In: 0 of 1")
    scan(qtbot, screen, code_of(services, ada.id), "admitted")
    qtbot.waitUntil(lambda: screen.panel.tone == "idle")
    qtbot.waitUntil(lambda: screen.count.text() == "In: 1 of 1")


def test_scans_typed_while_one_is_in_flight_are_queued_and_applied_in_order(qtbot, desk, services,
                                                                           catalogue) -> None:
    conf = catalogue.conference_id
    orders = [paid_cash_sale(services, conf, name=f"Person {n}", email=f"p{n}@example.org",
                             tickets={catalogue.regular: 1}) for n in range(4)]
    codes = [code_of(services, order.id) for order in orders]
    screen = make_screen(qtbot, desk)
    gate = threading.Event()
    desk.tasks.write(gate.wait)   # the writer is busy: every scan below waits behind it
    for code in codes:
        qtbot.keyClicks(screen.scan, code)
        qtbot.keyClick(screen.scan, Qt.Key.Key_Return)
    assert screen.scan.text() == "" and screen.in_flight and len(screen.queue) == 3
    assert screen.waiting.text() == "3 waiting…"
    gate.set()
    qtbot.waitUntil(lambda: not screen.queue and not screen.in_flight and screen.panel.result is not None)
    assert screen.panel.name.text() == "Person 3" and screen.waiting.text() == ""
    with services.db.read() as session:
        admitted = [c.attendee.access_code for c in session.scalars(select(CheckIn).order_by(CheckIn.id))]
    assert admitted == codes
    assert screen.sounds.played[-4:] == ["admitted"] * 4


def test_search_as_you_type_then_enter_on_the_chosen_match(qtbot, desk, services, catalogue) -> None:
    conf = catalogue.conference_id
    paid_cash_sale(services, conf, name="José Álvarez", email="jose@example.org", tickets={catalogue.regular: 1})
    paid_cash_sale(services, conf, name="Josephine Baker", email="jb@example.org", tickets={catalogue.regular: 1})
    screen = make_screen(qtbot, desk)
    qtbot.keyClicks(screen.scan, "jos")
    qtbot.waitUntil(lambda: screen.matches.isVisible() and screen.matches.count() == 2)
    qtbot.keyClicks(screen.scan, "e a")   # "jose a": accent-insensitive, any word of the name
    qtbot.waitUntil(lambda: screen.matches.count() == 1)
    assert "José Álvarez" in screen.matches.item(0).text()
    qtbot.keyClick(screen.scan, Qt.Key.Key_Backspace)
    qtbot.keyClick(screen.scan, Qt.Key.Key_Backspace)
    qtbot.waitUntil(lambda: screen.matches.count() == 2)
    qtbot.keyClick(screen.scan, Qt.Key.Key_Down)
    qtbot.keyClick(screen.scan, Qt.Key.Key_Down)
    chosen = screen.matches.currentItem().data(Qt.ItemDataRole.UserRole)
    qtbot.keyClick(screen.scan, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: screen.panel.result is not None and screen.panel.result.outcome == "admitted")
    assert screen.panel.name.text() == chosen.name and not screen.matches.isVisible()
    # Enter on a name with one match checks that one in
    scan(qtbot, screen, "baker", "admitted" if chosen.name != "Josephine Baker" else "already_checked_in")
    assert screen.panel.name.text() == "Josephine Baker"


def test_not_paid_takes_the_payment_then_admits(qtbot, desk, services, catalogue) -> None:
    order = pending_order(services, catalogue.conference_id, catalogue.regular, "Alan Turing")
    screen = make_screen(qtbot, desk)
    scan(qtbot, screen, order.reference.replace("-", "").lower(), "not_paid")
    alt(qtbot, screen, Qt.Key.Key_P)
    qtbot.waitUntil(lambda: screen.payment_dialog is not None and screen.payment_dialog.isVisible())
    dialog = screen.payment_dialog
    assert dialog.due.text() == "Due $100.00"
    qtbot.keyClicks(dialog.cash.tendered, "120")
    qtbot.keyClick(dialog.cash.tendered, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: screen.payment_dialog is None and screen.panel.result is not None
                    and screen.panel.result.outcome == "admitted")
    assert screen.panel.tone == "green" and screen.panel.name.text() == "Alan Turing"
    assert "Give change: $20.00" in screen.panel.detail.text()
    assert services.orders.get(order.id).status == "paid"
    assert services.attendees.for_order(order.id)[0].checked_in_at is not None


@pytest.mark.no_default_actor
def test_undo_needs_a_lead_and_a_reason_and_is_audited(qtbot, desk, services, catalogue, staff_team) -> None:
    from boxoffice.services.staff.access import acting_as
    from tests.gui.auth_helpers import locked_window, sign_in
    from tests.gui.conftest import LEAD_PASSWORD, VOLUNTEER_PIN

    with acting_as(staff_team.admin.actor()):
        ada = paid_cash_sale(services, catalogue.conference_id, name="Ada Lovelace", email="ada@example.org",
                             tickets={catalogue.regular: 1})
        code = code_of(services, ada.id)
    window = locked_window(qtbot, desk)
    from boxoffice.ui.screens.checkin.wiring import install_checkin

    install_checkin(window)
    sign_in(qtbot, window, "Vera", VOLUNTEER_PIN)
    qtbot.waitUntil(lambda: not window.is_locked())
    qtbot.keyClick(window, Qt.Key.Key_F11)
    screen = window.checkin
    qtbot.waitUntil(lambda: screen.isVisible() and screen.scan.hasFocus())
    scan(qtbot, screen, code, "admitted")
    alt(qtbot, screen, Qt.Key.Key_U)
    qtbot.waitUntil(lambda: screen.undo_dialog is not None and screen.undo_dialog.isVisible())
    dialog = screen.undo_dialog
    dialog.undo_button.click()   # no reason: refused, nothing sent
    assert "Type why" in dialog.message.text() and dialog.isVisible()
    qtbot.keyClicks(dialog.reason_field, "Scanned the wrong badge")
    qtbot.keyClick(dialog.reason_field, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: getattr(window, "override_dialog", None) is not None
                    and window.override_dialog.isVisible())
    override = window.override_dialog
    qtbot.keyClicks(override.form.name, "Linus")
    qtbot.keyClicks(override.form.secret, LEAD_PASSWORD)
    qtbot.waitUntil(lambda: override.form.name.text() == "Linus" and override.form.secret.text() == LEAD_PASSWORD)
    override.form.button.click()
    qtbot.waitUntil(lambda: screen.panel.result is not None and screen.panel.result.outcome == "undone")
    # the scan field has the window's focus again once the dialogs closed
    qtbot.waitUntil(lambda: window.focusWidget() is screen.scan, timeout=2000)
    window.activateWindow()
    with services.db.read() as session:
        row = session.scalars(select(CheckIn)).one()
        assert row.undone_at is not None and row.undo_reason == "Scanned the wrong badge"
        audit = [(a.actor_name, a.approver_name, "Scanned the wrong badge" in a.detail) for a in session.scalars(
            select(AuditEntry).where(AuditEntry.action == "checkin_undo"))]
    assert audit == [("Vera", "Linus", True)]
    scan(qtbot, screen, code, "admitted")   # expected again: the next scan admits


def test_dashboard_counts_and_exports_who_is_still_expected(qtbot, desk, services, catalogue, tmp_path) -> None:
    conf = catalogue.conference_id
    ada = paid_cash_sale(services, conf, name="Ada Lovelace", email="ada@example.org", tickets={catalogue.regular: 1})
    paid_cash_sale(services, conf, name="Grace Hopper", email="grace@example.org", tickets={catalogue.regular: 2})
    services.checkin.admit(services.attendees.for_order(ada.id)[0].id)
    screen = make_screen(qtbot, desk)
    screen.tabs.setCurrentIndex(1)
    board = screen.dashboard
    qtbot.waitUntil(lambda: board.dashboard is not None and board.dashboard.checked_in == 1)
    assert board.total.text() == "Checked in 1 of 3 (33 %)"
    assert board.per_ticket_type.item(0, 0).text() == "Regular" and board.per_ticket_type.item(0, 1).text() == "1"
    assert board.per_desk.item(0, 0).text() == "Desk 1"
    assert board.per_quarter.rowCount() >= 1 and "█" in board.per_quarter.item(
        board.per_quarter.rowCount() - 1, 2).text()
    # another desk checks someone in: the dashboard follows without a click
    qtbot.waitUntil(lambda: screen.changes.checks >= 1, timeout=3000)   # the feed has its baseline
    grace_first = services.attendees.search(conf, "grace")[0]
    services.checkin.admit(grace_first.id)
    qtbot.waitUntil(lambda: board.dashboard.checked_in == 2, timeout=5000)
    path = tmp_path / "expected.csv"
    screen.export_expected(path)
    qtbot.waitUntil(lambda: "still expected" in board.message.text())
    with path.open(encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert len(rows) == 2 and "Guest 1 of Grace Hopper" in ",".join(rows[1])


def _sell_two_tickets(qtbot: Any, desk: Desk, holder: str) -> Any:
    from tests.gui.test_sell import click_tile
    from tests.gui.test_sell import make_screen as make_sell_screen

    sell = make_sell_screen(qtbot, desk)
    qtbot.keyClicks(sell.cart_panel.attendee.name, "Ada Lovelace")
    click_tile(qtbot, sell, "Regular", 1)
    assert not sell.cart_panel.holders.isVisible()   # one ticket: the buyer holds it
    sell.cart_panel.row("Regular").quantity.setValue(2)
    qtbot.waitUntil(lambda: len(sell.cart_panel.holders.names) == 2 and sell.cart_panel.holders.isVisible())
    holders = sell.cart_panel.holders
    assert holders.names[0].placeholderText() == "1: Ada Lovelace"
    assert holders.names[1].placeholderText() == "2: Guest 1 of Ada Lovelace"
    qtbot.keyClicks(holders.names[1], holder)
    qtbot.keyClick(sell, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: sell.payment_dialog is not None)
    qtbot.keyClicks(sell.payment_dialog.cash.tendered, "200")
    qtbot.keyClick(sell.payment_dialog.cash.tendered, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: sell.confirmation is not None)
    return sell


def test_a_walkup_sale_names_its_holders_and_is_checked_in_at_once(qtbot, desk, services, catalogue) -> None:
    assert desk.checkin_walkups   # the desk setting is on by default
    sell = _sell_two_tickets(qtbot, desk, "Charles Babbage")
    confirmation = sell.confirmation
    qtbot.waitUntil(lambda: len(confirmation.admitted_results) == 2)
    assert confirmation.admitted.isVisible()
    assert confirmation.admitted.text() == "Checked in: Ada Lovelace, Charles Babbage"
    order_id = confirmation.payment.order.id
    people = services.attendees.for_order(order_id)
    assert [(a.name, a.checked_in_at is not None) for a in people] == [
        ("Ada Lovelace", True), ("Charles Babbage", True)]
    # at the door the holder's own code says so
    screen = make_screen(qtbot, desk)
    scan(qtbot, screen, people[1].access_code, "already_checked_in")
    assert screen.panel.name.text() == "Charles Babbage"


def test_with_the_walkup_setting_off_a_sale_checks_nobody_in(qtbot, desk, services, catalogue) -> None:
    desk.checkin_walkups = False
    sell = _sell_two_tickets(qtbot, desk, "Charles Babbage")
    qtbot.waitUntil(lambda: sell.confirmation.detail is not None)
    assert not sell.confirmation.admitted.isVisible()
    people = services.attendees.for_order(sell.confirmation.payment.order.id)
    assert [(a.name, a.checked_in_at) for a in people] == [("Ada Lovelace", None), ("Charles Babbage", None)]


def test_the_order_detail_lists_its_attendees_and_renames_one_keeping_the_code(qtbot, desk, services,
                                                                               catalogue) -> None:
    from tests.gui.test_orders_credits import orders_screen_on

    order = paid_cash_sale(services, catalogue.conference_id, name="Ada Lovelace", email="ada@example.org",
                           tickets={catalogue.regular: 2})
    before = services.attendees.for_order(order.id)
    screen = orders_screen_on(qtbot, desk, order.reference)
    pane = screen.attendees
    qtbot.waitUntil(lambda: pane.list.count() == 2)
    assert "Guest 1 of Ada Lovelace" in pane.list.item(1).text() and "expected" in pane.list.item(1).text()
    pane.list.setCurrentRow(1)
    pane.rename_button.click()
    dialog = pane.rename_dialog
    assert dialog is not None and dialog.name.text() == "Guest 1 of Ada Lovelace"
    dialog.name.clear()
    dialog.save.click()   # without a name: refused, the dialog stays
    qtbot.waitUntil(lambda: dialog.message.text() != "")
    type_text(qtbot, dialog.name, "Charles Babbage")
    dialog.save.click()
    qtbot.waitUntil(lambda: pane.rename_dialog is None and "Charles Babbage" in pane.list.item(1).text())
    after = services.attendees.for_order(order.id)
    assert after[1].name == "Charles Babbage" and after[1].access_code == before[1].access_code
    with services.db.read() as session:
        actions = [a.action for a in session.scalars(select(AuditEntry).where(AuditEntry.target_type == "attendee"))]
    assert actions == ["attendee_rename"]


def test_the_badge_prints_on_check_in_and_the_result_says_when(qtbot, desk, services, catalogue, tmp_path) -> None:
    """BDG-4/BDG-5 at the door: printed once when the desk says so, then 'Badge printed HH:MM' on scans."""
    from pypdf import PdfReader

    conf = catalogue.conference_id
    ada = paid_cash_sale(services, conf, name="Ada Lovelace", email="ada@example.org",
                         tickets={catalogue.regular: 1})
    folder = tmp_path / "badges"
    folder.mkdir()
    desk.printers = replace(desk.printers, badge_printer=f"pdf:{folder}", print_badge_on_checkin=True)
    screen = make_screen(qtbot, desk)
    code = code_of(services, ada.id)

    scan(qtbot, screen, code, "admitted")
    qtbot.waitUntil(lambda: "Badge printed" in screen.panel.detail.text(), timeout=10_000)
    pdfs = list(folder.glob("*.pdf"))
    assert len(pdfs) == 1 and PdfReader(pdfs[0]).pages[0].extract_text().split()[-3:-1] == ["Ada", "Lovelace"]
    attendee_id = services.attendees.for_order(ada.id)[0].id
    assert services.badges.last_print(attendee_id) is not None

    scan(qtbot, screen, code, "already_checked_in")   # a second scan prints nothing, and says when it was
    qtbot.waitUntil(lambda: "Badge printed" in screen.panel.detail.text(), timeout=10_000)
    assert len(list(folder.glob("*.pdf"))) == 1

    desk.printers = replace(desk.printers, print_badge_on_checkin=False)
    grace = paid_cash_sale(services, conf, name="Grace Hopper", email="grace@example.org",
                           tickets={catalogue.regular: 1})
    scan(qtbot, screen, code_of(services, grace.id), "admitted")
    qtbot.waitUntil(lambda: "No badge printed yet" in screen.panel.detail.text(), timeout=10_000)
    assert len(list(folder.glob("*.pdf"))) == 1
