"""Badges to the desk's badge printer by its saved name, with no dialog (BDG-3), or to a PDF file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtPrintSupport import QPrinter, QPrinterInfo

from boxoffice.services.printing.badges import BadgeView
from boxoffice.ui.badge_render import paint_badges, write_badges_pdf


class QtBadgeOutput:
    """The ``BadgeOutput`` of the desk: a system printer by name, or a PDF in a folder when "pdf:FOLDER"."""

    def __init__(self, printer_name: Callable[[], str]) -> None:
        self._printer_name = printer_name   # read at each print: a settings change applies at once

    def print_badge(self, badge: BadgeView, printer: str) -> str:
        name = (printer or self._printer_name()).strip()
        if not name:
            raise RuntimeError("this desk has no badge printer set up (Settings → Printers)")
        if name.startswith("pdf:"):
            folder = Path(name[4:]).expanduser()
            folder.mkdir(parents=True, exist_ok=True)
            write_badges_pdf(folder / f"badge-{badge.attendee_id}-{badge.access_code}.pdf", [badge],
                             title=f"Badge {badge.name}")
            return name
        if name not in QPrinterInfo.availablePrinterNames():
            raise RuntimeError(f"the printer {name!r} is not installed on this computer "
                               "(check its name in Settings → Printers)")
        device = QPrinter(QPrinterInfo.printerInfo(name), QPrinter.PrinterMode.HighResolution)
        device.setDocName(f"Badge {badge.name}")
        device.setFullPage(True)
        if not device.isValid():
            raise RuntimeError(f"the printer {name!r} cannot be used right now")
        paint_badges(device, [badge], device.resolution())
        if device.printerState() == QPrinter.PrinterState.Error:
            raise RuntimeError(f"the printer {name!r} reported an error")
        return name
