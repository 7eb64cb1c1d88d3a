"""Selling at the desk through the real Sell screen and payment dialog (CART-*, PAY-*, VCH-*)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from PySide6.QtCore import Qt

from boxoffice.ui.desk import Desk
from boxoffice.ui.screens.sell.screen import SellScreen
from tests.gui.helpers import type_text


def make_screen(qtbot: Any, desk: Desk) -> SellScreen:
    screen = SellScreen(desk)
    qtbot.addWidget(screen)
    screen.resize(1200, 800)
    screen.show()
    screen.refresh_catalog()
    qtbot.waitUntil(lambda: len(screen.catalog.tiles) == 3)
    return screen


def cart_count(screen: SellScreen) -> int:
    return sum(line.quantity for line in screen.cart.lines) if screen.cart else 0


def click_tile(qtbot: Any, screen: SellScreen, name: str, expect_units: int) -> None:
    qtbot.mouseClick(screen.catalog.tile(name), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: cart_count(screen) == expect_units)


def test_voucher_sale_of_two_tickets_and_an_addon_for_cash_with_change(qtbot, desk, services) -> None:
    """VCH-*/PAY-5: 2 Regular + Workshop with SPRING (25 %) = 180.00; 200 tendered gives 20.00 back."""
    screen = make_screen(qtbot, desk)
    attendee = screen.cart_panel.attendee
    qtbot.keyClicks(attendee.name, "Ada Lovelace")
    qtbot.keyClicks(attendee.email, "ada@example.org")
    click_tile(qtbot, screen, "Regular", 1)
    qtbot.waitUntil(lambda: screen.catalog.tile("Workshop").isEnabled())
    click_tile(qtbot, screen, "Workshop", 2)
    screen.cart_panel.row("Regular").quantity.setValue(2)
    qtbot.waitUntil(lambda: cart_count(screen) == 3)
    qtbot.keyClicks(screen.voucher, "spring")
    qtbot.keyClick(screen.voucher, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: screen.cart.voucher_code == "SPRING")
    assert screen.cart.total == Decimal("180.00")
    assert screen.cart_panel.total.text() == "$180.00"
    assert screen.cart_panel.discount.text() == "−$60.00"

    qtbot.keyClick(screen, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: screen.payment_dialog is not None)
    dialog = screen.payment_dialog
    assert dialog.due.text() == "Due $180.00"
    type_text(qtbot, dialog.cash.tendered, "200")
    assert dialog.cash.change.text() == "$20.00"
    qtbot.keyClick(dialog.cash.tendered, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: screen.confirmation is not None and screen.confirmation.detail is not None)
    confirmation = screen.confirmation
    reference = confirmation.reference.text()
    assert confirmation.change.text() == "Give change: $20.00"

    order = services.orders.by_reference(reference)
    assert order.status == "paid"
    assert (order.total, order.paid, order.discount) == (Decimal("180.00"), Decimal("180.00"), Decimal("60.00"))
    assert order.billing_email == "ada@example.org"
    detail = services.orders.detail(order.id)
    assert sorted((line.description, line.quantity) for line in detail.lines) == [
        ("Regular", 2), ("Workshop", 1)]
    cash = detail.payments[0]
    assert (cash.method, cash.amount, cash.amount_tendered, cash.change_given) == (
        "cash", Decimal("180.00"), Decimal("200.00"), Decimal("20.00"))
    assert "Regular" in confirmation.receipt.toPlainText()
    qtbot.keyClick(confirmation, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: screen.confirmation is None)
    assert screen.cart is None and screen.cart_panel.total.text() == "$0.00"


def test_overselling_the_last_ticket_shows_the_message_next_to_the_cart(qtbot, desk, services) -> None:
    """CART-7: a second unit of a ticket with 1 left is refused with an actionable message."""
    screen = make_screen(qtbot, desk)
    screen.cart_panel.attendee.walkup.setChecked(True)
    assert "1 left" in screen.catalog.tile("Last One").text()
    click_tile(qtbot, screen, "Last One", 1)
    qtbot.mouseClick(screen.catalog.tile("Last One"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: screen.cart_panel.message.isVisible())
    text = screen.cart_panel.message.text()
    assert "left" in text.lower()
    assert desk.messages.shown[-1].kind == "user"
    assert cart_count(screen) == 1
    assert services.carts.get(screen.cart.id).lines[0].quantity == 1


def test_comp_a_ticket_with_a_reason(qtbot, desk, services) -> None:
    """[DESK] comp of a non-zero balance records a comp payment with the reason as note."""
    screen = make_screen(qtbot, desk)
    qtbot.keyClicks(screen.cart_panel.attendee.name, "Guido Speaker")
    click_tile(qtbot, screen, "Regular", 1)
    screen.pay()
    qtbot.waitUntil(lambda: screen.payment_dialog is not None)
    dialog = screen.payment_dialog
    qtbot.mouseClick(dialog.method_buttons["comp"], Qt.MouseButton.LeftButton)
    assert dialog.current_method() == "comp"
    qtbot.mouseClick(dialog.take, Qt.MouseButton.LeftButton)
    assert "why" in dialog.message.text()
    qtbot.keyClicks(dialog.comp.reason, "Keynote speaker")
    qtbot.keyClick(dialog.comp.reason, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: screen.confirmation is not None)
    order = screen.confirmation.payment.order
    assert services.orders.get(order.id).status == "paid"
    payment = services.orders.detail(order.id).payments[0]
    assert (payment.method, payment.note) == ("comp", "Keynote speaker")


def test_pay_without_attendee_or_walkup_asks_for_one(qtbot, desk) -> None:
    """DEC-5: the operator chooses explicitly between details and a walk-up."""
    screen = make_screen(qtbot, desk)
    click_tile(qtbot, screen, "Regular", 1)
    screen.pay()
    assert "Walk-up" in screen.cart_panel.attendee.message.text()
    assert screen.payment_dialog is None


def test_attendee_lookup_as_you_type_fills_the_fields(qtbot, desk, services) -> None:
    services.customers.get_or_create(name="Margaret Hamilton", email="margaret@example.org", company="MIT")
    screen = make_screen(qtbot, desk)
    attendee = screen.cart_panel.attendee
    qtbot.keyClicks(attendee.email, "marg")
    qtbot.waitUntil(lambda: attendee.matches.count() == 1)
    attendee.matches.itemClicked.emit(attendee.matches.item(0))
    assert (attendee.name.text(), attendee.company.text()) == ("Margaret Hamilton", "MIT")
    assert attendee.picked_customer.email == "margaret@example.org"


def test_walkup_cash_sale_takes_three_keys_and_clicks_plus_the_amount(qtbot, desk, services) -> None:
    """The interaction count stated in docs/desk.md: tile, walk-up, Ctrl+Enter, type amount, Enter."""
    screen = make_screen(qtbot, desk)
    interactions = 0
    qtbot.mouseClick(screen.catalog.tile("Regular"), Qt.MouseButton.LeftButton)
    interactions += 1
    qtbot.waitUntil(lambda: cart_count(screen) == 1)
    qtbot.mouseClick(screen.cart_panel.attendee.walkup, Qt.MouseButton.LeftButton)
    interactions += 1
    qtbot.keyClick(screen, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    interactions += 1
    qtbot.waitUntil(lambda: screen.payment_dialog is not None)
    dialog = screen.payment_dialog
    assert dialog.cash.tendered.hasFocus() or dialog.focusWidget() is dialog.cash.tendered
    qtbot.keyClicks(dialog.focusWidget(), "100")   # typing the tendered amount (not counted)
    qtbot.keyClick(dialog.focusWidget(), Qt.Key.Key_Return)
    interactions += 1
    qtbot.waitUntil(lambda: screen.confirmation is not None)
    assert interactions == 4
    assert services.orders.get(screen.confirmation.payment.order.id).status == "paid"


def test_another_desks_sale_updates_the_tiles_and_keeps_the_cart(qtbot, desk, services, catalogue, db_path,
                                                                 clock) -> None:
    """Two desks on one database file: desk 2 sells 3 Regular; desk 1's tile shows it, its cart stays."""
    from boxoffice.app import build_app
    from boxoffice.db.engine import sqlite_url
    from tests.gui.helpers import paid_cash_sale

    screen = make_screen(qtbot, desk)
    screen.changes.set_interval(50)
    qtbot.waitUntil(lambda: screen.changes.checks >= 1)  # the feed has its baseline
    attendee = screen.cart_panel.attendee
    qtbot.keyClicks(attendee.name, "Ada Lovelace")
    click_tile(qtbot, screen, "Regular", 1)
    cart_id = screen.cart.id
    tile = screen.catalog.tile("Regular")
    tile.setFocus()
    assert tile.status_text == "400 left"

    other = build_app(sqlite_url(db_path), clock=clock, desk_name="Desk 2")
    try:
        paid_cash_sale(other, catalogue.conference_id, name="Bob Byte", email="bob@example.org",
                       tickets={catalogue.regular: 3})
        qtbot.waitUntil(lambda: screen.catalog.tile("Regular").status_text == "397 left", timeout=5000)
        paid_cash_sale(other, catalogue.conference_id, name="Cy Press", email="cy@example.org",
                       tickets={catalogue.last_one: 1})
        qtbot.waitUntil(lambda: screen.catalog.tile("Last One").status_text == "Sold out", timeout=5000)
    finally:
        other.close()
    assert screen.catalog.tile("Regular") is tile and tile.hasFocus()  # updated in place, focus kept
    assert not screen.catalog.tile("Last One").isEnabled()
    assert screen.cart.id == cart_id and cart_count(screen) == 1
    assert screen.cart_panel.row("Regular").quantity.value() == 1
    assert attendee.name.text() == "Ada Lovelace"


