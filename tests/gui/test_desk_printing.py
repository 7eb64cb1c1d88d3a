"""The desk's receipt printer through the real widgets: a loopback ESC/POS printer that records, refuses and hangs.

Printer settings on the Settings screen (saved, audited, test page), the receipt and drawer pulse
after a sale and a cash refund, a hanging printer that leaves the sale complete and the desk
usable, Retry on the confirmation and in the status bar, the Ctrl+P reprint, and the no-sale drawer.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import select

from boxoffice.config import Settings, load_settings
from boxoffice.domain.models import AuditEntry, ReceiptPrint
from boxoffice.ui.desk import Desk, DeskPrinters
from boxoffice.ui.main_window import MainWindow
from boxoffice.ui.receipt_jobs import ReceiptJobs, install_printer_status
from boxoffice.ui.screens.settings.screen import SettingsScreen
from boxoffice.ui.screens.shifts.screen import ShiftsScreen
from tests.fakes.fake_printer import FakePrinter, decode
from tests.gui.helpers import paid_cash_sale, type_text
from tests.gui.test_orders_credits import orders_screen_on
from tests.gui.test_sell import click_tile, make_screen

D = Decimal


@pytest.fixture
def printer() -> Iterator[FakePrinter]:
    fake = FakePrinter()
    yield fake
    fake.stop()


def _use_printer(desk: Desk, spec: str, *, auto_receipt: bool = True, timeout: float = 2.0) -> None:
    desk.printers = replace(desk.printers, receipt_printer=spec, auto_receipt=auto_receipt, cash_drawer=True)
    desk.services.receipt_printer.timeout = timeout


def _print_log(services: Any) -> list[tuple[str, str, bool]]:
    with services.db.read() as session:
        return [(r.kind, r.status, r.drawer_kicked)
                for r in session.scalars(select(ReceiptPrint).order_by(ReceiptPrint.id))]


def _audit(services: Any, action: str) -> list[AuditEntry]:
    with services.db.read() as session:
        rows = list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))
        session.expunge_all()
        return rows


def _window(qtbot: Any, desk: Desk) -> MainWindow:
    window = MainWindow(desk, conference_name="Python 2077", database_label="test.sqlite3", idle_ms=0)
    qtbot.addWidget(window)
    install_printer_status(window)
    window.resize(1280, 800)
    window.show()
    return window


def _sell_for_cash(qtbot: Any, screen: Any, tendered: str = "120") -> Any:
    """A walk-up Regular ticket (100.00) paid in cash through the payment dialog; returns the confirmation."""
    screen.cart_panel.attendee.walkup.setChecked(True)
    click_tile(qtbot, screen, "Regular", 1)
    screen.pay()
    qtbot.waitUntil(lambda: screen.payment_dialog is not None)
    dialog = screen.payment_dialog
    qtbot.keyClicks(dialog.cash.tendered, tendered)
    qtbot.keyClick(dialog.cash.tendered, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: screen.confirmation is not None and screen.confirmation.detail is not None)
    return screen.confirmation


# ---------------------------------------------------------------------- after a sale


def test_a_cash_sale_prints_its_receipt_with_one_drawer_pulse(qtbot, desk, services, printer) -> None:
    _use_printer(desk, printer.spec)
    screen = make_screen(qtbot, desk)
    confirmation = _sell_for_cash(qtbot, screen)
    qtbot.waitUntil(lambda: confirmation.print_status.text().startswith("Receipt printed"))
    assert "drawer opened" in confirmation.print_status.text() and confirmation.retry_print.isHidden()
    [job] = printer.jobs
    seen = decode(job)
    reference = confirmation.reference.text()
    assert seen.qr_payloads == [f"BOXOFFICE-ORDER:{reference}"]
    assert reference in seen.text and "$100.00" in seen.text and "$20.00" in seen.text   # total, change
    assert (seen.cuts, seen.drawer_pulses) == (1, 1)
    assert _print_log(services) == [("receipt", "printed", True)]
    # the confirmation's text and its PDF come from the same receipt model as the printer's bytes
    assert reference in confirmation.receipt.toPlainText() and "Change" in confirmation.receipt.toPlainText()


def test_without_automatic_receipts_a_cash_sale_only_opens_the_drawer(qtbot, desk, services, printer) -> None:
    _use_printer(desk, printer.spec, auto_receipt=False)
    screen = make_screen(qtbot, desk)
    confirmation = _sell_for_cash(qtbot, screen)
    qtbot.waitUntil(lambda: confirmation.print_status.text().startswith("Drawer opened"))
    [job] = printer.jobs
    seen = decode(job)
    assert (seen.drawer_pulses, seen.cuts, seen.qr_payloads) == (1, 0, [])
    assert _print_log(services) == [("drawer", "printed", True)]


def test_a_hanging_printer_leaves_the_sale_complete_and_the_desk_working_then_retry_prints(
        qtbot, desk, services, catalogue, printer) -> None:
    printer.mode = "hang"
    _use_printer(desk, printer.spec, timeout=3.0)
    window = _window(qtbot, desk)
    window.show_screen(0)
    screen = window.sell
    qtbot.waitUntil(lambda: len(screen.catalog.tiles) == 3)
    jobs = ReceiptJobs.of(desk)
    confirmation = _sell_for_cash(qtbot, screen)
    reference = confirmation.reference.text()
    assert jobs.running, "the receipt job is still waiting for the printer"
    assert confirmation.print_status.text() == "Printing…"
    assert services.orders.by_reference(reference).status == "paid"   # the sale does not wait for paper
    # the operator goes on with the next customer while the printer hangs
    qtbot.keyClick(confirmation, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: screen.confirmation is None)
    screen.cart_panel.attendee.walkup.setChecked(True)
    click_tile(qtbot, screen, "Regular", 1)
    assert jobs.running, "the next cart was built while the receipt job still hung"

    status = window.status_printer
    qtbot.waitUntil(lambda: status.isVisible(), timeout=15_000)
    assert status.label.text().startswith("Receipt not printed: the printer at network 127.0.0.1")
    assert "did not answer within 3 s" in status.label.text()
    assert _print_log(services) == [("receipt", "failed", False)]
    assert printer.jobs == []

    printer.mode = "ok"   # switched off and on again
    qtbot.mouseClick(status.retry, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: status.isHidden(), timeout=15_000)
    [job] = printer.jobs
    seen = decode(job)
    assert reference in seen.text and (seen.cuts, seen.drawer_pulses) == (1, 1)
    assert _print_log(services) == [("receipt", "failed", False), ("receipt", "printed", True)]
    assert screen.cart is not None and screen.cart.lines   # the next sale was never disturbed


def test_out_of_paper_shows_on_the_confirmation_and_its_retry_prints_once_paper_is_in(
        qtbot, desk, services, printer) -> None:
    printer.mode = "no_paper"
    _use_printer(desk, printer.spec)
    screen = make_screen(qtbot, desk)
    confirmation = _sell_for_cash(qtbot, screen)
    qtbot.waitUntil(lambda: confirmation.retry_print.isVisible())
    assert confirmation.print_status.text() == "Receipt not printed: the printer is out of paper"
    printer.mode = "ok"
    qtbot.mouseClick(confirmation.retry_print, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: confirmation.print_status.text().startswith("Receipt printed"))
    assert confirmation.retry_print.isHidden()
    assert [s for _k, s, _d in _print_log(services)] == ["failed", "printed"]
    assert decode(printer.received).drawer_pulses == 1


def test_a_printer_that_is_switched_off_is_named_in_the_status_bar(qtbot, desk, services, printer) -> None:
    printer.refuse()
    _use_printer(desk, printer.spec)
    window = _window(qtbot, desk)
    window.show_screen(0)
    qtbot.waitUntil(lambda: len(window.sell.catalog.tiles) == 3)
    _sell_for_cash(qtbot, window.sell)
    qtbot.waitUntil(lambda: window.status_printer.isVisible())
    assert "nothing answers at network 127.0.0.1" in window.status_printer.label.text()
    assert "switched on" in window.status_printer.label.text()


def test_a_card_sale_with_automatic_receipts_prints_without_a_drawer_pulse(qtbot, desk, services, catalogue,
                                                                          printer) -> None:
    _use_printer(desk, printer.spec)
    cart = services.carts.new_walkup_cart(catalogue.conference_id)
    services.carts.add_ticket(cart.id, catalogue.regular, 1)
    order = services.checkout.checkout(cart.id)
    result = services.payments.pay_manual(order.id, order.total, reference="card machine 4411")
    jobs = ReceiptJobs.of(desk)
    with qtbot.waitSignal(jobs.finished, timeout=10_000) as done:
        jobs.after_sale(result)
    assert done.args[0].ok and done.args[0].text.startswith("Receipt printed")
    seen = decode(printer.received)
    assert (seen.cuts, seen.drawer_pulses) == (1, 0)


# ---------------------------------------------------------------------- refunds and reprints


def test_a_cash_refund_opens_the_drawer_and_a_credit_refund_does_not(qtbot, desk, services, catalogue,
                                                                     printer) -> None:
    _use_printer(desk, printer.spec)
    order = paid_cash_sale(services, catalogue.conference_id, name="Ada", email="ada@example.org",
                           tickets={catalogue.regular: 2})
    orders = orders_screen_on(qtbot, desk, order.reference)
    jobs = ReceiptJobs.of(desk)
    for method, pulses in (("credit", 0), ("cash", 1)):
        qtbot.waitUntil(orders.refund.isEnabled)
        orders.open_refund()
        qtbot.waitUntil(lambda: orders.refund_dialog is not None)
        dialog = orders.refund_dialog
        dialog.amount.setText("50.00")   # a refund by amount: no units are cancelled
        dialog.choose_method(method)
        dialog.reason.setText("Left early")
        qtbot.mouseClick(dialog.confirm, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: orders.refund_dialog is None and "Refunded" in orders.message.text())
        if pulses:
            qtbot.waitUntil(lambda: bool(printer.jobs) and not jobs.running)
        assert decode(printer.received).drawer_pulses == pulses and not jobs.running
    assert _print_log(services) == [("drawer", "printed", True)]


def test_ctrl_p_reprints_the_selected_order_on_the_receipt_printer(qtbot, desk, services, catalogue,
                                                                   printer) -> None:
    _use_printer(desk, printer.spec, auto_receipt=False)
    order = paid_cash_sale(services, catalogue.conference_id, name="Ada Lovelace", email="ada@example.org",
                           tickets={catalogue.regular: 1})
    orders = orders_screen_on(qtbot, desk, order.reference)
    orders.table.setFocus()
    qtbot.keyClick(orders.table, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: orders.message.text().startswith("Receipt printed"))
    seen = decode(printer.received)
    assert order.reference in seen.text and "Ada Lovelace" in seen.text
    assert (seen.cuts, seen.drawer_pulses) == (1, 0)   # a reprint never opens the drawer
    assert _print_log(services) == [("receipt", "printed", False)]


def test_without_a_receipt_printer_the_reprint_is_the_receipt_pdf(qtbot, desk, services, catalogue,
                                                                  monkeypatch) -> None:
    opened: list[Path] = []
    monkeypatch.setattr(ReceiptJobs, "open_pdf", staticmethod(opened.append))
    order = paid_cash_sale(services, catalogue.conference_id, name="Ada Lovelace", email="ada@example.org",
                           tickets={catalogue.regular: 1})
    orders = orders_screen_on(qtbot, desk, order.reference)
    qtbot.mouseClick(orders.print_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(opened))
    [path] = opened
    assert path.name == f"{order.reference}.pdf" and path.read_bytes().startswith(b"%PDF")
    assert "No receipt printer is set" in orders.message.text() and str(path) in orders.message.text()
    text = _pdf_text(path)
    assert order.reference in text and "Ada Lovelace" in text and "$100.00" in text
    assert _print_log(services) == []


def _pdf_text(path: Path) -> str:
    from pypdf import PdfReader

    return " ".join(" ".join(page.extract_text() or "" for page in PdfReader(str(path)).pages).split())


# ---------------------------------------------------------------------- settings


@pytest.mark.no_default_actor
def test_printer_settings_are_saved_audited_applied_and_the_test_page_prints(qtbot, desk, services, staff_team,
                                                                             tmp_path, printer) -> None:
    from boxoffice.services.staff.access import acting_as

    path = tmp_path / "settings.json"
    with acting_as(staff_team.admin.actor()):
        screen = SettingsScreen(desk, Settings(), settings_path=path)
        qtbot.addWidget(screen)
        screen.show()
        screen.set_system_printers(["Zebra ZD421", "Brother QL-820NWB"])
        assert [screen.badge_printer.itemText(i) for i in range(screen.badge_printer.count())] == [
            "PDF (no badge printer)", "Brother QL-820NWB", "Zebra ZD421"]
        screen.receipt_printer.setText("bluetooth:AA:BB")
        screen.auto_receipt.setChecked(True)
        screen.save.click()
        qtbot.waitUntil(lambda: "network:HOST[:PORT]" in screen.printer_message.text()
                        or "network:HOST[:PORT]" in screen.message.text())
        assert not path.exists() and _audit(services, "settings_change") == []

        screen.receipt_printer.setText(printer.spec)
        screen.paper.setCurrentIndex(screen.paper.findData(58))
        screen.badge_printer.setCurrentIndex(screen.badge_printer.findData("Zebra ZD421"))
        screen.print_badge_on_checkin.setChecked(True)
        qtbot.mouseClick(screen.test_page, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: screen.printer_message.text().startswith("Test page sent"))
        assert "Desk 1" in decode(printer.received).text and decode(printer.received).cuts == 1
        saved: list[Settings] = []
        screen.settings_saved.connect(saved.append)
        screen.save.click()
        qtbot.waitUntil(lambda: screen.message.text() == "Settings saved.")
    stored = load_settings(path).settings
    assert (stored.receipt_printer, stored.receipt_paper_mm, stored.auto_receipt, stored.cash_drawer) == (
        printer.spec, 58, True, True)
    assert (stored.badge_printer, stored.print_badge_on_checkin) == ("Zebra ZD421", True)
    assert DeskPrinters.of(saved[0]).receipt_printer == printer.spec
    (row,) = _audit(services, "settings_change")
    detail = json.loads(row.detail) if isinstance(row.detail, str) else row.detail
    assert detail["receipt_printer"] == {"before": "", "after": printer.spec}
    assert detail["badge_printer"]["after"] == "Zebra ZD421" and row.actor_name == "Ada"
    assert [k for k, _s, _d in _print_log(services)] == ["test"]


@pytest.mark.no_default_actor
def test_saving_printer_settings_on_the_settings_screen_changes_the_desk_at_once(qtbot, desk, services,
                                                                                staff_team, tmp_path,
                                                                                keychain: Any) -> None:
    from tests.gui.auth_helpers import locked_window, sign_in
    from tests.gui.conftest import ADMIN_PASSWORD

    window = locked_window(qtbot, desk, tmp_path)
    sign_in(qtbot, window, "Ada", ADMIN_PASSWORD)
    qtbot.waitUntil(lambda: not window.is_locked())
    window.show_screen(len(window.nav_buttons) - 1)
    screen = window.settings_screen
    screen.receipt_printer.setText("file:" + str(tmp_path / "lp0"))
    screen.cash_drawer.setChecked(False)
    screen.save.click()
    qtbot.waitUntil(lambda: screen.message.text() == "Settings saved.")
    assert desk.printers.receipt_printer == "file:" + str(tmp_path / "lp0") and not desk.printers.cash_drawer


# ---------------------------------------------------------------------- no sale


@pytest.mark.no_default_actor
def test_opening_the_drawer_without_a_sale_needs_a_lead_and_is_audited(qtbot, desk, services, staff_team,
                                                                        printer) -> None:
    from tests.gui.auth_helpers import locked_window, sign_in
    from tests.gui.conftest import LEAD_PASSWORD, VOLUNTEER_PIN

    _use_printer(desk, printer.spec)
    window = locked_window(qtbot, desk)
    sign_in(qtbot, window, "Vera", VOLUNTEER_PIN)
    qtbot.waitUntil(lambda: not window.is_locked())
    screen = ShiftsScreen(desk)
    qtbot.addWidget(screen)
    screen.show()
    qtbot.mouseClick(screen.no_sale_button, Qt.MouseButton.LeftButton)
    dialog = screen.no_sale_dialog
    qtbot.mouseClick(dialog.open_button, Qt.MouseButton.LeftButton)
    assert "Give a reason" in dialog.message.text() and printer.jobs == []
    qtbot.keyClicks(dialog.reason, "change for the float")
    qtbot.mouseClick(dialog.open_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: getattr(window, "override_dialog", None) is not None
                    and window.override_dialog.isVisible())
    override = window.override_dialog
    assert "Opening the cash drawer without a sale needs a lead" in override.title.text()
    assert printer.jobs == []   # nothing opens before the lead approves
    qtbot.keyClicks(override.form.name, "Linus")
    type_text(qtbot, override.form.secret, LEAD_PASSWORD)
    override.form.button.click()
    qtbot.waitUntil(lambda: screen.no_sale_dialog is None)
    assert "Drawer opened" in screen.message.text()
    seen = decode(printer.received)
    assert (seen.drawer_pulses, seen.cuts) == (1, 0)
    (row,) = _audit(services, "drawer_open")
    detail = json.loads(row.detail) if isinstance(row.detail, str) else row.detail
    assert (row.actor_name, row.approver_name) == ("Vera", "Linus")
    assert detail["reason"] == "change for the float" and detail["result"] == "opened"
    assert desk.operator_name == "Vera"
