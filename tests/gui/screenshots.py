"""Take the README screenshots of each screen with demo data (run under Xvfb: see the README)."""

from __future__ import annotations

import os
import sys
import tempfile
from decimal import Decimal
from pathlib import Path

from PySide6.QtCore import QEventLoop, QTimer

from boxoffice.app import build_app
from boxoffice.config import Settings
from boxoffice.db.engine import sqlite_url
from boxoffice.demo.seed import seed_demo
from boxoffice.errors import PermissionDenied
from boxoffice.services.staff.access import SYSTEM, Permission, acting_as, set_operator
from boxoffice.ui.desk import Desk
from boxoffice.ui.dialogs.override import OverrideDialog
from boxoffice.ui.formatting import Display
from boxoffice.ui.launch import application, install_features
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


def shot(widget, out: Path, name: str, ms: int = 700) -> None:
    settle(ms)
    widget.grab().save(str(out / name))


def registrations_csv(path: Path) -> Path:
    """A few web orders of the demo conference in the registrations CSV format."""
    from boxoffice.domain.catalog_rules import slugify
    from boxoffice.services.checkin.registrations_csv import HEADER

    shirt = slugify("PyDesk T-Shirt")
    rows = [  # reference, status, buyer, e-mail, attendee, ticket, add-ons, paid, refunded
        ("WEB-2001", "paid", "Mary Jackson", "mary@example.org", "", "individual", shirt, "125.00", "0.00"),
        ("WEB-2002", "paid", "Dorothy Vaughan", "dorothy@example.org", "", "corporate", "", "400.00", "0.00"),
        ("WEB-2002", "paid", "Dorothy Vaughan", "dorothy@example.org", "Annie Easley", "corporate", "", "400.00",
         "0.00"),
        ("WEB-2003", "paid", "Edsger Dijkstra", "edsger@example.org", "", "individual", "", "100.00", "0.00"),
        ("WEB-2004", "refunded", "Barbara Liskov", "barbara@example.org", "", "individual", "", "100.00",
         "100.00"),
        ("WEB-2005", "pending", "Donald Knuth", "don@example.org", "", "individual", "", "0.00", "0.00"),
    ]
    lines = [",".join(HEADER)]
    for ref, status, buyer, email, holder, ticket, addons, paid, refunded in rows:
        lines.append(f"{ref},{status},{buyer},{email},,{holder},,,{ticket},,{addons},{paid},{refunded},,")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def registrations_shot(window: MainWindow, work: Path, out: Path) -> None:
    """Settings after a sync of registrations from the web system (a CSV file here)."""
    window.show_screen(window.stack.indexOf(window.settings_screen))
    section = window.settings_screen.registrations
    registrations_csv(work / "web-registrations.csv")
    previous = Path.cwd()
    os.chdir(work)   # the source shows as the file's name, not a temporary folder
    try:
        section.source.setText("web-registrations.csv")
        section.minutes.setValue(15)
        section.save.click()
        wait_for(lambda: section.message.text() == "Registrations source saved.")
        section.sync_button.click()
        wait_for(lambda: section.message.text().startswith("Synced:"))
    finally:
        os.chdir(previous)
    window.settings_screen.scroll_area.ensureWidgetVisible(section)
    shot(window, out, "registrations.png", 700)


def wait_for(condition, timeout_ms: int = 20000) -> None:
    waited = 0
    while not condition():
        if waited > timeout_ms:
            raise RuntimeError("the screen did not get there in time")
        settle(100)
        waited += 100


def checkin_shots(window: MainWindow, services, conference_id: int, out: Path) -> None:
    """The door at 1280x720: an admission, a refusal, and the dashboard."""
    window.resize(1280, 720)
    window.show_screen(window.stack.indexOf(window.checkin))
    screen = window.checkin
    screen.sounds.enabled = False
    settle(600)
    grace = services.attendees.search(conference_id, "grace")[0]   # Margaret was checked in with her sale
    screen.scan_text(grace.access_code)
    shot(window, out, "checkin.png", 900)
    screen.scan_text("ZZZZ9999")
    shot(window, out, "checkin-refused.png", 900)
    with acting_as(SYSTEM):
        for name in ("ada", "alan"):
            services.checkin.admit(services.attendees.search(conference_id, name)[0].id)
    screen.tabs.setCurrentIndex(1)
    shot(window, out, "checkin-dashboard.png", 1500)


def main(out: Path) -> int:
    _app = application()  # held for the whole run: the Qt application ends when its object is freed
    work = Path(tempfile.mkdtemp())
    services = build_app(sqlite_url(work / "demo.sqlite3"), use_stripe=False)
    with acting_as(SYSTEM):
        conference_id = seed_demo(services.ctx).conference_id
        services.auth.add_staff("Avery Admin", "admin", "admin passphrase")
        services.auth.add_staff("Lee Lead", "lead", "lead passphrase")
        services.auth.add_staff("Val Volunteer", "volunteer", "2468")
        services.shifts.open(Decimal("150.00"), conference_id=conference_id)
        people = [("Ada Lovelace", "ada@example.org", "Individual"),
                  ("Grace Hopper", "grace@example.org", "Corporate"),
                  ("Alan Turing", "alan@example.org", "Individual"),
                  ("Katherine Johnson", "kj@example.org", "Individual")]
        for name, email, ticket in people:
            sell(services, conference_id, name, email, ticket)
        refund_order = services.orders.search(conference_id, "ada")[0]
        services.refunds.refund(refund_order.id, Decimal("20.00"), method="credit", reason="Goodwill")
    conference = services.conferences.get(conference_id)
    set_operator(None)   # as at the desk: the window opens locked
    desk = Desk(services, TaskRunner(), Messages(), conference_id, Display(conference.currency, conference.timezone))
    window = MainWindow(desk, conference_name=conference.name, database_label="demo.sqlite3")
    install_features(window, Settings(), settings_path=work / "settings.json")
    window.resize(1366, 800)
    window.show()
    shot(window, out, "sign-in.png")

    window.sign_in_as(services.auth.sign_in("Val Volunteer", "2468"))
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
    shot(window, out, "sell.png", 600)
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
    window.show_screen(window.stack.indexOf(window.orders))
    shot(window, out, "orders.png", 900)
    override = OverrideDialog(services, desk.tasks, PermissionDenied(
        "Refunds need a lead.", permission=Permission.REFUND.value, needs="lead"), window)
    override.show()
    shot(override, out, "override.png")
    override.reject()

    window.sign_in_as(services.auth.sign_in("Avery Admin", "admin passphrase"))
    window.show_screen(window.stack.indexOf(window.credits))
    settle(700)
    window.credits.table.selectRow(0)
    shot(window, out, "credits.png")
    for attr, name in (("shifts_screen", "shifts.png"), ("catalog_admin_screen", "catalog.png"),
                       ("audit_screen", "audit.png"), ("staff_screen", "staff.png"),
                       ("settings_screen", "settings.png")):
        window.show_screen(window.stack.indexOf(getattr(window, attr)))
        shot(window, out, name, 900)
    registrations_shot(window, work, out)
    checkin_shots(window, services, conference_id, out)
    desk.tasks.wait_idle()
    services.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots").resolve()))
