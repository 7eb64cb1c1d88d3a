"""Store credit: issue, list, available look-up, manual expiry and the expiry sweep (CRD-*, DEC-3)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from boxoffice.errors import CreditError, InvalidInput, NotFound
from boxoffice.services.money.credits import CreditService
from boxoffice.services.money.payments import PaymentService
from tests import factories
from tests.services.money_helpers import pending_order, shop

D = Decimal


@pytest.fixture
def s(db):  # type: ignore[no-untyped-def]
    return shop(db)


def test_issue_starts_with_full_balance_MODCR2(ctx, s) -> None:  # type: ignore[no-untyped-def]
    view = CreditService(ctx).issue(s.customer_id, s.conference_id, "25.50", note="sorry", operator_id=s.staff_id)
    assert (view.amount, view.remaining, view.status) == (D("25.50"), D("25.50"), "available")
    assert view.note == "sorry by Grace" and view.customer_label == "Ada Lovelace"


@pytest.mark.parametrize("bad", ["0", "-1", "2.345", "x"])
def test_issue_rejects_bad_amounts(ctx, s, bad) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInput):
        CreditService(ctx).issue(s.customer_id, s.conference_id, bad)
    assert CreditService(ctx).list(s.conference_id) == []


def test_issue_rejects_unknown_customer_and_past_expiry(ctx, clock, s) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NotFound):
        CreditService(ctx).issue(999, s.conference_id, D("5"))
    with pytest.raises(InvalidInput, match="already past"):
        CreditService(ctx).issue(s.customer_id, s.conference_id, D("5"), expires_at=clock.now())


def test_available_balance_lookup_CRD7(ctx, db, clock, s) -> None:  # type: ignore[no-untyped-def]
    svc = CreditService(ctx)
    a = svc.issue(s.customer_id, s.conference_id, D("10"))
    b = svc.issue(s.customer_id, s.conference_id, D("30"), expires_at=clock.now() + timedelta(days=1))
    other = factories.customer(db, name="Bob", email="bob@example.org")
    svc.issue(other.id, s.conference_id, D("99"))
    order_id = pending_order(db, s, clock.now(), unit_price=D("10.00"))
    PaymentService(ctx).apply_credit(order_id, a.id)  # used up
    available = svc.available_for(s.customer_id, s.conference_id)
    assert [c.id for c in available] == [b.id]
    assert sum(c.remaining for c in available) == D("30.00")
    listed = svc.list(s.conference_id, customer_id=s.customer_id)
    assert [c.id for c in listed] == [b.id, a.id]  # newest first
    assert listed[1].applied_to_order_reference.startswith("ORD-")
    assert [c.id for c in svc.list(s.conference_id, statuses=["applied"])] == [a.id]
    clock.advance(days=2)
    assert svc.available_for(s.customer_id, s.conference_id) == []  # past expiry even before the sweep


def test_sweep_expired_DEC3(ctx, clock, s) -> None:  # type: ignore[no-untyped-def]
    svc = CreditService(ctx)
    soon = svc.issue(s.customer_id, s.conference_id, D("10"), expires_at=clock.now() + timedelta(hours=1))
    later = svc.issue(s.customer_id, s.conference_id, D("10"), expires_at=clock.now() + timedelta(days=9))
    never = svc.issue(s.customer_id, s.conference_id, D("10"))
    clock.advance(hours=2)
    assert svc.sweep_expired(s.conference_id) == 1
    assert svc.sweep_expired(s.conference_id) == 0
    status = {c.id: c.status for c in svc.list(s.conference_id)}
    assert status == {soon.id: "expired", later.id: "available", never.id: "available"}


def test_expire_by_hand(ctx, db, clock, s) -> None:  # type: ignore[no-untyped-def]
    svc = CreditService(ctx)
    credit = svc.issue(s.customer_id, s.conference_id, D("40"))
    view = svc.expire(credit.id, operator_id=s.staff_id)
    assert view.status == "expired" and view.expires_at == clock.now() and "Grace" in view.note
    with pytest.raises(CreditError, match="already expired"):
        svc.expire(credit.id)
    order_id = pending_order(db, s, clock.now())
    with pytest.raises(CreditError, match="expired"):
        PaymentService(ctx).apply_credit(order_id, credit.id)
    with pytest.raises(NotFound):
        svc.expire(12345)
