"""Receipts: plain text for the screen, and a PDF (Qt's own writer) with the reference as a QR code."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import segno
from PySide6.QtCore import QMarginsF, QRectF, Qt
from PySide6.QtGui import QFont, QImage, QPagedPaintDevice, QPageLayout, QPageSize, QPainter, QPdfWriter

from boxoffice.ui.formatting import Display, status_label

METHOD_LABELS = {"cash": "Cash", "manual": "Other", "comp": "Comp", "credit": "Store credit",
                 "terminal": "Card (reader)", "stripe": "Card"}


def receipt_lines(detail: Any, display: Display, heading: str = "") -> list[str]:
    """The receipt as lines of text (shown in the confirmation and drawn into the PDF)."""
    summary = detail.summary
    lines = [heading] if heading else []
    lines += [f"Order {summary.reference}", f"Date: {display.when(summary.created_at)}"]
    who = summary.billing_name or summary.billing_email
    if who:
        lines.append(f"Attendee: {who}")
    if summary.billing_company:
        lines.append(f"Company: {summary.billing_company}")
    lines.append("")
    for line in detail.lines:
        lines.append(f"{line.quantity} × {line.description}  {display.money(line.line_total)}")
        if line.discount:
            lines.append(f"    discount −{display.money(line.discount)}")
        if line.cancelled:
            lines.append(f"    {line.cancelled} cancelled")
    lines.append("")
    lines.append(f"Subtotal {display.money(summary.subtotal)}")
    if summary.discount:
        voucher = f" ({detail.voucher_code})" if detail.voucher_code else ""
        lines.append(f"Discount{voucher} −{display.money(summary.discount)}")
    lines.append(f"Total {display.money(summary.total)}")
    for payment in detail.payments:
        if payment.status != "succeeded":
            continue
        label = METHOD_LABELS.get(payment.method, payment.method)
        text = f"Paid {label} {display.money(payment.amount)}"
        if payment.amount_tendered is not None and payment.change_given:
            text += (f" (tendered {display.money(payment.amount_tendered)}, "
                     f"change {display.money(payment.change_given)})")
        lines.append(text)
    for refund in detail.refunds:
        lines.append(f"Refunded {display.money(refund.amount)} ({refund.method})")
    lines.append(f"Status: {status_label(summary.status)}")
    return lines


def qr_image(text: str, scale: int = 8) -> QImage:
    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="png", scale=scale, border=2)
    image = QImage()
    image.loadFromData(buffer.getvalue(), "PNG")
    return image


def paint_receipt(device: QPagedPaintDevice, detail: Any, display: Display, heading: str = "") -> None:
    """Draw one receipt page on a PDF writer or printer."""
    painter = QPainter(device)
    try:
        dpi = device.logicalDpiX()
        page = QRectF(0, 0, device.width(), device.height())
        title = QFont("Sans Serif", 20, QFont.Weight.Bold)
        body = QFont("Sans Serif", 11)
        painter.setFont(title)
        reference = detail.summary.reference
        title_height = painter.fontMetrics().height() * 1.5
        painter.drawText(QRectF(0, 0, page.width(), title_height), Qt.AlignmentFlag.AlignLeft, reference)
        qr_size = dpi * 1.4
        painter.drawImage(QRectF(page.width() - qr_size, 0, qr_size, qr_size), qr_image(reference))
        painter.setFont(body)
        y = max(title_height, qr_size) + dpi * 0.2
        step = painter.fontMetrics().height() * 1.25
        for line in receipt_lines(detail, display, heading):
            painter.drawText(QRectF(0, y, page.width(), step), Qt.AlignmentFlag.AlignLeft, line)
            y += step
    finally:
        painter.end()


def write_receipt_pdf(path: Path, detail: Any, display: Display, heading: str = "") -> Path:
    writer = QPdfWriter(str(path))
    writer.setTitle(f"Receipt {detail.summary.reference}")
    writer.setCreator("Box Office")
    writer.setResolution(300)
    writer.setPageLayout(QPageLayout(QPageSize(QPageSize.PageSizeId.A5), QPageLayout.Orientation.Portrait,
                                     QMarginsF(12, 12, 12, 12), QPageLayout.Unit.Millimeter))
    paint_receipt(writer, detail, display, heading)
    return path
