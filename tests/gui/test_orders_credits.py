"""Orders and Credits screens on real services: search, refund to credit, spend the credit (REF-*, CRD-*)."""

from __future__ import annotations

from decimal import Decimal

from PySide6.QtCore import Qt

from boxoffice.ui.formatting import Display
from boxoffice.ui.main_window import MainWindow
from boxoffice.ui.models.credits_model import CreditsModel
from boxoffice.ui.models.orders_model import PAGE_SIZE, OrderQuery, OrdersModel
from boxoffice.ui.screens.orders.screen import OrdersScreen
from tests.gui.helpers import paid_cash_sale


def orders_screen_on(qtbot, desk, reference: str) -> OrdersScreen:
    """An Orders screen, shown, with the order ``reference`` loaded in its detail pane."""
    screen = OrdersScreen(desk)
    qtbot.addWidget(screen)
    screen.show()
    screen.show_reference(reference)
    qtbot.waitUntil(lambda: screen.detail is not None and screen.detail.summary.reference == reference)
    return screen


def test_typing_part_of_the_email_finds_the_order(qtbot, desk, services, catalogue) -> None:
    ada = paid_cash_sale(services, catalogue.conference_id, name="Ada Lovelace", email="ada@example.org",
                         tickets={catalogue.regular: 1})
    paid_cash_sale(services, catalogue.conference_id, name="Bob Byte", email="bob@example.org",
                   tickets={catalogue.regular: 1})
    screen = OrdersScreen(desk)
    qtbot.addWidget(screen)
    screen.show()
    screen.refresh()
    qtbot.waitUntil(lambda: screen.model.rowCount() == 2)
    qtbot.keyClicks(screen.search, "ada@ex")
    qtbot.waitUntil(lambda: screen.model.rowCount() == 1 and screen.detail is not None
                    and screen.detail.summary.id == ada.id)
    assert screen.model.index(0, 0).data() == ada.reference
    assert screen.count_label.text() == "1 order"
    assert ada.reference in screen.detail_view.toPlainText()


