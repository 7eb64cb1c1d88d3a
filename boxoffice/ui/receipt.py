"""Receipts from the receipt model: plain text for the screen, a PDF (Qt's own writer) with the QR code."""

from __future__ import annotations

import io
from pathlib import Path

import segno
from PySide6.QtCore import QMarginsF, QPointF, QRectF, Qt
from PySide6.QtGui import QFont, QImage, QPagedPaintDevice, QPageLayout, QPageSize, QPainter, QPdfWriter

from boxoffice.services.printing.receipts import Receipt

METHOD_LABELS = {"cash": "Cash", "manual": "Other", "comp": "Comp", "credit": "Store credit",
                 "terminal": "Card (reader)", "stripe": "Card"}


def receipt_text(receipt: Receipt, width: int = 46) -> str:
    """The receipt model's rows as plain text (the confirmation dialog shows it)."""
    out = []
    for row in receipt.rows():
        if row.style == "rule":
            out.append("─" * width)
        elif row.right:
            out.append(f"{row.left}  {row.right.rjust(max(1, width - len(row.left) - 2))}")
        else:
            out.append(row.left)
    return "\n".join(out)


def qr_image(text: str, scale: int = 8) -> QImage:
    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="png", scale=scale, border=2)
    image = QImage()
    image.loadFromData(buffer.getvalue(), "PNG")
    return image


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
