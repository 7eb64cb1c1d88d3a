"""GUI fixtures: real services on a fresh SQLite file, a small catalogue, and one screen at a time."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from boxoffice.app import AppServices, build_app
from boxoffice.db.engine import sqlite_url
from boxoffice.timeutil import FixedClock
from boxoffice.ui.desk import Desk
from boxoffice.ui.formatting import Display
from boxoffice.ui.messages import RecordingMessages
from boxoffice.ui.tasks import TaskRunner
from boxoffice.ui.widgets.inline_message import Banner
from tests import factories


@dataclass
class Catalogue:
    conference_id: int
    regular: int
    last_one: int
    workshop: int
    operator_id: int


@pytest.fixture(autouse=True)
def _quit_without_asking(monkeypatch: pytest.MonkeyPatch) -> None:
    """Windows closed at teardown quit as asked (a test of the question replaces it again)."""
    from boxoffice.ui.main_window import MainWindow

    monkeypatch.setattr(MainWindow, "confirm_quit", staticmethod(lambda _parent, _text: True))


@pytest.fixture
def services(db_path: Path, clock: FixedClock) -> Iterator[AppServices]:
    app = build_app(sqlite_url(db_path), clock=clock)
    yield app
    app.close()


@pytest.fixture
def catalogue(services: AppServices) -> Catalogue:
    db = services.db
    conf = factories.conference(db, total_capacity=500, reference_prefix="PY")
    regular = factories.ticket_type(db, conf.id, name="Regular", price=Decimal("100.00"), total_quantity=400)
    last = factories.ticket_type(db, conf.id, name="Last One", price=Decimal("80.00"), total_quantity=1)
    workshop = factories.addon(db, conf.id, name="Workshop", price=Decimal("40.00"), total_quantity=50)
    factories.voucher(db, conf.id, code="SPRING", discount_value=Decimal("25.00"),
                      ticket_types=[regular.id], addons=[workshop.id])
    operator = factories.staff(db, "Grace")   # built as data: the test may have nobody signed in
    factories.open_shift(db, services.ctx.desk_name, conference_id=conf.id)  # the cash drawer is open
    return Catalogue(conf.id, regular.id, last.id, workshop.id, operator.id)


@pytest.fixture
def desk(qtbot: Any, services: AppServices, catalogue: Catalogue) -> Iterator[Desk]:
    banner = Banner()
    qtbot.addWidget(banner)
    tasks = TaskRunner()
    messages = RecordingMessages(banner)
    yield Desk(services=services, tasks=tasks, messages=messages, conference_id=catalogue.conference_id,
               display=Display("USD", "America/New_York"), operator_id=catalogue.operator_id,
               operator_name="Grace")
    tasks.wait_idle()
    qtbot.waitUntil(lambda: not tasks.is_busy(), timeout=5000)


@dataclass
class StaffTeam:
    admin: Any      # StaffAccount of "Ada" (password ADMIN_PASSWORD)
    lead: Any       # "Linus" (password LEAD_PASSWORD)
    volunteer: Any  # "Vera" (PIN VOLUNTEER_PIN)


ADMIN_PASSWORD = "admin password"
LEAD_PASSWORD = "lead password"
VOLUNTEER_PIN = "432100"


@pytest.fixture
def staff_team(services: AppServices) -> Iterator[StaffTeam]:
    """An admin, a lead and a volunteer who sign in through the real AuthService.

    Whoever the test signs in at the desk is signed out again afterwards (the operator is desk-wide).
    """
    from boxoffice.services.staff.access import Role, acting_as, current_actor, set_operator

    previous = current_actor()
    admin = services.auth.create_first_admin("Ada", ADMIN_PASSWORD)
    with acting_as(admin.actor()):
        lead = services.auth.add_staff("Linus", Role.LEAD, LEAD_PASSWORD)
        volunteer = services.auth.add_staff("Vera", Role.VOLUNTEER, VOLUNTEER_PIN)
    yield StaffTeam(admin, lead, volunteer)
    set_operator(previous)