def test_refund_one_line_to_store_credit_then_spend_it_with_cash_for_the_rest(
        qtbot, desk, services, catalogue) -> None:
    """REF-7(b): a line refunded as store credit; CRD-3/4: the credit pays part of a new sale."""
    order = paid_cash_sale(services, catalogue.conference_id, name="Ada Lovelace", email="ada@example.org",
                           tickets={catalogue.regular: 1}, addons={catalogue.workshop: 1})
    window = MainWindow(desk, conference_name="Python 2077", database_label="test.sqlite3")
    qtbot.addWidget(window)
    window.resize(1280, 860)
    window.show()
    window.activateWindow()   # the F-key shortcuts work in the active window
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.keyClick(window, Qt.Key.Key_F2)
    orders = window.orders
    assert window.stack.currentWidget() is orders
    qtbot.keyClicks(orders.search, order.reference)
    qtbot.keyClick(orders.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: orders.detail is not None and orders.detail.summary.id == order.id)
    assert orders.refund.isEnabled()
    qtbot.mouseClick(orders.refund, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: orders.refund_dialog is not None)
    dialog = orders.refund_dialog
    workshop_row = next(i for i, line in enumerate(orders.detail.lines) if line.description == "Workshop")
    dialog.check_line(workshop_row)
    assert dialog.amount.text() == "40.00"
    dialog.choose_method("credit")
    dialog.reason.setText("Workshop cancelled")
    qtbot.mouseClick(dialog.confirm, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: orders.refund_dialog is None and orders.detail.summary.status == "partially_refunded")
    assert "as store credit" in orders.message.text()
    assert services.orders.get(order.id).refunded == Decimal("40.00")
    [credit] = services.credits.available_for(order.customer_id, catalogue.conference_id)
    assert (credit.remaining, credit.source_order_reference) == (Decimal("40.00"), order.reference)

    window.activateWindow()   # offscreen does not re-activate the window after the refund dialog
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.keyClick(window, Qt.Key.Key_F3)
    credits = window.credits
    assert window.stack.currentWidget() is credits
    qtbot.waitUntil(lambda: credits.model.rowCount() == 1)
    credits.table.selectRow(0)
    assert credits.apply_button.isEnabled()
    qtbot.mouseClick(credits.apply_button, Qt.MouseButton.LeftButton)
    sell = window.sell
    qtbot.waitUntil(lambda: window.stack.currentWidget() is sell
                    and sell.cart_panel.attendee.email.text() == "ada@example.org")
    qtbot.waitUntil(lambda: len(sell.catalog.tiles) == 3)
    qtbot.mouseClick(sell.catalog.tile("Regular"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: sell.cart is not None and sell.cart.total == Decimal("100.00"))
    assert sell.cart.customer_id == order.customer_id
    window.activateWindow()   # offscreen does not re-activate the window after the refund dialog
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.keyClick(window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: sell.payment_dialog is not None
                    and sell.payment_dialog.credit.credits.count() == 1)
    payment = sell.payment_dialog
    assert payment.current_method() == "credit"
    qtbot.mouseClick(payment.take, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: payment.order.balance == Decimal("60.00"))
    assert payment.current_method() == "cash"
    qtbot.keyClicks(payment.cash.tendered, "60")
    qtbot.keyClick(payment.cash.tendered, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: sell.confirmation is not None)
    new_order = sell.confirmation.payment.order
    detail = services.orders.detail(new_order.id)
    assert detail.summary.status == "paid"
    assert sorted((p.method, p.amount) for p in detail.payments) == [
        ("cash", Decimal("60.00")), ("credit", Decimal("40.00"))]
    assert services.credits.available_for(order.customer_id, catalogue.conference_id) == []


def test_cancel_a_pending_order_from_the_orders_screen(qtbot, desk, services, catalogue) -> None:
    """ORD-1: a pending order is cancelled; its hold is released."""
    cart = services.carts.new_walkup_cart(catalogue.conference_id)
    services.carts.add_ticket(cart.id, catalogue.last_one, 1)
    pending = services.checkout.checkout(cart.id)
    screen = orders_screen_on(qtbot, desk, pending.reference)
    qtbot.waitUntil(screen.cancel_order.isEnabled)
    qtbot.mouseClick(screen.cancel_order, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: screen.detail.summary.status == "cancelled")
    assert screen.model.index(0, 4).data() == "Cancelled"
    assert services.catalog.remaining_all(catalogue.conference_id)[("ticket", catalogue.last_one)] == 1


def test_receipt_pdf_is_written(qtbot, desk, services, catalogue, tmp_path) -> None:
    order = paid_cash_sale(services, catalogue.conference_id, name="Ada", email="ada@example.org",
                           tickets={catalogue.regular: 1})
    screen = orders_screen_on(qtbot, desk, order.reference)
    target = tmp_path / "receipt.pdf"
    screen.save_receipt(target)
    qtbot.waitUntil(lambda: target.exists() and "saved" in screen.message.text())
    assert target.read_bytes().startswith(b"%PDF") and target.stat().st_size > 2000


def test_orders_model_passes_the_model_tester_and_fetches_lazily(qtbot, qtmodeltester, desk, services,
                                                                 catalogue) -> None:
    for i in range(PAGE_SIZE + 5):
        cart = services.carts.new_walkup_cart(catalogue.conference_id)
        services.carts.add_ticket(cart.id, catalogue.regular, 1)
        services.checkout.checkout(cart.id)
    model = OrdersModel(services.orders, desk.tasks, catalogue.conference_id, Display())
    with qtbot.waitSignal(model.loaded):
        model.set_query(OrderQuery())
    assert model.rowCount() == PAGE_SIZE and model.total == PAGE_SIZE + 5
    assert model.canFetchMore()
    model.fetchMore()
    qtbot.waitUntil(lambda: model.rowCount() == PAGE_SIZE + 5)
    assert not model.canFetchMore()
    qtmodeltester.check(model)


def test_credits_model_passes_the_model_tester(qtmodeltester, services, catalogue) -> None:
    customer = services.customers.get_or_create(name="Ada", email="ada@example.org", company="")
    credit = services.credits.issue(customer.id, catalogue.conference_id, Decimal("15.00"), note="Goodwill")
    model = CreditsModel(Display())
    model.set_rows([credit])
    assert model.index(0, 1).data() == "$15.00"
    qtmodeltester.check(model)


def test_another_desks_sale_appears_in_orders_keeping_selection_and_scroll(qtbot, desk, services, catalogue,
                                                                           db_path, clock) -> None:
    """Desk 2 sells while desk 1 looks at an order further down: the new order shows, the view stays."""
    from boxoffice.app import build_app
    from boxoffice.db.engine import sqlite_url

    for i in range(30):
        clock.advance(seconds=60)
        paid_cash_sale(services, catalogue.conference_id, name=f"Buyer {i:02d}", email=f"b{i}@example.org",
                       tickets={catalogue.regular: 1})
    screen = OrdersScreen(desk)
    qtbot.addWidget(screen)
    screen.resize(1100, 420)
    screen.show()
    screen.refresh()
    qtbot.waitUntil(lambda: screen.model.rowCount() == 30)
    screen.changes.set_interval(50)
    qtbot.waitUntil(lambda: screen.changes.checks >= 1)  # the feed has its baseline
    screen.table.scrollTo(screen.model.index(12, 0), screen.table.ScrollHint.PositionAtTop)
    qtbot.waitUntil(lambda: screen.table.rowAt(0) == 12)
    top_id = screen.model.row_of(12).id
    screen.table.selectRow(14)
    chosen = screen.model.row_of(14)
    qtbot.waitUntil(lambda: screen.detail is not None and screen.detail.summary.id == chosen.id)

    other = build_app(sqlite_url(db_path), clock=clock, desk_name="Desk 2")
    try:
        clock.advance(seconds=60)
        newest = paid_cash_sale(other, catalogue.conference_id, name="Zed Other", email="zed@example.org",
                                tickets={catalogue.regular: 2})
    finally:
        other.close()
    qtbot.waitUntil(lambda: screen.model.total == 31 and screen.count_label.text() == "31 orders", timeout=5000)
    assert screen.model.row_of(0).id == newest.id  # newest first
    assert screen.model.row_of(screen.table.rowAt(0)).id == top_id  # same orders in view
    selected = screen.table.selectionModel().selectedRows()
    assert [screen.model.row_of(i.row()).id for i in selected] == [chosen.id]
    assert screen.table.currentIndex().row() == 15
    assert screen.detail.summary.id == chosen.id


def test_a_lead_voids_a_cash_payment_keyed_on_the_wrong_order(qtbot, desk, services, catalogue) -> None:
    """A voided payment counts for nothing, the order is due again, and the reason is required."""
    order = paid_cash_sale(services, catalogue.conference_id, name="Ada Lovelace", email="ada@example.org",
                           tickets={catalogue.regular: 1})
    screen = orders_screen_on(qtbot, desk, order.reference)
    qtbot.waitUntil(screen.void_payment.isEnabled)
    qtbot.mouseClick(screen.void_payment, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: screen.void_dialog is not None and screen.void_dialog.isVisible())
    dialog = screen.void_dialog
    qtbot.mouseClick(dialog.void, Qt.MouseButton.LeftButton)   # no reason yet
    assert "Say why" in dialog.message.text() and dialog.isVisible()
    dialog.reason.setText("keyed on the wrong order")
    qtbot.mouseClick(dialog.void, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: screen.detail.summary.status == "pending")
    assert screen.detail.summary.balance == Decimal("100.00")
    assert [p.status for p in screen.detail.payments] == ["voided"]
    assert not screen.void_payment.isEnabled()   # nothing left to void
    rows = services.audit.search(actions=["void_payment"])
    assert len(rows) == 1 and "keyed on the wrong order" in rows[0].detail


def test_the_refund_dialog_labels_lead_to_their_fields(qtbot, desk, services, catalogue) -> None:
    from boxoffice.ui.dialogs.refund import RefundDialog
    from tests.gui.helpers import labels_without_buddy

    order = paid_cash_sale(services, catalogue.conference_id, name="Ada Lovelace", email="ada@example.org",
                           tickets={catalogue.regular: 1})
    dialog = RefundDialog(desk, services.orders.detail(order.id), services.refunds.refundable(order.id))
    qtbot.addWidget(dialog)
    assert labels_without_buddy(dialog) == []
