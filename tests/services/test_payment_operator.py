"""The operator recorded on a payment or refund is the one signed in, never one the caller names."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from boxoffice.domain.models import AuditEntry, Payment
from boxoffice.errors import PermissionDenied
from boxoffice.services.money.payments import PaymentService
from boxoffice.services.staff import audit
from boxoffice.services.staff.access import Actor, Role, acting_as
from tests import factories
from tests.services.money_helpers import pending_order, shop

D = Decimal


@pytest.mark.no_default_actor
def test_a_volunteer_cannot_record_a_cash_payment_under_another_operator(ctx, db, clock) -> None:  # type: ignore[no-untyped-def]
    s = shop(db)
    vera = factories.staff(db, "Vera")
    other = factories.staff(db, "Otto")
    volunteer = Actor(staff_id=vera.id, name="Vera", role=Role.VOLUNTEER)
    order_id = pending_order(db, s, clock.now())
    factories.ensure_open_shift(db)
    with acting_as(volunteer), pytest.raises(PermissionDenied, match="signed in at this desk"):
        PaymentService(ctx).pay_cash(order_id, D("100.00"), operator_id=other.id)
    with db.read() as session:
        assert session.scalars(select(Payment)).all() == []
    with acting_as(volunteer):
        result = PaymentService(ctx).pay_cash(order_id, D("100.00"))
    with db.read() as session:
        assert session.get(Payment, result.payment_id).created_by_id == vera.id


@pytest.mark.no_default_actor
def test_an_approved_comp_records_the_volunteer_as_operator_and_the_lead_as_approver(ctx, db, clock) -> None:  # type: ignore[no-untyped-def]
    s = shop(db)
    vera, linus = factories.staff(db, "Vera"), factories.staff(db, "Linus")
    volunteer = Actor(staff_id=vera.id, name="Vera", role=Role.VOLUNTEER)
    lead = Actor(staff_id=linus.id, name="Linus", role=Role.LEAD)
    order_id = pending_order(db, s, clock.now())
    with acting_as(volunteer.approved_by(lead)), pytest.raises(PermissionDenied):
        PaymentService(ctx).comp(order_id, reason="speaker", operator_id=linus.id)
    with acting_as(volunteer.approved_by(lead)):
        result = PaymentService(ctx).comp(order_id, reason="speaker")
    with db.read() as session:
        assert session.get(Payment, result.payment_id).created_by_id == vera.id
        row = session.scalars(select(AuditEntry).where(AuditEntry.action == audit.COMP)).one()
        assert (row.actor_id, row.approver_id) == (vera.id, linus.id)
