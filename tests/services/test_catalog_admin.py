"""Catalog administration: ticket types, add-ons and vouchers through CatalogAdminService on real SQLite."""

from __future__ import annotations

import csv
import json
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from boxoffice.db.engine import Database
from boxoffice.domain.catalog_rules import CODE_ALPHABET
from boxoffice.domain.models import AuditEntry, Voucher
from boxoffice.errors import InvalidInput, NotFound, NotSignedIn, PermissionDenied
from boxoffice.services.admin.catalog_admin import CatalogAdminService, DuplicateName, StockTooLow
from boxoffice.services.context import ServiceContext
from boxoffice.services.sales.catalog import CatalogService
from boxoffice.services.staff import audit
from boxoffice.services.staff.access import Actor, Role, acting_as
from boxoffice.timeutil import UTC
from tests import factories as f

LEAD = Actor(staff_id=None, name="Lena Lead", role=Role.LEAD)
VOLUNTEER = Actor(staff_id=None, name="Val Volunteer", role=Role.VOLUNTEER)
ADMIN = Actor(staff_id=None, name="Ann Admin", role=Role.ADMIN)


@pytest.fixture
def admin(ctx: ServiceContext) -> CatalogAdminService:
    return CatalogAdminService(ctx)


@pytest.fixture
def conf_id(db: Database) -> int:
    return f.conference(db).id


def audit_rows(db: Database) -> list[AuditEntry]:
    with db.read() as session:
        rows = list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
        session.expunge_all()
        return rows


# --------------------------------------------------------------------------- ticket types


def test_created_ticket_type_is_sold_by_the_catalog_and_audited(
        admin: CatalogAdminService, ctx: ServiceContext, db: Database, conf_id: int) -> None:
    view = admin.create_ticket_type(conf_id, name="Early Bird", price=Decimal("80.00"), total_quantity=100,
                                    limit_per_user=2, description="Until May")
    assert (view.slug, view.price, view.total_quantity, view.limit_per_user) == ("early-bird", Decimal("80.00"),
                                                                                 100, 2)
    product = next(t for t in CatalogService(ctx).list_products(conf_id).tickets if t.id == view.id)
    assert (product.name, product.price, product.remaining, product.state) == (
        "Early Bird", Decimal("80.00"), 100, "on_sale")
    [row] = audit_rows(db)
    assert (row.action, row.target_type, row.target_id, row.actor_name) == (
        audit.CATALOG_CHANGE, "ticket_type", view.id, "test admin")
    assert row.amount_after == Decimal("80.00")
    assert json.loads(row.detail)["created"]["total_quantity"] == 100


def test_price_stock_and_name_change_write_one_row_each(
        admin: CatalogAdminService, db: Database, conf_id: int) -> None:
    ticket = admin.create_ticket_type(conf_id, name="Regular", price=Decimal("100.00"), total_quantity=50)
    with acting_as(ADMIN):
        admin.update_ticket_type(ticket.id, price=Decimal("120.00"), total_quantity=60, name="Regular Pass",
                                 limit_per_user=10)  # limit unchanged (default 10): no row for it
    rows = audit_rows(db)[1:]
    assert [r.action for r in rows] == [audit.PRICE_CHANGE, audit.STOCK_CHANGE, audit.CATALOG_CHANGE]
    price, stock, other = rows
    assert (price.amount_before, price.amount_after, price.actor_name) == (
        Decimal("100.00"), Decimal("120.00"), "Ann Admin")
    assert json.loads(stock.detail)["before"] == 50 and json.loads(stock.detail)["after"] == 60
    assert json.loads(other.detail) == {"name": {"before": "Regular", "after": "Regular Pass"}}
    assert other.target_label == "Regular → Regular Pass"


def test_an_update_that_changes_nothing_writes_no_audit_row(
        admin: CatalogAdminService, db: Database, conf_id: int) -> None:
    ticket = admin.create_ticket_type(conf_id, name="Regular", price=Decimal("100.00"))
    admin.update_ticket_type(ticket.id, price=Decimal(100), name="Regular")
    assert len(audit_rows(db)) == 1


