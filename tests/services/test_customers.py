"""Customers (DEC-5, DESK-1), staff (DESK-2) and conference look-ups on a real SQLite file."""

from __future__ import annotations

import pytest

from boxoffice.db.engine import Database
from boxoffice.errors import InvalidInput, NotFound
from boxoffice.services.context import ServiceContext
from boxoffice.services.sales.conferences import ConferenceService
from boxoffice.services.sales.customers import CustomerService
from boxoffice.services.staff.members import StaffService
from tests import factories as f


def test_dec5_email_matches_existing_customer_ignoring_case(ctx: ServiceContext, db: Database) -> None:
    existing = f.customer(db, name="Ada Lovelace", email="ada@example.org")
    found = CustomerService(ctx).get_or_create(name="A. Lovelace", email="  ADA@Example.ORG ", company="")
    assert found.id == existing.id
    assert found.label == "Ada Lovelace"


def test_new_customer_stored_with_lower_case_email(ctx: ServiceContext) -> None:
    service = CustomerService(ctx)
    created = service.get_or_create(name=" Grace   Hopper ", email="Grace@Navy.MIL", company="Navy")
    assert (created.name, created.email, created.company, created.is_anonymous) == (
        "Grace Hopper", "grace@navy.mil", "Navy", False)
    assert service.get(created.id) == created


def test_without_email_each_call_creates_a_new_record(ctx: ServiceContext) -> None:
    service = CustomerService(ctx)
    a = service.get_or_create(name="Sam", email=None, company="")
    b = service.get_or_create(name="Sam", email="", company="")
    assert a.id != b.id


def test_invalid_customer_input(ctx: ServiceContext) -> None:
    service = CustomerService(ctx)
    with pytest.raises(InvalidInput):
        service.get_or_create(name="", email=None, company="")
    with pytest.raises(InvalidInput):
        service.get_or_create(name="X", email="not-an-email", company="")
    with pytest.raises(NotFound):
        service.get(12345)


def test_anonymous_customers_are_fresh_and_labelled(ctx: ServiceContext) -> None:
    service = CustomerService(ctx)
    a, b = service.create_anonymous(), service.create_anonymous()
    assert a.id != b.id and a.is_anonymous
    assert a.label == f"Walk-up #{a.id}"


def test_find_by_prefix_of_name_or_email_case_insensitive(ctx: ServiceContext, db: Database) -> None:
    f.customer(db, name="Ada Lovelace", email="ada@example.org")
    f.customer(db, name="Grace Hopper", email="admiral@navy.mil")
    f.customer(db, name="Alan Turing", email="alan@bletchley.uk")
    f.customer(db, name="100% Percent_Guy", email="pct@example.org")
    service = CustomerService(ctx)
    assert [c.name for c in service.find("AD")] == ["Ada Lovelace", "Grace Hopper"]
    assert [c.name for c in service.find("grace")] == ["Grace Hopper"]
    assert [c.name for c in service.find("lovelace")] == []  # prefix, not substring
    assert [c.name for c in service.find("100%")] == ["100% Percent_Guy"]
    assert service.find("a%") == []  # LIKE wildcards are literal
    assert len(service.find("a", limit=1)) == 1
    assert service.find("   ") == []
    with pytest.raises(InvalidInput):
        service.find("a", limit=0)


def test_staff_get_or_create_is_case_insensitive(ctx: ServiceContext) -> None:
    staff = StaffService(ctx)
    grace = staff.get_or_create(" Grace ")
    assert staff.get_or_create("grace") == grace
    staff.get_or_create("Alan")
    assert [s.name for s in staff.list()] == ["Alan", "Grace"]
    with pytest.raises(InvalidInput):
        staff.get_or_create("  ")


def test_conference_list_and_get(ctx: ServiceContext, db: Database) -> None:
    conf = f.conference(db, reference_prefix="PYCON", total_capacity=500)
    service = ConferenceService(ctx)
    view = service.get(conf.id)
    assert (view.name, view.slug, view.reference_prefix, view.total_capacity, view.currency) == (
        "Python 2077", "python-2077", "PYCON", 500, "USD")
    assert service.list() == [view]
    with pytest.raises(NotFound):
        service.get(999)
