"""Take the README screenshots of each screen with demo data (run under Xvfb: see docs/desk.md)."""

from __future__ import annotations

import sys
import tempfile
from decimal import Decimal
from pathlib import Path

from PySide6.QtCore import QEventLoop, QTimer

from boxoffice.app import build_app
from boxoffice.db.engine import sqlite_url
from boxoffice.demo.seed import seed_demo
from boxoffice.ui.desk import Desk
from boxoffice.ui.formatting import Display
from boxoffice.ui.launch import application
from boxoffice.ui.main_window import MainWindow
from boxoffice.ui.messages import Messages
from boxoffice.ui.tasks import TaskRunner


def settle(ms: int = 400) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def sell(services, conference_id: int, name: str, email: str, ticket: str, qty: int = 1) -> None:
    catalog = services.catalog.list_products(conference_id)
    ticket_id = next(t.id for t in catalog.tickets if t.name == ticket)
    customer = services.customers.get_or_create(name=name, email=email, company="")
    cart = services.carts.open_cart(conference_id, customer.id)
    services.carts.add_ticket(cart.id, ticket_id, qty)
    order = services.checkout.checkout(cart.id)
    services.payments.pay_cash(order.id, order.total)


def main(out: Path) -> int:
    app = application()
    services = build_app(sqlite_url(Path(tempfile.mkdtemp()) / "demo.sqlite3"))
    conference_id = seed_demo(services.ctx).conference_id
    people = [("Ada Lovelace", "ada@example.org", "Individual"), ("Grace Hopper", "grace@example.org", "Corporate"),
              ("Alan Turing", "alan@example.org", "Individual"), ("Katherine Johnson", "kj@example.org", "Individual")]
    for name, email, ticket in people:
        sell(services, conference_id, name, email, ticket)
    refund_order = services.orders.search(conference_id, "ada")[0]
    services.refunds.refund(refund_order.id, Decimal("20.00"), method="credit", reason="Goodwill")
    conference = services.conferences.get(conference_id)
    operator = services.staff.get_or_create("Demo Operator")
    desk = Desk(services, TaskRunner(), Messages(), conference_id, Display(conference.currency, conference.timezone),
                operator.id, operator.name)
    window = MainWindow(desk, conference_name=conference.name, database_label="demo.sqlite3")
    window.resize(1366, 800)
    window.show()
    settle(800)
    window.sell.cart_panel.attendee.name.setText("Margaret Hamilton")
    window.sell.cart_panel.attendee.email.setText("margaret@example.org")
    tiles = {t.product.name: t for t in window.sell.catalog.tiles}
    tiles["Individual"].click()
    settle(600)
    for name in ("Tutorial: Intro to Django", "PyDesk T-Shirt"):
        window.sell.catalog.tile(name).click()
        settle(600)
    window.sell.voucher.setText("SPRING25")
    window.sell.voucher.returnPressed.emit()
    settle(600)
    window.grab().save(str(out / "sell.png"))
    window.sell.pay()
    settle(700)
    dialog = window.sell.payment_dialog
    if dialog is not None:
        dialog.cash.tendered.setText("240")
        dialog.grab().save(str(out / "payment.png"))
        dialog.submit()
        settle(900)
        if window.sell.confirmation is not None:
            window.sell.confirmation.grab().save(str(out / "confirmation.png"))
            window.sell.confirmation.accept()
    window.show_screen(1)
    settle(900)
    window.grab().save(str(out / "orders.png"))
    window.show_screen(2)
    settle(700)
    window.credits.table.selectRow(0)
    window.grab().save(str(out / "credits.png"))
    desk.tasks.wait_idle()
    services.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots")))