def test_stock_cannot_go_below_sold_plus_held(
        admin: CatalogAdminService, ctx: ServiceContext, db: Database, conf_id: int) -> None:
    ticket = admin.create_ticket_type(conf_id, name="Regular", price=Decimal("10.00"), total_quantity=20,
                                      limit_per_user=20)
    buyer = f.customer(db)
    order = f.sell(ctx, conf_id, buyer.id, [("ticket", ticket.id, 7)])
    f.mark_order_paid(db, order.id)
    f.sell(ctx, conf_id, f.customer(db, email="b@example.org").id, [("ticket", ticket.id, 5)])  # held
    with pytest.raises(StockTooLow) as caught:
        admin.update_ticket_type(ticket.id, total_quantity=11)
    assert str(caught.value) == "12 are already sold or held; the stock can't be lower than 12."
    assert caught.value.field == "total_quantity"
    assert admin.update_ticket_type(ticket.id, total_quantity=12).total_quantity == 12
    assert admin.update_ticket_type(ticket.id, total_quantity=0).total_quantity == 0  # unlimited


@pytest.mark.parametrize(("changes", "field", "text"), [
    ({"price": Decimal(-1)}, "price", "must be an amount of 0 or more"),
    ({"price": Decimal("1.005")}, "price", "more than two decimals"),
    ({"price": 1.5}, "price", "must be an amount"),
    ({"total_quantity": -3}, "total_quantity", "from 0 to"),
    ({"total_quantity": "12"}, "total_quantity", "whole number"),
    ({"limit_per_user": 0}, "limit_per_user", "from 1 to"),
    ({"name": "  "}, "name", "must not be empty"),
    ({"available_from": datetime(2027, 6, 1, tzinfo=UTC), "available_until": datetime(2027, 5, 1, tzinfo=UTC)},
     "available_until", "before the start"),
])
def test_invalid_ticket_fields_are_refused_with_the_field(
        admin: CatalogAdminService, db: Database, conf_id: int, changes: dict, field: str, text: str) -> None:
    ticket = admin.create_ticket_type(conf_id, name="Regular", price=Decimal("100.00"))
    with pytest.raises(InvalidInput) as caught:
        admin.update_ticket_type(ticket.id, **changes)
    assert caught.value.field == field
    assert text in str(caught.value)
    assert len(audit_rows(db)) == 1


def test_names_and_slugs_are_unique_within_the_conference(
        admin: CatalogAdminService, db: Database, conf_id: int) -> None:
    admin.create_ticket_type(conf_id, name="Student", price=Decimal("25.00"))
    with pytest.raises(DuplicateName, match="already called 'Student'"):
        admin.create_ticket_type(conf_id, name="student", price=Decimal("30.00"))
    with pytest.raises(DuplicateName, match="slug 'student'"):
        admin.create_ticket_type(conf_id, name="Student!", price=Decimal("30.00"))
    other = f.conference(db, name="Other", slug="other").id
    assert admin.create_ticket_type(other, name="Student", price=Decimal("30.00")).slug == "student"


def test_window_from_one_field_is_checked_against_the_stored_other(
        admin: CatalogAdminService, conf_id: int) -> None:
    ticket = admin.create_ticket_type(conf_id, name="Regular", price=Decimal("1.00"),
                                      available_until=datetime(2027, 5, 10, tzinfo=UTC))
    with pytest.raises(InvalidInput, match="before the start"):
        admin.update_ticket_type(ticket.id, available_from=datetime(2027, 5, 11, tzinfo=UTC))


def test_unknown_ticket_type_is_not_found(admin: CatalogAdminService, conf_id: int) -> None:
    with pytest.raises(NotFound):
        admin.update_ticket_type(9999, price=Decimal("1.00"))


# --------------------------------------------------------------------------- add-ons


def test_addon_requires_ticket_types_of_the_same_conference(
        admin: CatalogAdminService, db: Database, conf_id: int) -> None:
    regular = admin.create_ticket_type(conf_id, name="Regular", price=Decimal("100.00"))
    student = admin.create_ticket_type(conf_id, name="Student", price=Decimal("25.00"))
    other_conf = f.conference(db, name="Other", slug="other").id
    foreign = admin.create_ticket_type(other_conf, name="Foreign", price=Decimal("1.00"))
    addon = admin.create_addon(conf_id, name="Workshop", price=Decimal("40.00"), total_quantity=30,
                               requires_ticket_type_ids=[regular.id])
    assert addon.requires_ticket_names == ("Regular",)
    with pytest.raises(InvalidInput, match="does not belong to this conference"):
        admin.update_addon(addon.id, requires_ticket_type_ids=[foreign.id])
    updated = admin.update_addon(addon.id, requires_ticket_type_ids=[student.id, regular.id],
                                 price=Decimal("45.00"))
    assert set(updated.requires_ticket_type_ids) == {regular.id, student.id}
    [listed] = admin.list_addons(conf_id)
    assert listed == updated
    rows = [r for r in audit_rows(db) if r.target_type == "addon"]
    assert [r.action for r in rows] == [audit.CATALOG_CHANGE, audit.PRICE_CHANGE, audit.CATALOG_CHANGE]
    assert json.loads(rows[2].detail)["requires_ticket_type_ids"] == {
        "before": [regular.id], "after": sorted([regular.id, student.id])}


