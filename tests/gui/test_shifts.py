"""Cash shifts in the GUI: the prompt to open one, the close dialog, reports, the screen."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from boxoffice.ui.dialogs.refund import RefundDialog
from boxoffice.ui.dialogs.shift_close import ShiftCloseDialog
from boxoffice.ui.main_window import MainWindow
from boxoffice.ui.screens.shifts.screen import ShiftsScreen
from boxoffice.ui.screens.shifts.shifts_model import ShiftsModel
from boxoffice.ui.shift_report_pdf import shift_report_html
from boxoffice.ui.shift_wiring import install_shifts
from tests.gui.helpers import paid_cash_sale, type_text
from tests.gui.test_sell import click_tile, make_screen

D = Decimal


def close_open_shift(services: Any) -> None:
    current = services.shifts.current()
    services.shifts.close(current.id, current.expected)


def open_prompt_with(qtbot: Any, prompt: Any, amount_button: str) -> None:
    qtbot.mouseClick(prompt.confirm, Qt.MouseButton.LeftButton)   # nothing typed yet
    assert "starting float" in prompt.message.text()
    qtbot.keyClicks(prompt.amount, "12.345")
    qtbot.mouseClick(prompt.confirm, Qt.MouseButton.LeftButton)
    assert "more than two decimals" in prompt.message.text()
    button = next(b for b in prompt.quick_buttons if b.text() == amount_button)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert prompt.amount.text() == amount_button.lstrip("$") + ("" if "." in amount_button else ".00")
    qtbot.mouseClick(prompt.confirm, Qt.MouseButton.LeftButton)


def test_a_cash_sale_with_no_shift_open_prompts_for_the_float_then_goes_on(qtbot, desk, services) -> None:
    close_open_shift(services)
    screen = make_screen(qtbot, desk)
    screen.cart_panel.attendee.walkup.setChecked(True)
    click_tile(qtbot, screen, "Regular", 1)
    screen.pay()
    qtbot.waitUntil(lambda: screen.payment_dialog is not None and screen.payment_dialog.shift_prompt is not None)
    dialog = screen.payment_dialog
    prompt = dialog.shift_prompt
    assert "No cash shift is open at Desk 1" in prompt.reason.text()
    open_prompt_with(qtbot, prompt, "$150.00")
    qtbot.waitUntil(lambda: dialog.shift_prompt is None)
    assert "opened with a float of $150.00" in dialog.message.text()
    assert dialog.isVisible()   # the sale goes on
    qtbot.keyClicks(dialog.cash.tendered, "120")
    qtbot.keyClick(dialog.cash.tendered, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: screen.confirmation is not None)
    shift = services.shifts.current()
    assert (shift.opening_float, shift.cash_in, shift.expected) == (D("150.00"), D("100.00"), D("250.00"))


def test_cash_after_the_shift_was_closed_elsewhere_asks_again_and_retries_once(qtbot, desk, services) -> None:
    screen = make_screen(qtbot, desk)
    screen.cart_panel.attendee.walkup.setChecked(True)
    click_tile(qtbot, screen, "Regular", 1)
    screen.pay()
    qtbot.waitUntil(lambda: screen.payment_dialog is not None)
    dialog = screen.payment_dialog
    desk.tasks.wait_idle()
    qtbot.waitUntil(lambda: not desk.tasks.is_busy())
    assert dialog.shift_prompt is None          # a shift was open when the dialog opened
    close_open_shift(services)                  # ... then another window closed it
    qtbot.keyClicks(dialog.cash.tendered, "100")
    qtbot.keyClick(dialog.cash.tendered, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.shift_prompt is not None)
    assert "No cash shift is open" in dialog.shift_prompt.reason.text()
    qtbot.keyClicks(dialog.shift_prompt.amount, "80")
    qtbot.keyClick(dialog.shift_prompt.amount, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: screen.confirmation is not None)
    shift = services.shifts.current()
    assert (shift.opening_float, shift.cash_in, shift.cash_payments) == (D("80.00"), D("100.00"), 1)


def test_a_cash_refund_with_no_shift_open_prompts_then_refunds(qtbot, desk, services, catalogue) -> None:
    order = paid_cash_sale(services, catalogue.conference_id, name="Ada Lovelace", email="ada@example.org",
                           tickets={catalogue.regular: 1})
    close_open_shift(services)
    dialog = RefundDialog(desk, services.orders.detail(order.id), services.refunds.refundable(order.id))
    qtbot.addWidget(dialog)
    dialog.show()
    refunded: list[Any] = []
    dialog.refunded.connect(refunded.append)
    dialog.amount.setText("30.00")
    dialog.choose_method("cash")
    qtbot.mouseClick(dialog.confirm, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.shift_prompt is not None)
    qtbot.keyClicks(dialog.shift_prompt.amount, "50")
    qtbot.mouseClick(dialog.shift_prompt.confirm, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(refunded) == 1)
    assert refunded[0].method == "cash" and refunded[0].amount == D("30.00")
    shift = services.shifts.current()
    assert (shift.cash_out, shift.expected) == (D("30.00"), D("20.00"))


@pytest.fixture
def shifts_screen(qtbot, desk, services, catalogue) -> ShiftsScreen:  # type: ignore[no-untyped-def]
    paid_cash_sale(services, catalogue.conference_id, name="Ada Lovelace", email="ada@example.org",
                   tickets={catalogue.regular: 1})
    screen = ShiftsScreen(desk)
    qtbot.addWidget(screen)
    screen.resize(1200, 800)
    screen.show()
    screen.refresh()
    qtbot.waitUntil(lambda: screen.current is not None and screen.model.rowCount() == 1)
    return screen


def test_close_dialog_shows_the_difference_and_saves_the_reports(qtbot, desk, services, shifts_screen,
                                                                 tmp_path: Path, monkeypatch) -> None:
    screen = shifts_screen
    assert screen.expected.text() == "$200.00" and screen.cash_in.text() == "+ $100.00"
    qtbot.mouseClick(screen.close_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: screen.close_dialog is not None)
    dialog = screen.close_dialog
    assert dialog.expected.text() == "$200.00"
    type_text(qtbot, dialog.counted, "195")
    assert dialog.difference.text() == "Short $5.00" and dialog.difference.property("kind") == "short"
    dialog.counted.setText("201.5")
    assert dialog.difference.text() == "Over $1.50" and dialog.difference.property("kind") == "over"
    qtbot.mouseClick(dialog.count_toggle, Qt.MouseButton.LeftButton)
    for value, count in (("100", 1), ("50", 1), ("20", 2), ("5", 1)):
        dialog.count_boxes[D(value)].setValue(count)
    assert dialog.counted.text() == "195.00" and dialog.difference.text() == "Short $5.00"
    qtbot.mouseClick(dialog.close_button, Qt.MouseButton.LeftButton)
    assert dialog.steps.currentIndex() == 1
    assert "$195.00 counted against $200.00 expected (short $5.00)" in dialog.confirm_text.text()
    qtbot.mouseClick(dialog.confirm, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.steps.currentIndex() == 2)
    assert "counted $195.00: short $5.00" in dialog.done_text.text()
    assert services.shifts.current() is None
    [closed] = services.shifts.list()
    assert (closed.expected, closed.counted, closed.difference) == (D("200.00"), D("195.00"), D("-5.00"))

    targets = iter([tmp_path / "shift.pdf", tmp_path / "shift"])
    monkeypatch.setattr(ShiftCloseDialog, "ask_save_path", staticmethod(lambda *_a: next(targets)))
    with qtbot.waitSignal(dialog.report_saved, timeout=10000) as saved_pdf:
        qtbot.mouseClick(dialog.save_pdf, Qt.MouseButton.LeftButton)
    pdf = saved_pdf.args[0]
    assert pdf == tmp_path / "shift.pdf" and pdf.read_bytes()[:5] == b"%PDF-" and pdf.stat().st_size > 2000
    with qtbot.waitSignal(dialog.report_saved, timeout=10000) as saved_csv:
        qtbot.mouseClick(dialog.save_csv, Qt.MouseButton.LeftButton)
    assert saved_csv.args[0] == tmp_path / "shift.csv"   # the extension is added
    rows = list(csv.reader((tmp_path / "shift.csv").open(encoding="utf-8")))
    assert ["Expected cash", "200.00"] in rows and ["Difference", "-5.00"] in rows
    assert not list(tmp_path.glob("*.part"))
    qtbot.waitUntil(lambda: screen.current is None and screen.model.rowCount() == 1)
    assert screen.open_button.isEnabled() and not screen.close_button.isEnabled()
    assert screen.model.index(0, 8).data() == "Short $5.00"


def test_closing_needs_a_count_and_can_go_back(qtbot, desk, services, shifts_screen) -> None:
    shifts_screen.close_shift()
    qtbot.waitUntil(lambda: shifts_screen.close_dialog is not None)
    dialog = shifts_screen.close_dialog
    qtbot.mouseClick(dialog.close_button, Qt.MouseButton.LeftButton)
    assert dialog.steps.currentIndex() == 0 and "Count the cash" in dialog.message.text()
    dialog.counted.setText("-3")
    qtbot.mouseClick(dialog.close_button, Qt.MouseButton.LeftButton)
    assert "negative" in dialog.message.text() and dialog.steps.currentIndex() == 0
    dialog.counted.setText("200")
    assert dialog.difference.text() == "Exact: no difference"
    qtbot.keyClick(dialog.counted, Qt.Key.Key_Return)
    assert dialog.steps.currentIndex() == 1
    dialog.reject()
    assert services.shifts.current() is not None


def test_export_of_a_past_shift_and_an_interim_report(qtbot, desk, services, shifts_screen, tmp_path,
                                                      monkeypatch) -> None:
    screen = shifts_screen
    monkeypatch.setattr(ShiftsScreen, "ask_save_path", staticmethod(lambda _p, _t, name, _f: tmp_path / name))
    qtbot.mouseClick(screen.interim_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Report saved" in screen.message.text(), timeout=10000)
    [interim] = list(tmp_path.glob("*.pdf"))
    assert interim.name.startswith(f"shift-{screen.current.id}-desk-1-")
    screen.table.selectRow(0)
    qtbot.mouseClick(screen.export_csv, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(list(tmp_path.glob("*.csv"))) == 1, timeout=10000)
    rows = list(csv.reader(next(tmp_path.glob("*.csv")).open(encoding="utf-8")))
    assert rows[0] == ["Shift report (interim: shift still open)"] and ["Cash in", "100.00"] in rows


def test_report_html_shows_every_section(services, catalogue, desk) -> None:
    paid_cash_sale(services, catalogue.conference_id, name="Ada Lovelace", email="ada@example.org",
                   tickets={catalogue.regular: 2})
    shift = services.shifts.current()
    services.shifts.close(shift.id, "290")
    html = shift_report_html(services.shifts.report(shift.id), desk.display)
    for text in ("Shift report — Desk 1, shift #", "Cash drawer", "Payments by method", "Sales by ticket type",
                 "Payments by operator", "Refunds", "Comps", "Credits issued", "$300.00", "$290.00",
                 "class='short'>$10.00"):
        assert text in html


def test_install_shifts_adds_the_screen_and_the_drawer_to_the_status_bar(qtbot, desk, services) -> None:
    window = MainWindow(desk, conference_name="Python 2077", database_label="test.sqlite3")
    qtbot.addWidget(window)
    install_shifts(window)
    window.show()
    status = window.status_shift
    qtbot.waitUntil(lambda: "expected $100.00" in status.text())
    assert window.statusBar().isAncestorOf(status)
    assert not window.is_built("shifts_screen")   # built when first shown
    qtbot.keyClick(window, Qt.Key.Key_F6)
    screen = window.stack.currentWidget()
    assert isinstance(screen, ShiftsScreen) and screen is window.shifts_screen
    qtbot.waitUntil(lambda: screen.current is not None)
    screen.close_shift()
    qtbot.waitUntil(lambda: screen.close_dialog is not None)
    screen.close_dialog.counted.setText("100")
    screen.close_dialog.review()
    qtbot.mouseClick(screen.close_dialog.confirm, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: status.text() == "Drawer: no shift open")
    screen.close_dialog.accept()
    screen.open_shift()
    qtbot.waitUntil(lambda: screen.open_dialog is not None)
    screen.open_dialog.amount.setText("75")
    qtbot.mouseClick(screen.open_dialog.confirm, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "expected $75.00" in status.text() and screen.current is not None)
    assert screen.float_value.text() == "$75.00"


def test_shifts_model(qtmodeltester, services, desk) -> None:
    model = ShiftsModel(desk.display)
    current = services.shifts.current()
    services.shifts.close(current.id, "99")
    model.set_rows(services.shifts.list())
    qtmodeltester.check(model)
    assert model.index(0, 8).data() == "Short $1.00"
    assert model.index(0, 6).data() == "$100.00"
