"""``boxoffice badges`` (a conference's badges in one PDF) and ``boxoffice receipt`` (a receipt's ESC/POS bytes)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from boxoffice.cli.common import error, open_migrated
from boxoffice.cli.registry import command
from boxoffice.services.context import ServiceContext


def _configure_badges(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--conference", required=True, metavar="SLUG", help="the conference's slug")
    parser.add_argument("--ticket-type", metavar="SLUG", help="only attendees of this ticket type")
    parser.add_argument("--out", required=True, type=Path, metavar="FILE.pdf", help="the PDF to write")


@command("badges", help="write the badges of a conference (or one ticket type) to a PDF, sorted by last name",
         configure=_configure_badges)
def badges_command(args: argparse.Namespace) -> int:
    from boxoffice.services.printing.badges import BadgeService

    db = open_migrated(args)
    try:
        badges = BadgeService(ServiceContext(db=db)).bulk_by_slug(args.conference, args.ticket_type)
    finally:
        db.dispose()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")   # drawing needs no screen
    from PySide6.QtGui import QGuiApplication

    from boxoffice.ui.badge_render import write_badges_pdf

    app = QGuiApplication.instance() or QGuiApplication(["boxoffice"])
    try:
        pages = write_badges_pdf(args.out, badges, title=f"Badges {args.conference}")
    except OSError as exc:
        return error(f"Could not write {args.out}: {exc.strerror or exc}. Choose another file or folder.")
    del app
    print(f"{len(badges)} badges on {pages} pages written to {args.out}")
    return 0


def _configure_receipt(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("reference", metavar="REFERENCE", help="the order reference, e.g. PY-7K3M9Q")
    parser.add_argument("--escpos", required=True, type=Path, metavar="FILE",
                        help="write the exact bytes a receipt printer would get to FILE")
    parser.add_argument("--paper", type=int, choices=(58, 80), default=80, help="paper width in mm (default 80)")
    parser.add_argument("--drawer", action="store_true", help="include the cash drawer pulse")


@command("receipt", help="write an order's receipt as the ESC/POS bytes a receipt printer gets",
         configure=_configure_receipt)
def receipt_command(args: argparse.Namespace) -> int:
    from boxoffice.services.printing.receipt_printer import ReceiptPrinterService
    from boxoffice.services.sales.orders import OrderService

    db = open_migrated(args)
    try:
        ctx = ServiceContext(db=db)
        order = OrderService(ctx).by_reference(args.reference.strip())
        job = ReceiptPrinterService(ctx).escpos_job(order.id, args.paper, kick_drawer=args.drawer)
    finally:
        db.dispose()
    try:
        args.escpos.write_bytes(job)
    except OSError as exc:
        return error(f"Could not write {args.escpos}: {exc.strerror or exc}. Choose another file or folder.")
    print(f"receipt {order.reference}: {len(job)} bytes written to {args.escpos}")
    return 0