def test_addon_stock_floor_and_validation(admin: CatalogAdminService, db: Database, conf_id: int) -> None:
    addon = f.addon(db, conf_id, name="Dinner", total_quantity=40, sold_quantity=30, held_quantity=3)
    with pytest.raises(StockTooLow, match="33 are already sold or held"):
        admin.update_addon(addon.id, total_quantity=32)
    with pytest.raises(InvalidInput, match="more than two decimals"):
        admin.create_addon(conf_id, name="Lunch", price=Decimal("9.999"))


# --------------------------------------------------------------------------- vouchers


def test_create_and_update_voucher(admin: CatalogAdminService, db: Database, conf_id: int) -> None:
    ticket = admin.create_ticket_type(conf_id, name="Regular", price=Decimal("100.00"))
    voucher = admin.create_voucher(conf_id, code=" friends ", voucher_type="percentage",
                                   discount_value=Decimal(20), max_uses=5, ticket_type_ids=[ticket.id])
    assert (voucher.code, voucher.voucher_type, voucher.discount_value, voucher.ticket_type_ids) == (
        "FRIENDS", "percentage", Decimal("20.00"), (ticket.id,))
    with pytest.raises(InvalidInput, match="above 100"):
        admin.update_voucher(voucher.id, discount_value=Decimal(150))
    with pytest.raises(DuplicateName, match="FRIENDS is already used"):
        admin.create_voucher(conf_id, code="Friends", voucher_type="comp", discount_value=Decimal(0))
    changed = admin.update_voucher(voucher.id, discount_value=Decimal(30), is_active=False)
    assert (changed.discount_value, changed.is_active) == (Decimal("30.00"), False)
    rows = [r for r in audit_rows(db) if r.action == audit.VOUCHER_CHANGE]
    assert len(rows) == 2
    assert (rows[1].amount_before, rows[1].amount_after) == (Decimal("20.00"), Decimal("30.00"))
    assert json.loads(rows[1].detail)["is_active"] == {"before": True, "after": False}


def test_max_uses_cannot_drop_below_times_used(admin: CatalogAdminService, db: Database, conf_id: int) -> None:
    voucher = f.voucher(db, conf_id, code="USED", max_uses=10, times_used=4)
    with pytest.raises(InvalidInput, match="can't be lower than 4"):
        admin.update_voucher(voucher.id, max_uses=3)
    assert admin.update_voucher(voucher.id, max_uses=4).max_uses == 4


def test_generate_codes_unique_against_existing_and_one_audit_row(
        admin: CatalogAdminService, db: Database, conf_id: int, monkeypatch: pytest.MonkeyPatch) -> None:
    f.voucher(db, conf_id, code="PYAAAA")
    # A random source that first repeats an existing code and the batch's own first code.
    draws = iter("AAAA" "BBBB" "AAAA" "BBBB" "CCCC")
    monkeypatch.setattr("boxoffice.services.admin.catalog_admin.secrets.randbelow",
                        lambda n: CODE_ALPHABET.index(next(draws)))
    codes = admin.generate_vouchers(conf_id, 2, prefix="py", length=4, voucher_type="comp",
                                    discount_value=Decimal(0))
    assert codes == ["PYBBBB", "PYCCCC"]
    rows = audit_rows(db)
    assert [r.action for r in rows] == [audit.VOUCHER_CHANGE]
    assert json.loads(rows[0].detail)["codes"] == codes


