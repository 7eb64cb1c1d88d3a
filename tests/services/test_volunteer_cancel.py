"""A volunteer backs out of a sale: an order that took no money is theirs to cancel, at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from boxoffice.errors import PermissionDenied
from boxoffice.services.staff.access import SYSTEM, acting_as
from boxoffice.timeutil import FixedClock
from tests.services.test_permissions import ROLES, _world

pytestmark = pytest.mark.no_default_actor


def test_a_volunteer_cancels_an_order_that_took_no_money_and_its_stock_is_back(
        db_path: Path, clock: FixedClock, tmp_path: Path) -> None:
    world = _world(db_path, clock, tmp_path)
    try:
        app = world.app
        left_before = app.catalog.remaining_all(world.conference_id)[("ticket", world.ticket_id)]
        with acting_as(ROLES["volunteer"]):
            summary = app.orders.cancel(world.pending_order_id)
        assert summary.status == "cancelled"
        assert app.catalog.remaining_all(world.conference_id)[("ticket", world.ticket_id)] == left_before + 1
        with acting_as(SYSTEM):
            (row,) = app.audit.search(actions=["cancel_order"])
        assert (row.actor_name, row.approver_name) == ("Val Volunteer", "")
    finally:
        world.app.close()


def test_an_order_with_store_credit_applied_still_needs_a_lead(db_path: Path, clock: FixedClock,
                                                                tmp_path: Path) -> None:
    world = _world(db_path, clock, tmp_path)
    try:
        with acting_as(ROLES["volunteer"]), pytest.raises(PermissionDenied) as refused:
            world.app.orders.cancel(world.credited_order_id)
        assert "needs a lead" in str(refused.value)
        assert world.app.orders.get(world.credited_order_id).status == "pending"
    finally:
        world.app.close()