def test_a_voucher_on_an_empty_cart_says_what_it_will_do(qtbot, desk) -> None:
    screen = make_screen(qtbot, desk)
    qtbot.keyClicks(screen.voucher, "spring")
    qtbot.keyClick(screen.voucher, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: screen.cart is not None and screen.cart.voucher_code == "SPRING")
    text = screen.voucher_label.text()
    assert text == "Voucher SPRING is on this cart: it takes 25 % off Regular tickets and Workshop."
    assert "$0.00" not in text
    click_tile(qtbot, screen, "Regular", 1)
    qtbot.waitUntil(lambda: "−$25.00" in screen.voucher_label.text())


def test_enter_takes_the_cash_after_clicking_exact(qtbot, desk, services) -> None:
    from PySide6.QtWidgets import QApplication

    screen = make_screen(qtbot, desk)
    click_tile(qtbot, screen, "Regular", 1)
    screen.cart_panel.attendee.walkup.setChecked(True)
    screen.pay()
    qtbot.waitUntil(lambda: screen.payment_dialog is not None)
    dialog = screen.payment_dialog
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow)
    qtbot.mouseClick(dialog.cash.exact, Qt.MouseButton.LeftButton)
    assert dialog.cash.tendered.text() == "100.00" and dialog.cash.tendered.hasFocus()
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: screen.confirmation is not None)
    assert services.orders.get(screen.confirmation.payment.order.id).status == "paid"