def test_generate_many_codes_in_one_batch(admin: CatalogAdminService, db: Database, conf_id: int) -> None:
    ticket = admin.create_ticket_type(conf_id, name="Regular", price=Decimal("100.00"))
    codes = admin.generate_vouchers(conf_id, 1000, prefix="SPK-", voucher_type="percentage",
                                    discount_value=Decimal(50), max_uses=2, ticket_type_ids=[ticket.id],
                                    valid_until=datetime(2027, 5, 20, tzinfo=UTC))
    assert len(set(codes)) == 1000
    assert all(c.startswith("SPK-") and len(c) == 12 for c in codes)
    assert not any(ch in "01OIL" for c in codes for ch in c[4:])
    vouchers = admin.list_vouchers(conf_id, text="spk-")
    assert len(vouchers) == 1000
    assert {(v.voucher_type, v.discount_value, v.max_uses, v.ticket_type_ids) for v in vouchers} == {
        ("percentage", Decimal("50.00"), 2, (ticket.id,))}
    batch = [r for r in audit_rows(db) if r.action == audit.VOUCHER_CHANGE]
    assert len(batch) == 1
    detail = json.loads(batch[0].detail)
    assert (detail["count"], detail["codes_not_listed"], len(detail["codes"])) == (1000, 900, 100)


@pytest.mark.parametrize(("count", "prefix", "text"), [
    (0, "", "from 1 to 10000"), (10_001, "", "from 1 to 10000"), (5, "A B", "may only contain"),
])
def test_generate_refuses_bad_input_and_writes_nothing(
        admin: CatalogAdminService, db: Database, conf_id: int, count: int, prefix: str, text: str) -> None:
    with pytest.raises(InvalidInput, match=text):
        admin.generate_vouchers(conf_id, count, prefix=prefix, voucher_type="comp", discount_value=Decimal(0))
    with db.read() as session:
        assert session.scalar(select(func.count(Voucher.id))) == 0
    assert audit_rows(db) == []


def test_export_vouchers_csv_in_conference_time(
        admin: CatalogAdminService, conf_id: int, tmp_path: Path) -> None:
    start = datetime(2027, 5, 1, 4, 0, tzinfo=UTC)   # midnight in New York (EDT)
    admin.create_voucher(conf_id, code="B-TEAM", voucher_type="fixed_amount", discount_value=Decimal(15),
                         max_uses=3, valid_from=start, valid_until=start + timedelta(days=2))
    codes = admin.generate_vouchers(conf_id, 3, prefix="X", voucher_type="comp", discount_value=Decimal(0))
    target = tmp_path / "vouchers.csv"
    assert admin.export_vouchers_csv(conf_id, target, codes=[c.lower() for c in codes[:2]] + ["B-TEAM"]) == 3
    assert not (tmp_path / "vouchers.csv.part").exists()
    rows = list(csv.DictReader(target.open(encoding="utf-8")))
    assert [r["code"] for r in rows] == sorted(["B-TEAM", *codes[:2]])
    team = rows[0]
    assert team == {"code": "B-TEAM", "type": "fixed_amount", "value": "15.00", "uses": "0", "max_uses": "3",
                    "valid_from": "2027-05-01T00:00-04:00", "valid_until": "2027-05-03T00:00-04:00",
                    "active": "yes"}
    assert admin.export_vouchers_csv(conf_id, target) == 4


# --------------------------------------------------------------------------- permissions


@pytest.mark.no_default_actor
@pytest.mark.parametrize("actor", [LEAD, VOLUNTEER])
def test_leads_and_volunteers_cannot_change_the_catalog(
        ctx: ServiceContext, db: Database, actor: Actor, tmp_path: Path) -> None:
    admin = CatalogAdminService(ctx)
    conf = f.conference(db).id
    ticket = f.ticket_type(db, conf)
    voucher = f.voucher(db, conf)
    calls = [
        lambda: admin.list_ticket_types(conf),
        lambda: admin.create_ticket_type(conf, name="X", price=Decimal(1)),
        lambda: admin.update_ticket_type(ticket.id, price=Decimal(1)),
        lambda: admin.create_addon(conf, name="X", price=Decimal(1)),
        lambda: admin.list_vouchers(conf),
        lambda: admin.update_voucher(voucher.id, max_uses=3),
        lambda: admin.generate_vouchers(conf, 3, voucher_type="comp", discount_value=Decimal(0)),
        lambda: admin.export_vouchers_csv(conf, tmp_path / "v.csv"),
    ]
    with acting_as(actor):
        for call in calls:
            with pytest.raises(PermissionDenied) as caught:
                call()
            assert caught.value.needs == "admin"
    assert audit_rows(db) == []
    assert not (tmp_path / "v.csv").exists()


@pytest.mark.no_default_actor
def test_nobody_signed_in_is_refused(ctx: ServiceContext, db: Database) -> None:
    conf = f.conference(db).id
    with pytest.raises(NotSignedIn):
        CatalogAdminService(ctx).create_ticket_type(conf, name="X", price=Decimal(1))
