"""Take the README screenshots of each screen with demo data (run under Xvfb: see the README)."""

from __future__ import annotations

import os
import socket
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
from boxoffice.ui.desk import Desk, DeskPrinters
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
def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens: a receipt printer that is switched off."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        return int(server.getsockname()[1])


def pdf_page_png(pdf: Path, png: Path, width_px: int) -> None:
    """The first page of a PDF as a PNG (Qt's own PDF renderer), for the README."""
    from PySide6.QtCore import QSize
    from PySide6.QtGui import QColor, QImage, QPainter
    from PySide6.QtPdf import QPdfDocument

    document = QPdfDocument()
    document.load(str(pdf))
    size = document.pagePointSize(0)
    rendered = document.render(0, QSize(width_px, int(width_px * size.height() / size.width())))
    page = QImage(rendered.size(), QImage.Format.Format_RGB32)
    page.fill(QColor("white"))
    painter = QPainter(page)
    painter.drawImage(0, 0, rendered)
    painter.end()
    page.save(str(png))


def main(out: Path) -> int:
    _app = application()  # held for the whole run: the Qt application ends when its object is freed
    work = Path(tempfile.mkdtemp())
    services = build_app(sqlite_url(work / "demo.sqlite3"), use_stripe=False)
    with acting_as(SYSTEM):
        conference_id = seed_demo(services.ctx).conference_id
        services.auth.add_staff("Avery Admin", "admin", "admin passphrase")
        services.auth.add_staff("Lee Lead", "lead", "lead passphrase")
        services.auth.add_staff("Val Volunteer", "volunteer", "246800")
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
    window.resize(1280, 720)   # the smallest screen the desk is made for (also 1920×1080 at 150 %)
    window.show()
    shot(window, out, "sign-in.png")

    window.sign_in_as(services.auth.sign_in("Val Volunteer", "246800"))
    settle(800)
    # This desk's receipt printer is switched off: the sale completes, the receipt waits for Retry.
    desk.printers = DeskPrinters(receipt_printer=f"network:127.0.0.1:{closed_port()}", auto_receipt=True)
    services.receipt_printer.timeout = 1.0
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
        confirmation = window.sell.confirmation
        if confirmation is not None:
            confirmation.grab().save(str(out / "confirmation.png"))
            for _ in range(20):
                if confirmation.retry_print.isVisible():
                    break
                settle(150)
            confirmation.grab().save(str(out / "receipt-fault.png"))
            confirmation.accept()
        shot(window, out, "receipt-fault-status.png", 300)
        desk.printers = DeskPrinters()
    window.show_screen(window.stack.indexOf(window.orders))
    shot(window, out, "orders.png", 900)
    refund_ref = services.orders.search(conference_id, "grace")[0].reference
    window.orders.open_refund()   # the sale above: cancel its tutorial seat (DEC-10)
    settle(700)
    refund = window.orders.refund_dialog
    if refund is not None:
        tutorial = next(i for i, line in enumerate(refund.detail.lines) if line.description.startswith("Tutorial"))
        refund.set_units(tutorial, 1)
        refund.choose_method("cash")
        refund.reason.setText("Tutorial clashes with a talk")
        shot(refund, out, "refund.png", 300)
        refund.reject()
    override = OverrideDialog(services, desk.tasks, PermissionDenied(
        "Refunds need a lead.", permission=Permission.REFUND.value, needs="lead"), window,
        what=f"Refund $50.00 (Cash from the drawer) on order {refund_ref}")
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
                       ("badge_screen", "badge-editor.png")):
        window.show_screen(window.stack.indexOf(getattr(window, attr)))
        shot(window, out, name, 900)
    registrations_shot(window, work, out)
    checkin_shots(window, services, conference_id, out)
    window.show_screen(window.stack.indexOf(window.settings_screen))
    settings = window.settings_screen
    settle(500)
    settings.set_system_printers(["Brother QL-820NWB", "Zebra ZD421"])
    settings.receipt_printer.setText("network:192.168.1.50:9100")
    settings.auto_receipt.setChecked(True)
    settings.badge_printer.setCurrentIndex(settings.badge_printer.findData("Zebra ZD421"))
    settings.print_badge_on_checkin.setChecked(True)
    shot(window, out, "settings.png", 500)

    receipt_pdf = work / "receipt.pdf"
    from boxoffice.ui.badge_render import write_badges_pdf
    from boxoffice.ui.receipt import write_receipt_model_pdf

    write_receipt_model_pdf(receipt_pdf, services.receipts.receipt(services.orders.search(conference_id, "grace")[0].id))
    pdf_page_png(receipt_pdf, out / "receipt-pdf.png", 700)
    badges_pdf = work / "badges.pdf"
    with acting_as(SYSTEM):
        services.badge_templates.save_template(conference_id, None, page_preset="a4-2x4")
    write_badges_pdf(badges_pdf, services.badges.bulk(conference_id))
    pdf_page_png(badges_pdf, out / "badges.png", 900)
    desk.tasks.wait_idle()
    services.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots").resolve()))
