"""Receipts and the cash drawer through python-escpos to a real TCP printer on 127.0.0.1 (tests/fakes)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from boxoffice.db.engine import Database
from boxoffice.domain.models import AuditEntry, Conference, ReceiptPrint
from boxoffice.errors import InvalidInput, PermissionDenied
from boxoffice.services.context import ServiceContext
from boxoffice.services.money.payments import PaymentService
from boxoffice.services.printing.printer_connection import PrinterFault, parse_spec
from boxoffice.services.printing.receipt_printer import ReceiptPrinterService
from boxoffice.services.printing.receipts import ReceiptService, tax_line
from boxoffice.services.staff import audit
from boxoffice.services.staff.access import Actor, Role, acting_as
from tests import factories
from tests.fakes.fake_printer import FakePrinter, decode

D = Decimal


@pytest.fixture
def printer() -> Iterator[FakePrinter]:
    fake = FakePrinter()
    yield fake
    fake.stop()


def _cash_sale(db: Database, ctx: ServiceContext, *, tendered: str = "200.00", voucher: bool = False) -> int:
    conf = factories.conference(db, organiser="PSF Events", venue="Hall B", tax_rate=D("19"), tax_label="VAT")
    ticket = factories.ticket_type(db, conf.id, price=D("80.00"), total_quantity=50)
    if voucher:
        factories.voucher(db, conf.id, code="SPRING", discount_value=D("25.00"), ticket_types=[ticket.id])
    factories.ensure_open_shift(db, ctx.desk_name)
    cust = factories.customer(db, name="José Ñúñez")
    order = factories.sell(ctx, conf.id, cust.id, [("ticket", ticket.id, 2)], voucher="SPRING" if voucher else None)
    PaymentService(ctx).pay_cash(order.id, D(tendered))
    return order.id


def _log(db: Database) -> list[ReceiptPrint]:
    with db.read() as session:
        rows = list(session.scalars(select(ReceiptPrint).order_by(ReceiptPrint.id)))
        session.expunge_all()
        return rows


def test_a_cash_sale_prints_the_receipt_with_qr_cut_and_one_drawer_pulse(db: Database, ctx: ServiceContext,
                                                                         printer: FakePrinter) -> None:
    order_id = _cash_sale(db, ctx, voucher=True)
    receipt = ReceiptService(ctx).receipt(order_id)
    outcome = ReceiptPrinterService(ctx).after_sale(order_id, printer.spec, method="cash", auto_receipt=True)
    assert (outcome.printed_receipt, outcome.drawer_kicked) == (True, True)
    [job] = printer.jobs
    seen = decode(job)
    assert seen.qr_payloads == [f"BOXOFFICE-ORDER:{receipt.reference}"]
    assert seen.cuts == 1 and seen.drawer_pulses == 1
    assert receipt.reference in seen.text
    assert "PSF Events" in seen.text and "Hall B" in seen.text
    # 2 x 80.00 less 25 % = 120.00; 200.00 tendered, 80.00 change; 19 % VAT included = 19.16
    assert "Total" in seen.text and "$120.00" in seen.text
    assert "Discount (SPRING)" in seen.text and "-$40.00" in seen.text
    assert "Line total" in seen.text
    assert "Tendered" in seen.text and "$200.00" in seen.text
    assert "Change" in seen.text and "$80.00" in seen.text
    assert "Includes VAT 19 %" in seen.text and "$19.16" in seen.text
    assert [(r.kind, r.status, r.drawer_kicked) for r in _log(db)] == [("receipt", "printed", True)]


def test_the_file_bytes_are_the_bytes_the_printer_gets(db: Database, ctx: ServiceContext, printer: FakePrinter,
                                                       tmp_path: Path) -> None:
    order_id = _cash_sale(db, ctx)
    service = ReceiptPrinterService(ctx)
    service.print_receipt(order_id, printer.spec)
    path = tmp_path / "receipt.bin"
    service.print_receipt(order_id, f"file:{path}")
    assert path.read_bytes() == printer.jobs[0] == service.escpos_job(order_id)
    assert decode(path.read_bytes()).drawer_pulses == 0   # a reprint does not open the drawer


def test_a_card_sale_never_pulses_the_drawer(db: Database, ctx: ServiceContext, printer: FakePrinter) -> None:
    order_id = _cash_sale(db, ctx)
    ReceiptPrinterService(ctx).after_sale(order_id, printer.spec, method="stripe", auto_receipt=True)
    assert decode(printer.received).drawer_pulses == 0
    assert decode(printer.received).cuts == 1


def test_cash_without_auto_receipt_only_opens_the_drawer(db: Database, ctx: ServiceContext,
                                                          printer: FakePrinter) -> None:
    order_id = _cash_sale(db, ctx)
    outcome = ReceiptPrinterService(ctx).after_sale(order_id, printer.spec, method="cash", auto_receipt=False)
    assert (outcome.printed_receipt, outcome.drawer_kicked) == (False, True)
    seen = decode(printer.received)
    assert (seen.drawer_pulses, seen.cuts, seen.qr_payloads) == (1, 0, [])


def test_a_cash_refund_opens_the_drawer_and_a_card_refund_does_not(db: Database, ctx: ServiceContext,
                                                                   printer: FakePrinter) -> None:
    order_id = _cash_sale(db, ctx)
    service = ReceiptPrinterService(ctx)
    assert service.after_refund(order_id, printer.spec, method="card").drawer_kicked is False
    assert printer.jobs == []
    assert service.after_refund(order_id, printer.spec, method="cash").drawer_kicked is True
    assert decode(printer.received).drawer_pulses == 1


@pytest.mark.parametrize(("mode", "reason"), [
    ("refuse", "nothing answers"),
    ("no_paper", "out of paper"),
    ("hang", "did not answer within 0.5 s"),
    ("drop", "closed the connection"),
])
def test_a_printer_fault_loses_no_sale_and_is_logged(mode: str, reason: str, db: Database, ctx: ServiceContext,
                                                     printer: FakePrinter) -> None:
    order_id = _cash_sale(db, ctx)
    if mode == "refuse":
        printer.refuse()
    else:
        printer.mode = mode
    service = ReceiptPrinterService(ctx, timeout=0.5)
    with pytest.raises(PrinterFault) as fault:
        service.print_receipt(order_id, printer.spec)
    assert str(fault.value).startswith("Receipt not printed: ")
    assert reason in str(fault.value)
    from boxoffice.services.sales.orders import OrderService

    assert OrderService(ctx).get(order_id).status == "paid"   # the sale stands
    [row] = _log(db)
    assert (row.kind, row.status) == ("receipt", "failed") and reason in row.error
    if mode != "refuse":   # Retry once the printer is back
        printer.mode = "ok"
        service.print_receipt(order_id, printer.spec)
        assert [r.status for r in _log(db)] == ["failed", "printed"]


def test_no_sale_needs_a_lead_and_is_audited(db: Database, ctx: ServiceContext, printer: FakePrinter) -> None:
    service = ReceiptPrinterService(ctx)
    with acting_as(Actor(None, "Val", Role.VOLUNTEER)), pytest.raises(PermissionDenied):
        service.open_drawer(printer.spec, reason="change for the till")
    assert printer.jobs == []
    with acting_as(Actor(None, "Lee", Role.LEAD)):
        service.open_drawer(printer.spec, reason="change for the till")
    assert decode(printer.received).drawer_pulses == 1
    with db.read() as session:
        rows = list(session.scalars(select(AuditEntry).where(AuditEntry.action == audit.DRAWER_OPEN)))
        assert [(r.actor_name, json.loads(r.detail)["reason"], json.loads(r.detail)["result"]) for r in rows] == [
            ("Lee", "change for the till", "opened")]


def test_a_comp_reads_complimentary_and_a_tax_statement_without_rate(db: Database, ctx: ServiceContext) -> None:
    conf = factories.conference(db, prices_include_tax=True, tax_label="GST")
    ticket = factories.ticket_type(db, conf.id, price=D("50.00"), total_quantity=5)
    order = factories.sell(ctx, conf.id, factories.customer(db).id, [("ticket", ticket.id, 1)])
    PaymentService(ctx).comp(order.id, reason="speaker")
    receipt = ReceiptService(ctx).receipt(order.id)
    texts = [(r.left, r.right) for r in receipt.rows()]
    assert ("  Line total", "Complimentary") in texts
    assert ("Total", "Complimentary") in texts
    assert ("Prices include GST", "") in texts
    with db.read() as session:
        assert session.get(Conference, conf.id) is not None


def test_tax_included_in_a_gross_total() -> None:
    assert tax_line(D("119.00"), D("19"), "VAT", False) == ("Includes VAT 19 %", D("19.00"))
    assert tax_line(D("100.00"), None, "VAT", False) == ("", None)


@pytest.mark.parametrize("text", ["", "lpt:1", "network:", "usb:zz:01", "network:host:99999"])
def test_a_bad_printer_setting_says_how_to_write_one(text: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_spec(text)
    assert "network:HOST[:PORT]" in str(refused.value)


def test_printer_settings_parse() -> None:
    assert parse_spec("network:10.0.0.5").port == 9100
    assert parse_spec("usb:04b8:0202").vendor == 0x04B8
    assert parse_spec("serial:/dev/ttyUSB0:19200").port == 19200
    assert parse_spec("file:/dev/usb/lp0").target == "/dev/usb/lp0"
