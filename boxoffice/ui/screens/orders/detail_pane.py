"""The detail of one order: lines, payments, refunds and credits, as readable HTML."""

from __future__ import annotations

from html import escape
from typing import Any

from boxoffice.ui.formatting import Display, status_label
from boxoffice.ui.receipt import METHOD_LABELS


def _table(headers: list[str], rows: list[list[str]]) -> str:
    if not rows:
        return "<p><i>None</i></p>"
    head = "".join(f"<th align='left'>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}&nbsp;&nbsp;</td>" for c in row) + "</tr>" for row in rows)
    return f"<table cellspacing='2' cellpadding='3'><tr>{head}</tr>{body}</table>"


def detail_html(detail: Any, display: Display) -> str:
    s, money, when = detail.summary, display.money, display.when
    who = escape(s.billing_name or "Walk-up")
    parts = [
        f"<h2>{escape(s.reference)}</h2>",
        (f"<p><b>{who}</b> {escape(s.billing_email or '')} {escape(s.billing_company or '')}<br>"
         f"{escape(status_label(s.status))} · created {escape(when(s.created_at))}</p>"),
    ]
    if s.needs_attention:
        parts.append(f"<p style='color:#a00000'><b>Needs attention:</b> {escape(s.needs_attention)}</p>")
    if s.disputed:
        parts.append("<p style='color:#a00000'><b>The card payment is disputed.</b></p>")
    parts.append(f"<p>Total <b>{money(s.total)}</b> · paid {money(s.paid)} · refunded {money(s.refunded)}"
                 + (f" · <b>due {money(s.balance)}</b>" if s.balance and s.status == "pending" else "") + "</p>")
    if s.discount:
        parts.append(f"<p>Discount {money(s.discount)}"
                     + (f" (voucher {escape(detail.voucher_code)})" if detail.voucher_code else "") + "</p>")
    parts.append("<h3>Lines</h3>")
    parts.append(_table(["Qty", "Item", "Each", "Discount", "Total"], [
        [str(line.quantity) + (f" ({line.cancelled} cancelled)" if line.cancelled else ""), line.description,
         money(line.unit_price), money(line.discount),
         money(line.line_total)] for line in detail.lines]))
    parts.append("<h3>Payments</h3>")
    parts.append(_table(["When", "Method", "Amount", "Status", "Note"], [
        [when(p.created_at), METHOD_LABELS.get(p.method, p.method), money(p.amount), p.status,
         " ".join(x for x in (p.reference, p.note, f"by {p.operator_name}" if p.operator_name else "") if x)]
        for p in detail.payments]))
    parts.append("<h3>Refunds</h3>")
    parts.append(_table(["When", "Method", "Amount", "Status", "Reason"], [
        [when(r.created_at), r.method, money(r.amount), r.status, r.reason] for r in detail.refunds]))
    parts.append("<h3>Store credits</h3>")
    credits = [["Used here", money(c.used_here), money(c.remaining), status_label(c.status), c.note]
               for c in detail.credits_applied]
    credits += [["Issued", money(c.amount), money(c.remaining), status_label(c.status), c.note]
                for c in detail.credits_issued]
    parts.append(_table(["", "Amount", "Left", "Status", "Note"], credits))
    return "".join(parts)
