"""An order is found from any start of its reference, with or without the conference's prefix and dash."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from boxoffice.domain.models import Conference
from boxoffice.errors import NotFound
from boxoffice.services.sales.orders import OrderService
from tests import factories
from tests.services.money_helpers import pending_order, shop


@pytest.fixture
def refs(db, clock):  # type: ignore[no-untyped-def]
    s = shop(db)
    other = factories.conference(db, name="Other", slug="other", reference_prefix="ORD")
    other_shop = replace(s, conference_id=other.id, ticket_type_id=factories.ticket_type(db, other.id).id)
    now = clock.now()
    with db.write() as session:
        session.get(Conference, s.conference_id).reference_prefix = "PY27"  # type: ignore[union-attr]
    ids = {ref: pending_order(db, s, now - timedelta(minutes=i), reference=ref, billing_name=name)
           for i, (ref, name) in enumerate([("PY27-ZD7UXZP3", "Zoe Zed"), ("PY27-AB12CD34", "Ada Lovelace"),
                                             ("PY27-ZD9AAAAA", "Liz Taylor")])}
    ids["ORD-ZD7UXZP3"] = pending_order(db, other_shop, now, reference="ORD-ZD7UXZP3")
    return s, ids


@pytest.mark.parametrize("typed", ["ZD7UXZP3", "zd7uxzp3", "ZD7UX", "PY27ZD7UXZP3", "py27zd7u", "PY27-ZD7UXZP3",
                                   "py27-zd7ux", " ZD7U XZP3 "])
def test_the_orders_search_finds_any_start_of_the_reference(ctx, refs, typed: str) -> None:  # type: ignore[no-untyped-def]
    s, _ids = refs
    found = OrderService(ctx).search(s.conference_id, typed)
    assert [o.reference for o in found] == ["PY27-ZD7UXZP3"]
    assert OrderService(ctx).count(s.conference_id, typed) == 1


def test_a_shorter_start_finds_every_order_it_begins(ctx, refs) -> None:  # type: ignore[no-untyped-def]
    s, _ids = refs
    orders = OrderService(ctx)
    assert sorted(o.reference for o in orders.search(s.conference_id, "ZD")) == ["PY27-ZD7UXZP3", "PY27-ZD9AAAAA"]
    assert sorted(o.reference for o in orders.search(s.conference_id, "PY27")) == [
        "PY27-AB12CD34", "PY27-ZD7UXZP3", "PY27-ZD9AAAAA"]
    assert orders.search(s.conference_id, "ZD7UXZP4") == []
    assert orders.search(s.conference_id, "PY28ZD7U") == []


def test_the_scan_lookup_takes_the_reference_without_prefix_or_dash(ctx, refs) -> None:  # type: ignore[no-untyped-def]
    s, ids = refs
    orders = OrderService(ctx)
    for typed in ("ZD7UXZP3", "zd7uxzp3", "PY27ZD7UXZP3", " py27-zd7uxzp3 "):
        assert orders.by_reference(typed, conference_id=s.conference_id).id == ids["PY27-ZD7UXZP3"], typed
    with pytest.raises(NotFound, match="ZD7UXZP4"):
        orders.by_reference("ZD7UXZP4", conference_id=s.conference_id)
    with pytest.raises(NotFound):   # without the conference only the full reference is known
        orders.by_reference("ZD7UXZP3")
    # A full reference of another conference is still found by itself.
    assert orders.by_reference("ORD-ZD7UXZP3", conference_id=s.conference_id).id == ids["ORD-ZD7UXZP3"]
