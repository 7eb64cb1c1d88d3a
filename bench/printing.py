"""Badge and receipt benchmarks: one badge to PDF, 1,000 badges in one PDF, one receipt's ESC/POS bytes.

Needs no 100k data set: a fresh SQLite file with 1,000 paid attendees. Targets: ``badge_render_p50_ms``
<= 100, ``badges_bulk_1000_s`` <= 30, ``receipt_escpos_p50_ms`` <= 20.
"""

from __future__ import annotations

import os
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from bench.timing import repeat

TARGETS = {"badge_render_p50_ms": 100.0, "badges_bulk_1000_s": 30.0, "receipt_escpos_p50_ms": 20.0}


def run(attendees: int = 1000, reps: int = 30) -> dict[str, float]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    from boxoffice.db.engine import Database, sqlite_url
    from boxoffice.db.migrate import upgrade
    from boxoffice.services.context import ServiceContext
    from boxoffice.services.money.payments import PaymentService
    from boxoffice.services.printing.badges import BadgeService
    from boxoffice.services.printing.receipt_printer import ReceiptPrinterService
    from boxoffice.services.sales.cart import CartService
    from boxoffice.services.sales.checkout import CheckoutService
    from boxoffice.services.sales.customers import CustomerService
    from boxoffice.ui.badge_render import write_badges_pdf
    from tests import factories

    app = QGuiApplication.instance() or QGuiApplication(["bench"])
    folder = Path(tempfile.mkdtemp(prefix="bench-printing-"))
    db = Database(sqlite_url(folder / "printing.sqlite3"))
    upgrade(db)
    ctx = ServiceContext(db=db)
    conf = factories.conference(db, total_capacity=attendees + 10, organiser="Bench Org", tax_rate=Decimal(19))
    ticket = factories.ticket_type(db, conf.id, price=Decimal("50.00"), total_quantity=attendees + 10)
    factories.ensure_open_shift(db, ctx.desk_name)
    customers, carts, checkout, payments = (CustomerService(ctx), CartService(ctx), CheckoutService(ctx),
                                            PaymentService(ctx))
    first = ["José", "Ada", "Grace", "王", "محمد", "דוד", "Zoë", "Maximiliana Theodora"]
    order_id = 0
    for i in range(attendees):
        customer = customers.get_or_create(name=f"{first[i % len(first)]} Name{i:04d}", email=f"b{i}@example.org",
                                           company="Bench Co" if i % 2 else "")
        cart = carts.open_cart(conf.id, customer.id)
        carts.add_ticket(cart.id, ticket.id, 1)
        order = checkout.checkout(cart.id)
        payments.pay_cash(order.id, Decimal("60.00"))
        order_id = order.id
    badges = BadgeService(ctx)
    one = badges.bulk(conf.id)[:1]
    target = folder / "one.pdf"
    render = repeat(lambda: write_badges_pdf(target, one), reps=reps, warmup=3)
    start = time.perf_counter()
    everyone = badges.bulk(conf.id)
    pages = write_badges_pdf(folder / "all.pdf", everyone)
    bulk_s = time.perf_counter() - start
    printer = ReceiptPrinterService(ctx)
    escpos = repeat(lambda: printer.escpos_job(order_id), reps=reps * 3, warmup=5)
    db.dispose()
    del app
    figures = {
        "badge_render_p50_ms": round(render.p50, 3),
        "badge_render_p99_ms": round(render.p99, 3),
        "badges_bulk_1000_s": round(bulk_s, 3),
        "badges_bulk_1000_pages": float(pages),
        "receipt_escpos_p50_ms": round(escpos.p50, 3),
        "receipt_escpos_p99_ms": round(escpos.p99, 3),
    }
    for key, value in figures.items():
        target_text = f"  (target <= {TARGETS[key]:g})" if key in TARGETS else ""
        print(f"  {key:<40} {value}{target_text}")
    return figures
