"""The desk's receipt printer and cash drawer (PRN-1..3): receipts, drawer kicks, test pages, the print log.

Printing comes after the sale, never inside it: the order is already paid when a job is sent, so
a printer that is off, unplugged, out of paper or hanging costs a receipt, never a sale. Each job
leaves one ``receipt_print`` row (printed, or failed with the reason); a failed job raises
``PrinterFault`` ("Receipt not printed: out of paper") for the desk to show with Retry. The desk
runs these calls on a worker thread (``ui/tasks.py``); each waits at most the printer timeout.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from boxoffice.domain.models import ReceiptPrint
from boxoffice.services.context import ServiceContext
from boxoffice.services.printing import escpos_receipt
from boxoffice.services.printing.printer_connection import (
    DEFAULT_TIMEOUT_S,
    PrinterFault,
    PrinterSpec,
    parse_spec,
    send,
)
from boxoffice.services.printing.receipts import ReceiptService
from boxoffice.services.staff import audit
from boxoffice.services.staff.access import Permission, authorize, current_actor

CASH = "cash"


@dataclass(frozen=True)
class PrintOutcome:
    """What reached the printer: a receipt, a drawer pulse, or both (``printer`` is its label)."""

    printed_receipt: bool
    drawer_kicked: bool
    printer: str


@dataclass(frozen=True)
class ReceiptPrintView:
    id: int
    order_id: int | None
    kind: str
    at: datetime
    desk: str
    operator_name: str
    printer: str
    drawer_kicked: bool
    status: str
    error: str


class ReceiptPrinterService:
    """Sends receipts and drawer pulses to the printer named in the desk's settings."""

    def __init__(self, ctx: ServiceContext, timeout: float = DEFAULT_TIMEOUT_S) -> None:
        self._ctx = ctx
        self.timeout = timeout

    def escpos_job(self, order_id: int, paper_mm: int = 80, *, kick_drawer: bool = False) -> bytes:
        """The bytes a receipt printer gets for this order (``boxoffice receipt --escpos``)."""
        return escpos_receipt.receipt_bytes(ReceiptService(self._ctx).receipt(order_id), paper_mm,
                                            kick_drawer=kick_drawer)

    def print_receipt(self, order_id: int, printer: str, *, paper_mm: int = 80,
                      kick_drawer: bool = False) -> PrintOutcome:
        """Print (or reprint) the order's receipt; ``kick_drawer`` pulses the drawer in the same job."""
        authorize(Permission.SELL)
        spec = parse_spec(printer)
        job = self.escpos_job(order_id, paper_mm, kick_drawer=kick_drawer)
        return self._send(spec, job, kind="receipt", order_id=order_id, kick=kick_drawer)

    def after_sale(self, order_id: int, printer: str, *, method: str, paper_mm: int = 80,
                   auto_receipt: bool = False, drawer: bool = True) -> PrintOutcome:
        """What a completed payment prints: the receipt when ``auto_receipt``, a drawer pulse on cash.

        With no receipt printer set (``printer`` empty) nothing is sent and nothing is logged.
        """
        authorize(Permission.SELL)
        kick = drawer and method == CASH
        if not printer.strip() or not (auto_receipt or kick):
            return PrintOutcome(False, False, "")
        if auto_receipt:
            return self.print_receipt(order_id, printer, paper_mm=paper_mm, kick_drawer=kick)
        return self._send(parse_spec(printer), escpos_receipt.drawer_bytes(), kind="drawer", order_id=order_id,
                          kick=True)

    def after_refund(self, order_id: int, printer: str, *, method: str, drawer: bool = True) -> PrintOutcome:
        """A cash refund opens the drawer to pay the money out; other refunds print nothing."""
        authorize(Permission.SELL)
        if not printer.strip() or not drawer or method != CASH:
            return PrintOutcome(False, False, "")
        return self._send(parse_spec(printer), escpos_receipt.drawer_bytes(), kind="drawer", order_id=order_id,
                          kick=True)

    def open_drawer(self, printer: str, *, reason: str = "") -> PrintOutcome:
        """PRN-2: open the drawer without a sale (a lead); audited whether or not the drawer opened."""
        authorize(Permission.OPEN_DRAWER)
        spec = parse_spec(printer)
        try:
            outcome = self._send(spec, escpos_receipt.drawer_bytes(), kind="drawer", order_id=None, kick=True)
        except PrinterFault as fault:
            self._audit_no_sale(spec, reason, f"failed: {fault.reason}")
            raise
        self._audit_no_sale(spec, reason, "opened")
        return outcome

    def test_page(self, printer: str, *, paper_mm: int = 80) -> PrintOutcome:
        """Settings' "Print test page": proves the connection, the paper width and the cutter."""
        authorize(Permission.SELL)
        spec = parse_spec(printer)
        job = escpos_receipt.test_page_bytes(self._ctx.desk_name, spec.label, paper_mm)
        return self._send(spec, job, kind="test", order_id=None, kick=False)

    def prints(self, *, order_id: int | None = None, limit: int = 50) -> list[ReceiptPrintView]:
        """The print log, newest first (of one order when ``order_id``)."""
        with self._ctx.db.read() as session:
            query = select(ReceiptPrint).order_by(ReceiptPrint.id.desc()).limit(max(1, min(limit, 500)))
            if order_id is not None:
                query = query.where(ReceiptPrint.order_id == order_id)
            return [ReceiptPrintView(r.id, r.order_id, r.kind, r.at, r.desk, r.operator_name, r.printer,
                                     r.drawer_kicked, r.status, r.error) for r in session.scalars(query)]

    # ------------------------------------------------------------------ internals

    def _send(self, spec: PrinterSpec, job: bytes, *, kind: str, order_id: int | None, kick: bool) -> PrintOutcome:
        what = {"receipt": "Receipt not printed", "drawer": "Drawer not opened", "test": "Test page not printed"}[kind]
        try:
            send(spec, job, timeout=self.timeout, what=what)
        except PrinterFault as fault:
            self._log(kind, order_id, spec, kick=False, status="failed", error=fault.reason)
            raise
        self._log(kind, order_id, spec, kick=kick, status="printed", error="")
        return PrintOutcome(kind == "receipt", kick, spec.label)

    def _log(self, kind: str, order_id: int | None, spec: PrinterSpec, *, kick: bool, status: str,
             error: str) -> None:
        actor = current_actor()
        with self._ctx.db.write() as session:
            session.add(ReceiptPrint(order_id=order_id, kind=kind, at=self._ctx.clock.now(), desk=self._ctx.desk_name,
                                     operator_name=actor.name if actor else "", printer=spec.label,
                                     drawer_kicked=kick, status=status, error=error[:2000]))

    def _audit_no_sale(self, spec: PrinterSpec, reason: str, result: str) -> None:
        with self._ctx.db.write() as session:
            audit.record(session, self._ctx, audit.DRAWER_OPEN, target_type="drawer",
                         target_label=f"{self._ctx.desk_name} cash drawer",
                         detail={"reason": reason.strip()[:500], "printer": spec.label, "result": result})
