"""The exact ESC/POS bytes of a receipt, a drawer kick and a test page, made with python-escpos.

Everything is rendered into python-escpos's in-memory ``Dummy`` printer first; the connection
(``printer_connection``) then sends the finished job in one piece, and ``boxoffice receipt
REFERENCE --escpos FILE`` writes the very same bytes to a file. The QR code is the printer's own
(``GS ( k``), the cut is ``GS V`` and the drawer pulse ``ESC p``.
"""

from __future__ import annotations

import textwrap

from escpos.printer import Dummy

from boxoffice.services.printing.receipts import Receipt, ReceiptRow

# Characters per line in the printer's font A at 80 mm and 58 mm paper.
COLUMNS = {80: 48, 58: 32}
PAPER_WIDTHS = tuple(COLUMNS)
DRAWER_PIN = 2
# Thermal code pages have no minus sign or multiplication sign of their own.
_PLAIN = str.maketrans({"−": "-", "×": "x", "–": "-", "…": "..."})


def columns_for(paper_mm: int) -> int:
    return COLUMNS.get(paper_mm, COLUMNS[80])


def _printer() -> Dummy:
    printer = Dummy()
    printer.hw("INIT")
    return printer


def layout(row: ReceiptRow, width: int) -> list[str]:
    """One row as printed lines of ``width`` characters: left text, right text flush right."""
    if row.style == "rule":
        return ["-" * width]
    left, right = row.left.translate(_PLAIN), row.right.translate(_PLAIN)
    if row.style in ("title", "heading") and not right:
        return textwrap.wrap(left, width) or [""]
    room = width - len(right) - 1 if right else width
    wrapped = textwrap.wrap(left, max(room, 8), subsequent_indent="  ") or [""]
    if right:
        if len(wrapped[-1]) > room:
            wrapped.append("")
        wrapped[-1] = wrapped[-1].ljust(width - len(right)) + right
    return wrapped


def receipt_bytes(receipt: Receipt, paper_mm: int = 80, *, kick_drawer: bool = False) -> bytes:
    """The job a receipt printer gets for ``receipt`` (with a drawer pulse first when ``kick_drawer``)."""
    width = columns_for(paper_mm)
    printer = _printer()
    if kick_drawer:
        printer.cashdraw(DRAWER_PIN)
    for row in receipt.rows():
        if row.style == "title":
            printer.set(align="center", bold=True, double_height=True)
        elif row.style == "heading":
            printer.set(align="left", bold=True, double_height=True)
        elif row.style == "small":
            printer.set(align="center" if not row.right else "left", bold=False, normal_textsize=True)
        else:
            printer.set(align="left", bold=row.style == "strong", normal_textsize=True)
        for line in layout(row, width):
            printer.textln(line)
    printer.set(align="center", bold=False, normal_textsize=True)
    printer.ln()
    printer.qr(receipt.qr_payload, native=True, size=6 if paper_mm >= 80 else 4)
    printer.textln(receipt.reference)
    printer.textln("Thank you!")
    printer.cut()
    return bytes(printer.output)


def drawer_bytes() -> bytes:
    """Only the drawer pulse (a no-sale opening, or a cash refund without a receipt)."""
    printer = _printer()
    printer.cashdraw(DRAWER_PIN)
    return bytes(printer.output)


def test_page_bytes(desk: str, connection: str, paper_mm: int = 80) -> bytes:
    """A short page that shows the printer works: desk, connection, paper width, a ruler and a cut."""
    width = columns_for(paper_mm)
    printer = _printer()
    printer.set(align="center", bold=True, double_height=True)
    printer.textln("Box Office test page")
    printer.set(align="left", bold=False, normal_textsize=True)
    printer.textln(f"Desk: {desk}")
    printer.textln(f"Printer: {connection}"[:width])
    printer.textln(f"Paper: {paper_mm} mm, {width} characters a line")
    printer.textln(("0123456789" * 10)[:width])
    printer.textln("Accents: àéîõü ÅÄÖ ñ ç ß")
    printer.qr("BOXOFFICE-TEST", native=True, size=4)
    printer.cut()
    return bytes(printer.output)