def test_enter_on_a_payment_method_button_takes_the_payment(qtbot, desk, services) -> None:
    screen = make_screen(qtbot, desk)
    click_tile(qtbot, screen, "Regular", 1)
    screen.cart_panel.attendee.walkup.setChecked(True)
    screen.pay()
    qtbot.waitUntil(lambda: screen.payment_dialog is not None)
    dialog = screen.payment_dialog
    qtbot.keyClicks(dialog.cash.tendered, "100")
    dialog.cash.exact.setFocus()
    qtbot.keyClick(dialog.cash.exact, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: screen.confirmation is not None)


def test_the_walkup_button_shows_when_it_is_on(qtbot, desk) -> None:
    screen = make_screen(qtbot, desk)
    walkup = screen.cart_panel.attendee.walkup
    assert not walkup.isChecked() and "✓" not in walkup.text()
    qtbot.mouseClick(walkup, Qt.MouseButton.LeftButton)
    assert walkup.isChecked() and walkup.text().startswith("✓")
    assert not screen.cart_panel.attendee.name.isEnabled()
    qtbot.mouseClick(walkup, Qt.MouseButton.LeftButton)
    assert not walkup.isChecked() and "✓" not in walkup.text()


def test_a_late_lookup_for_the_last_customer_does_not_show_for_the_next(qtbot, desk, services) -> None:
    services.customers.get_or_create(name="Margaret Hamilton", email="margaret@example.org", company="MIT")
    screen = make_screen(qtbot, desk)
    attendee = screen.cart_panel.attendee
    qtbot.keyClicks(attendee.name, "Marg")      # the look-up is under way when the sale ends
    screen.reset()                               # next customer
    qtbot.wait(600)                              # longer than the look-up delay and its answer
    assert attendee.matches.count() == 0 and attendee.matches.isHidden()
    margaret = services.customers.find("Marg", limit=6)
    attendee.show_matches(margaret)              # an answer arriving after the reset
    assert attendee.matches.count() == 0
