"""What every screen needs: the services, the task runner, the presenter and the desk's conference."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from boxoffice.services.staff.access import Actor, set_operator
from boxoffice.ui.formatting import Display
from boxoffice.ui.messages import Messages
from boxoffice.ui.tasks import TaskRunner

# ``<prefix>-<8 characters>`` as printed on receipts (CHK-8), or typed without the dash or the prefix.
REFERENCE_PATTERN = re.compile(r"^(?:[A-Z0-9]{1,10}-?)?[A-Z0-9]{8}$")


def looks_like_reference(text: str) -> bool:
    """An order reference (CHK-8: ``<prefix>-<8 characters>``), also without its dash or prefix."""
    return bool(REFERENCE_PATTERN.match(text.strip().upper()))


@dataclass(frozen=True)
class DeskPrinters:
    """This desk's printer settings (from the settings file; the Settings screen replaces them)."""

    receipt_printer: str = ""      # an ESC/POS connection such as "network:192.168.1.50:9100"; "" none
    receipt_paper_mm: int = 80
    auto_receipt: bool = False     # print the receipt after every completed payment
    cash_drawer: bool = True       # kick the drawer on cash payments and cash refunds
    badge_printer: str = ""        # a system printer by name; "" badges go to PDF
    print_badge_on_checkin: bool = False

    @classmethod
    def of(cls, settings: Any) -> DeskPrinters:
        return cls(settings.receipt_printer, settings.receipt_paper_mm, settings.auto_receipt,
                   settings.cash_drawer, settings.badge_printer, settings.print_badge_on_checkin)


@dataclass
class Desk:
    """Shared by the screens of one main window.

    ``services`` is the ``AppServices`` built by ``boxoffice.app.build_app`` (typed loosely so the UI
    layer does not import the wiring module).
    """

    services: Any
    tasks: TaskRunner
    messages: Messages
    conference_id: int
    display: Display = field(default_factory=Display)
    operator_id: int | None = None
    operator_name: str = ""
    quick_cash_notes: tuple[int, ...] = (5, 10, 20, 50, 100)
    operator_role: str = ""
    idle_lock_minutes: int = 10
    checkin_walkups: bool = True   # a sale made at this desk checks its attendees in at once (CIN-5)
    printers: DeskPrinters = field(default_factory=DeskPrinters)
    receipt_jobs: Any = None       # the desk's ``ReceiptJobs`` (ui/receipt_jobs.py), made on first use

    def set_operator(self, actor: Actor | None) -> None:
        """The operator signed in at this desk (``None``: locked); services see them from now on."""
        set_operator(actor)
        self.operator_id = actor.staff_id if actor is not None else None
        self.operator_name = actor.name if actor is not None else ""
        self.operator_role = actor.role.value if actor is not None else ""
