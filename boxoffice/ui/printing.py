"""Print a receipt through the system print dialog (imported only when the operator prints)."""

from __future__ import annotations

from typing import Any

from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import QDialog, QWidget

from boxoffice.ui.formatting import Display
from boxoffice.ui.receipt import paint_receipt


def print_receipt(parent: QWidget, detail: Any, display: Display) -> bool:
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setDocName(f"Receipt {detail.summary.reference}")
    dialog = QPrintDialog(printer, parent)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return False
    paint_receipt(printer, detail, display)
    return True
