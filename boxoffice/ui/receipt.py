"""Receipts: plain text for the screen, and a PDF (Qt's own writer) with the reference as a QR code."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import segno
from PySide6.QtCore import QMarginsF, QPointF, QRectF, Qt
from PySide6.QtGui import QFont, QImage, QPagedPaintDevice, QPageLayout, QPageSize, QPainter, QPdfWriter

from boxoffice.services.printing.receipts import Receipt
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


def paint_receipt_rows(device: QPagedPaintDevice, receipt: Receipt) -> None:
    """Draw the receipt model's rows (the same rows the thermal printer prints) and its QR code."""
    painter = QPainter(device)
    try:
        dpi = device.logicalDpiX()
        width = float(device.width())
        qr_size = dpi * 1.2
        painter.drawImage(QRectF(width - qr_size, 0, qr_size, qr_size), qr_image(receipt.qr_payload))
        fonts = {"title": QFont("Sans Serif", 16, QFont.Weight.Bold), "heading": QFont("Sans Serif", 13, QFont.Weight.Bold),
                 "strong": QFont("Sans Serif", 10, QFont.Weight.Bold), "small": QFont("Sans Serif", 9),
                 "text": QFont("Sans Serif", 10)}
        y = 0.0
        for row in receipt.rows():
            if row.style == "rule":
                y += dpi * 0.06
                painter.drawLine(QPointF(0, y), QPointF(width if y > qr_size else width - qr_size * 1.05, y))
                y += dpi * 0.06
                continue
            painter.setFont(fonts.get(row.style, fonts["text"]))
            step = painter.fontMetrics().height() * 1.2
            right_edge = width if y > qr_size else width - qr_size * 1.05
            painter.drawText(QRectF(0, y, right_edge, step), int(Qt.AlignmentFlag.AlignLeft), row.left)
            if row.right:
                painter.drawText(QRectF(0, y, right_edge, step), int(Qt.AlignmentFlag.AlignRight), row.right)
            y += step
    finally:
        painter.end()


def write_receipt_model_pdf(path: Path, receipt: Receipt) -> Path:
    """The PDF receipt with the content of ``ReceiptService.receipt`` (what the thermal printer prints)."""
    writer = QPdfWriter(str(path))
    writer.setTitle(f"Receipt {receipt.reference}")
    writer.setCreator("Box Office")
    writer.setResolution(300)
    writer.setPageLayout(QPageLayout(QPageSize(QPageSize.PageSizeId.A5), QPageLayout.Orientation.Portrait,
                                     QMarginsF(12, 12, 12, 12), QPageLayout.Unit.Millimeter))
    paint_receipt_rows(writer, receipt)
    return path
