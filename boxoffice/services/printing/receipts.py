"""What a receipt says (PRN-1), computed once for the thermal printer and the PDF receipt alike.

``ReceiptService.receipt(order_id)`` returns a ``Receipt``: the conference and organiser, venue,
date and time, desk and operator, each line with quantity, price, discount and line total, the
totals, a tax line when the conference sets one, the payments with change given, refunds, and the
payload of the order's QR code. ``Receipt.rows`` lays that out as rows of (left, right) text, which
both the ESC/POS bytes (``escpos_receipt``) and the PDF (``ui/receipt.py``) draw, so the paper and
the PDF never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select

from boxoffice.domain.attendee_rules import order_qr_payload
from boxoffice.domain.models import CashShift, Conference, Payment
from boxoffice.errors import NotFound
from boxoffice.money import format_money
from boxoffice.services.context import ServiceContext
from boxoffice.services.sales.order_views import OrderDetail
from boxoffice.services.sales.orders import OrderService
from boxoffice.services.staff.access import current_actor
from boxoffice.timeutil import format_local

CENT = Decimal("0.01")
METHOD_LABELS = {"cash": "Cash", "manual": "Other", "comp": "Complimentary", "credit": "Store credit",
                 "terminal": "Card (reader)", "stripe": "Card", "web": "Paid online"}
STATUS_LABELS = {"paid": "Paid", "pending": "Awaiting payment", "partially_refunded": "Partly refunded",
                 "refunded": "Refunded", "cancelled": "Cancelled"}


@dataclass(frozen=True)
class ReceiptLine:
    quantity: int
    description: str
    unit_price: Decimal
    discount: Decimal
    line_total: Decimal
    complimentary: bool   # a comp: priced, but nothing to pay
    cancelled: int = 0    # units cancelled since the sale (their money is among the refunds)


@dataclass(frozen=True)
class ReceiptPayment:
    label: str
    amount: Decimal
    tendered: Decimal | None
    change: Decimal


@dataclass(frozen=True)
class ReceiptRow:
    """One row of the laid-out receipt; ``style`` is title, heading, text, strong, small or rule."""

    left: str
    right: str = ""
    style: str = "text"


@dataclass(frozen=True)
class Receipt:
    order_id: int
    reference: str
    conference: str
    organiser: str
    venue: str
    when: str            # the sale's date and time in the conference's zone
    desk: str
    operator: str
    customer: str
    company: str
    currency: str
    lines: tuple[ReceiptLine, ...]
    subtotal: Decimal
    discount: Decimal
    voucher_code: str
    total: Decimal
    tax_text: str        # "Includes VAT 19 %" or "Prices include tax"; "" when the conference sets none
    tax_amount: Decimal | None
    payments: tuple[ReceiptPayment, ...]
    refunds: tuple[ReceiptPayment, ...]
    status: str
    qr_payload: str
    complimentary: bool

    def money(self, amount: Decimal) -> str:
        return format_money(amount, self.currency)

    @property
    def change_given(self) -> Decimal:
        return sum((p.change for p in self.payments), Decimal("0.00"))

    def rows(self) -> tuple[ReceiptRow, ...]:
        """The receipt laid out top to bottom; every renderer draws exactly these rows."""
        m = self.money
        rows = [ReceiptRow(self.conference, style="title")]
        if self.organiser:
            rows.append(ReceiptRow(self.organiser, style="small"))
        if self.venue:
            rows.append(ReceiptRow(self.venue, style="small"))
        rows += [ReceiptRow("", style="rule"),
                 ReceiptRow(f"Order {self.reference}", style="strong"),
                 ReceiptRow("Date", self.when),
                 ReceiptRow("Desk", self.desk)]
        if self.operator:
            rows.append(ReceiptRow("Served by", self.operator))
        if self.customer:
            rows.append(ReceiptRow("Customer", self.customer))
        if self.company:
            rows.append(ReceiptRow("Company", self.company))
        rows.append(ReceiptRow("", style="rule"))
        for line in self.lines:
            rows.append(ReceiptRow(f"{line.quantity} × {line.description}", style="strong"))
            if line.cancelled:
                rows.append(ReceiptRow(f"  {line.cancelled} of {line.quantity} cancelled", style="small"))
            rows.append(ReceiptRow(f"  {line.quantity} × {m(line.unit_price)}", m(line.unit_price * line.quantity)))
            if line.discount:
                label = f"  Discount ({self.voucher_code})" if self.voucher_code else "  Discount"
                rows.append(ReceiptRow(label, f"−{m(line.discount)}"))
            total = "Complimentary" if line.complimentary else m(line.line_total)
            rows.append(ReceiptRow("  Line total", total))
        rows.append(ReceiptRow("", style="rule"))
        rows.append(ReceiptRow("Subtotal", m(self.subtotal)))
        if self.discount:
            rows.append(ReceiptRow("Discount (already taken off the lines)", f"−{m(self.discount)}", style="small"))
        rows.append(ReceiptRow("Total", "Complimentary" if self.complimentary else m(self.total), style="heading"))
        if self.tax_text:
            rows.append(ReceiptRow(self.tax_text, m(self.tax_amount) if self.tax_amount is not None else "",
                                   style="small"))
        for payment in self.payments:
            rows.append(ReceiptRow(payment.label, m(payment.amount)))
            if payment.tendered is not None:
                rows.append(ReceiptRow("  Tendered", m(payment.tendered)))
                rows.append(ReceiptRow("  Change", m(payment.change), style="strong"))
        for refund in self.refunds:
            rows.append(ReceiptRow(refund.label, f"−{m(refund.amount)}"))
        rows.append(ReceiptRow("Status", self.status))
        return tuple(rows)


def tax_line(total: Decimal, rate: Decimal | None, label: str, prices_include_tax: bool) -> tuple[str, Decimal | None]:
    """The tax line of a receipt: the tax a gross total includes at ``rate`` percent, or a statement."""
    if rate is not None and rate > 0:
        rate_text = f"{rate.normalize():f}"
        amount = (total * rate / (Decimal(100) + rate)).quantize(CENT, rounding=ROUND_HALF_UP)
        return f"Includes {label or 'tax'} {rate_text} %", amount
    if prices_include_tax:
        return f"Prices include {label or 'tax'}", None
    return "", None


class ReceiptService:
    """Builds receipts from the order as it stands (a reprint shows refunds made since)."""

    def __init__(self, ctx: ServiceContext) -> None:
        self._ctx = ctx

    def receipt(self, order_id: int) -> Receipt:
        detail = OrderService(self._ctx).detail(order_id)
        with self._ctx.db.read() as session:
            conference = session.get(Conference, detail.conference_id)
            if conference is None:
                raise NotFound("This order's conference no longer exists.")
            desk = session.scalar(
                select(CashShift.desk_name).join(Payment, Payment.shift_id == CashShift.id)
                .where(Payment.order_id == order_id).order_by(Payment.id.desc()).limit(1))
            facts = (conference.name, conference.organiser, conference.venue, conference.timezone,
                     conference.currency, conference.tax_rate, conference.tax_label, conference.prices_include_tax)
        return build_receipt(detail, *facts, desk=desk or self._ctx.desk_name)


def build_receipt(detail: OrderDetail, name: str, organiser: str, venue: str, timezone: str, currency: str,
                  tax_rate: Decimal | None, tax_label: str, prices_include_tax: bool, *, desk: str) -> Receipt:
    summary = detail.summary
    payments = [p for p in detail.payments if p.status == "succeeded"]
    comp_paid = sum((p.amount for p in payments if p.method == "comp"), Decimal("0.00"))
    complimentary = bool(detail.lines) and (
        summary.total == 0 and any(line.unit_price > 0 for line in detail.lines)
        or summary.total > 0 and comp_paid >= summary.total)
    lines = tuple(
        ReceiptLine(line.quantity, line.description, line.unit_price, line.discount, line.line_total,
                    complimentary=complimentary and line.unit_price > 0, cancelled=line.cancelled)
        for line in detail.lines)
    operator = next((p.operator_name for p in reversed(payments) if p.operator_name), "")
    if not operator:
        actor = current_actor()
        operator = actor.name if actor is not None and actor.staff_id is not None else ""
    tax_text, tax_amount = tax_line(summary.total - comp_paid if complimentary else summary.total,
                                    tax_rate, tax_label, prices_include_tax)
    return Receipt(
        order_id=summary.id, reference=summary.reference, conference=name, organiser=organiser, venue=venue,
        when=format_local(payments[-1].created_at if payments else summary.created_at, timezone),
        desk=desk, operator=operator,
        customer=summary.billing_name or summary.billing_email, company=summary.billing_company,
        currency=currency, lines=lines, subtotal=summary.subtotal, discount=summary.discount,
        voucher_code=detail.voucher_code, total=summary.total, tax_text=tax_text, tax_amount=tax_amount,
        payments=tuple(ReceiptPayment(METHOD_LABELS.get(p.method, p.method.capitalize()), p.amount,
                                      p.amount_tendered if p.method == "cash" else None, p.change_given)
                       for p in payments),
        refunds=tuple(ReceiptPayment(f"Refunded ({METHOD_LABELS.get(r.method, r.method)})", r.amount, None,
                                     Decimal("0.00"))
                      for r in detail.refunds if r.status == "succeeded"),
        status=STATUS_LABELS.get(summary.status, summary.status.replace("_", " ").capitalize()),
        qr_payload=order_qr_payload(summary.reference), complimentary=complimentary,
    )
