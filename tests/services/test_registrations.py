"""Registrations from the web system: the real django-program SQLite sample into a real desk database.

Upstream changes are made in a copy of the sample (the seed itself is never written), with SQL as
the web system's tables hold them.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from boxoffice.domain.models import (
    AddOn,
    Attendee,
    AuditEntry,
    CheckIn,
    Conference,
    Order,
    OrderStatus,
    Payment,
    PaymentMethod,
    Redemption,
    Refund,
    TicketType,
)
from boxoffice.errors import OrderStateError
from boxoffice.services.admin.conference_import import import_conference
from boxoffice.services.checkin.admission import CheckInService
from boxoffice.services.checkin.attendees import AttendeeService
from boxoffice.services.checkin.registrations import RegistrationService
from boxoffice.services.checkin.registrations_guard import PAID_ONLINE
from boxoffice.services.checkin.registrations_source import RegistrationSourceError, read_django_program
from boxoffice.services.checkin.registrations_state import fingerprints
from boxoffice.services.context import ServiceContext
from boxoffice.services.money.payments import PaymentService
from boxoffice.services.money.refunds import RefundService
from boxoffice.services.sales import order_state
from boxoffice.services.sales.orders import OrderService
from boxoffice.services.staff import audit

SEEDS = Path("/work/shared/seeds")
SAMPLE = SEEDS / "django-program" / "sample.sqlite3"
CONFERENCE_FILE = Path(__file__).parents[1] / "data" / "conference.example.toml"
SLUG = "python-2077"

pytestmark = pytest.mark.skipif(not SAMPLE.exists(), reason="the django-program sample is not on this machine")


@pytest.fixture
def desk(ctx: ServiceContext) -> ServiceContext:
    import_conference(ctx, CONFERENCE_FILE)
    return ctx


@pytest.fixture
def web(tmp_path: Path) -> Iterator[Path]:
    """A writable copy of the web system's database, to make upstream changes in."""
    copy = tmp_path / "web.sqlite3"
    shutil.copyfile(SAMPLE, copy)
    yield copy


def url(path: Path) -> str:
    return f"sqlite:///{path}"


def upstream(path: Path, *statements: str) -> None:
    conn = sqlite3.connect(path)
    try:
        for statement in statements:
            conn.execute(statement)
        conn.commit()
    finally:
        conn.close()


def run(ctx: ServiceContext, source: str | Path) -> object:
    return RegistrationService(ctx).import_registrations(source, SLUG)


def order(ctx: ServiceContext, reference: str) -> Order:
    with ctx.db.read() as session:
        found = session.scalars(select(Order).where(Order.reference == reference)).one()
        session.expunge(found)
        return found


def table_counts(ctx: ServiceContext) -> dict[str, int]:
    with ctx.db.read() as session:
        return {model.__tablename__: int(session.scalar(select(func.count()).select_from(model)) or 0)
                for model in (Order, Payment, Refund, Attendee, CheckIn)}


def test_the_sample_imports_with_its_counts_access_codes_and_check_ins(desk: ServiceContext) -> None:
    report = RegistrationService(desk).import_registrations(url(SAMPLE), SLUG)
    assert report.counts() == {"new": 50, "updated": 0, "unchanged": 0, "skipped": 0, "oversold": 0}
    assert report.check_ins == 13
    with desk.db.read() as session:
        orders = session.scalars(select(Order)).all()
        assert {o.source_system for o in orders} == {"django-program"}
        assert sorted(o.status.value for o in orders).count("paid") == 37
        # the attendee keeps its web access code on the first ticket unit of its user's settled order
        first = session.scalars(select(Attendee).join(Order).where(Order.reference == "ORD-GJJS2NMA")).one()
        assert first.access_code == "0ELA4QKA" and first.source_id == "attendee:1"
        # ORD-NE0VZMX1's owner's attendee points at a T-shirt order; the ticket order still has an attendee
        ticket = session.scalars(select(Attendee).join(Order).where(Order.reference == "ORD-NE0VZMX1")).one()
        assert ticket.name
        assert session.scalar(select(func.count(CheckIn.id)).where(CheckIn.kind == "re-entry")) == 2
        # money as the web recorded it: one web payment, refunds as web refunds
        partial = session.scalars(select(Order).where(Order.reference == "ORD-G05CCY5X")).one()
        assert [(p.method, p.amount) for p in partial.payments] == [(PaymentMethod.WEB, Decimal("525.00"))]
        assert [r.amount for r in partial.refunds] == [Decimal("37.50")]
        refunded = session.scalars(select(Order).where(Order.reference == "ORD-VEECQUUI")).one()
        assert refunded.status == OrderStatus.REFUNDED and [r.amount for r in refunded.refunds] == [Decimal("100.00")]
        assert order_state.recount(session) == []
        individual = session.scalars(select(TicketType).where(TicketType.slug == "individual")).one()
        assert individual.sold_quantity > 0
        assert session.scalar(select(func.count(AuditEntry.id)).where(
            AuditEntry.action == audit.REGISTRATIONS_IMPORT)) == 1


def test_a_second_import_with_nothing_changed_changes_nothing(desk: ServiceContext) -> None:
    RegistrationService(desk).import_registrations(url(SAMPLE), SLUG)
    before = table_counts(desk)
    with desk.db.read() as session:
        stamps = sorted(str(t) for t in session.scalars(select(Order.updated_at)))
    report = RegistrationService(desk).import_registrations(url(SAMPLE), SLUG)
    assert report.counts() == {"new": 0, "updated": 0, "unchanged": 50, "skipped": 0, "oversold": 0}
    assert table_counts(desk) == before
    with desk.db.read() as session:
        assert sorted(str(t) for t in session.scalars(select(Order.updated_at))) == stamps


def test_upstream_refund_cancellation_rename_and_new_order_update_the_desk(desk: ServiceContext, web: Path) -> None:
    run(desk, url(web))
    upstream(
        web,
        # a full refund of a paid order (credit row, as the web's refund service writes it)
        "UPDATE program_registration_order SET status = 'refunded' WHERE reference = 'ORD-GJJS2NMA'",
        "INSERT INTO program_registration_credit (amount, status, note, created_at, updated_at, conference_id, "
        "user_id, applied_to_order_id, source_order_id, remaining_amount) SELECT 125, 'available', '', "
        "'2027-05-10 10:00:00', '2027-05-10 10:00:00', 1, user_id, NULL, id, 125 FROM program_registration_order "
        "WHERE reference = 'ORD-GJJS2NMA'",
        # a pending order cancelled
        "UPDATE program_registration_order SET status = 'cancelled', hold_expires_at = NULL "
        "WHERE reference = 'ORD-63Z5HZHY'",
        # a rename of the attendee's user
        "UPDATE auth_user SET first_name = 'Lian', last_name = 'O''Connor-Byrne' WHERE id = "
        "(SELECT user_id FROM program_registration_order WHERE reference = 'ORD-CS9IVAB3')",
        # a new add-on on an existing order
        "INSERT INTO program_registration_orderlineitem (description, quantity, unit_price, discount_amount, "
        "line_total, created_at, addon_id, order_id, ticket_type_id) SELECT 'PyCon T-Shirt', 2, 25, 0, 50, "
        "'2027-05-10 10:00:00', (SELECT id FROM program_registration_addon WHERE slug = 'pycon-t-shirt'), id, NULL "
        "FROM program_registration_order WHERE reference = 'ORD-P6R56F9O'",
        # a new order
        "INSERT INTO program_registration_order (status, subtotal, discount_amount, total, voucher_code, "
        "voucher_details, billing_name, billing_email, billing_company, reference, created_at, updated_at, "
        "conference_id, user_id, hold_expires_at, utm_campaign, utm_medium, utm_source) VALUES ('paid', 100, 0, "
        "100, '', '', 'New Person', 'new@example.org', '', 'ORD-NEW001', '2027-05-10 10:00:00', "
        "'2027-05-10 10:00:00', 1, 60, NULL, '', '', '')",
        "INSERT INTO program_registration_orderlineitem (description, quantity, unit_price, discount_amount, "
        "line_total, created_at, addon_id, order_id, ticket_type_id) SELECT 'Individual', 1, 100, 0, 100, "
        "'2027-05-10 10:00:00', NULL, id, (SELECT id FROM program_registration_tickettype WHERE slug = "
        "'individual') FROM program_registration_order WHERE reference = 'ORD-NEW001'",
        "INSERT INTO program_registration_payment (method, amount, stripe_payment_intent_id, stripe_charge_id, "
        "reference, note, created_at, created_by_id, order_id, status) SELECT 'stripe', 100, '', '', '', '', "
        "'2027-05-10 10:00:00', NULL, id, 'succeeded' FROM program_registration_order WHERE reference = 'ORD-NEW001'",
    )
    with desk.db.read() as session:
        shirts_before = session.scalar(select(func.sum(TicketType.sold_quantity)))
    report = RegistrationService(desk).import_registrations(url(web), SLUG)
    assert report.counts() == {"new": 1, "updated": 4, "unchanged": 46, "skipped": 0, "oversold": 0}
    with desk.db.read() as session:
        assert order_state.recount(session) == []
        refunded = session.scalars(select(Order).where(Order.reference == "ORD-GJJS2NMA")).one()
        assert refunded.status == OrderStatus.REFUNDED
        assert {a.status.value for a in session.scalars(select(Attendee).where(Attendee.order_id == refunded.id))} \
            == {"void"}
        assert [r.amount for r in refunded.refunds] == [Decimal("125.00")]
        assert session.scalars(select(Order.status).where(Order.reference == "ORD-63Z5HZHY")).one() \
            == OrderStatus.CANCELLED
        renamed = session.scalars(select(Attendee).join(Order).where(Order.reference == "ORD-CS9IVAB3")).one()
        assert renamed.name == "Lian O'Connor-Byrne"
        grown = session.scalars(select(Order).where(Order.reference == "ORD-P6R56F9O")).one()
        assert sorted(li.quantity for li in grown.line_items) == [1, 2]
        new = session.scalars(select(Order).where(Order.reference == "ORD-NEW001")).one()
        assert new.source_id and len(session.scalars(select(Attendee).where(Attendee.order_id == new.id)).all()) == 1
        # one ticket refunded, one new: the ticket total sold is the same
        assert session.scalar(select(func.sum(TicketType.sold_quantity))) == shirts_before
    again = RegistrationService(desk).import_registrations(url(web), SLUG)
    assert again.counts()["unchanged"] == 51


def stored(ctx: ServiceContext) -> dict[str, str]:
    """The desk's fingerprints by web order id."""
    with ctx.db.read() as session:
        conference_id = session.scalars(select(Conference.id)).one()
        return fingerprints(session, conference_id, "django-program")


def read_after(ctx: ServiceContext, web: Path) -> set[str]:
    """The references a re-sync reads whole, given the fingerprints the desk holds."""
    data = read_django_program(url(web), SLUG, known=stored(ctx))
    assert data.unchanged + len(data.orders) == 50
    return {o.reference for o in data.orders}


def test_a_re_sync_reads_whole_only_the_orders_whose_source_rows_changed(desk: ServiceContext, web: Path) -> None:
    run(desk, url(web))
    first = stored(desk)
    assert len(first) == 50 and all(len(fp) == 32 for fp in first.values()) and len(set(first.values())) == 50
    assert read_after(desk, web) == set()
    upstream(web, "UPDATE program_registration_order SET billing_company = 'Initech' WHERE reference = 'ORD-CS9IVAB3'")
    assert read_after(desk, web) == {"ORD-CS9IVAB3"}
    # a check-in at the web's door, a payment and a line each change their order's fingerprint
    upstream(web, "INSERT INTO program_registration_checkin (checked_in_at, station, note, attendee_id, "
                  "checked_in_by_id, conference_id) SELECT '2027-05-02 08:00:00', 'Web door', '', a.id, NULL, 1 "
                  "FROM program_registration_attendee a JOIN program_registration_order o ON o.user_id = a.user_id "
                  "WHERE o.reference = 'ORD-GJJS2NMA'",
             "UPDATE program_registration_orderlineitem SET description = 'Individual (early)' WHERE order_id = "
             "(SELECT id FROM program_registration_order WHERE reference = 'ORD-P6R56F9O')")
    assert read_after(desk, web) == {"ORD-CS9IVAB3", "ORD-GJJS2NMA", "ORD-P6R56F9O"}
    report = RegistrationService(desk).import_registrations(url(web), SLUG)
    assert report.counts() == {"new": 0, "updated": 3, "unchanged": 47, "skipped": 0, "oversold": 0}
    assert report.check_ins == 1
    after = stored(desk)
    assert {sid for sid in first if first[sid] != after[sid]} == {
        desk_order.source_id for desk_order in (order(desk, r) for r in ("ORD-CS9IVAB3", "ORD-GJJS2NMA",
                                                                          "ORD-P6R56F9O"))}
    assert read_after(desk, web) == set()
    assert order(desk, "ORD-CS9IVAB3").billing_company == "Initech"


def test_a_change_to_one_order_of_a_buyer_reads_all_their_orders(desk: ServiceContext, web: Path) -> None:
    """The buyer's attendee sits on their first settled order: refunding it moves the attendee."""
    run(desk, url(web))
    upstream(web, "UPDATE program_registration_order SET status = 'refunded' WHERE reference = 'ORD-NE0VZMX1'")
    assert read_after(desk, web) == {"ORD-NE0VZMX1", "ORD-HGCQND"}


def test_orders_imported_without_a_fingerprint_are_compared_once_then_skipped(desk: ServiceContext) -> None:
    run(desk, url(SAMPLE))
    with desk.db.write() as session:
        for imported in session.scalars(select(Order)):
            imported.source_fingerprint = ""
    with desk.db.read() as session:
        stamps = sorted(str(t) for t in session.scalars(select(Order.updated_at)))
    report = RegistrationService(desk).import_registrations(url(SAMPLE), SLUG)
    assert report.counts() == {"new": 0, "updated": 0, "unchanged": 50, "skipped": 0, "oversold": 0}
    assert all(stored(desk).values())
    assert read_after(desk, SAMPLE) == set()
    with desk.db.read() as session:
        assert sorted(str(t) for t in session.scalars(select(Order.updated_at))) == stamps


def test_desk_check_ins_redemptions_and_renames_survive_a_re_import(desk: ServiceContext, web: Path) -> None:
    with desk.db.write() as session:
        session.scalars(select(AddOn).where(AddOn.slug == "pycon-t-shirt")).one().redeemable = True
    run(desk, url(web))
    with desk.db.read() as session:
        attendee = session.scalars(select(Attendee).join(Order).where(Order.reference == "ORD-CS9IVAB3")).one()
        attendee_id = attendee.id
        shirt_owner = session.scalars(select(Attendee).join(Order).where(Order.reference == "ORD-GJJS2NMA")).one()
        shirt_line = next(li.id for li in shirt_owner.order.line_items if li.addon_id is not None)
        shirt_owner_id = shirt_owner.id
    AttendeeService(desk).rename(attendee_id, name="Liam at the Desk", email="liam@desk.example")
    CheckInService(desk).admit(attendee_id)
    CheckInService(desk).redeem(shirt_owner_id, shirt_line)
    upstream(web, "UPDATE auth_user SET first_name = 'William' WHERE id = (SELECT user_id FROM "
                  "program_registration_order WHERE reference = 'ORD-CS9IVAB3')")
    before = table_counts(desk)
    report = RegistrationService(desk).import_registrations(url(web), SLUG)
    assert report.counts()["updated"] == 0
    assert any("ORD-CS9IVAB3" in c and "Liam at the Desk" in c for c in report.conflicts)
    assert table_counts(desk) == before
    with desk.db.read() as session:
        kept = session.get(Attendee, attendee_id)
        assert kept is not None and kept.name == "Liam at the Desk"
        assert session.scalar(select(func.count(CheckIn.id)).where(CheckIn.attendee_id == attendee_id)) == 1
        assert session.scalar(select(func.count(Redemption.id)).where(Redemption.attendee_id == shirt_owner_id)) == 1


def test_an_order_with_an_unknown_ticket_type_is_skipped_whole_and_named(desk: ServiceContext, web: Path) -> None:
    upstream(web, "UPDATE program_registration_tickettype SET slug = 'vip' WHERE slug = 'corporate'")
    report = RegistrationService(desk).import_registrations(url(web), SLUG)
    corporate = {s.reference for s in report.skipped}
    assert "ORD-CS9IVAB3" in corporate and all("unknown ticket type 'vip'" in s.reason for s in report.skipped)
    assert report.new == 50 - len(corporate)
    assert "skipped ORD-CS9IVAB3" in report.describe()
    with desk.db.read() as session:
        assert session.scalar(select(func.count(Order.id)).where(Order.reference == "ORD-CS9IVAB3")) == 0
        assert order_state.recount(session) == []


def test_going_past_a_ticket_types_stock_is_applied_and_reported(desk: ServiceContext) -> None:
    with desk.db.write() as session:
        session.scalars(select(TicketType).where(TicketType.slug == "corporate")).one().total_quantity = 2
    report = RegistrationService(desk).import_registrations(url(SAMPLE), SLUG)
    corporate = [o for o in report.oversold if o.name == "Corporate"]
    assert corporate and corporate[0].by == 9 - 2   # 8 sold and 1 held
    assert report.counts()["oversold"] >= 7 and report.new == 50


def test_money_operations_on_an_imported_order_are_refused(desk: ServiceContext) -> None:
    run(desk, url(SAMPLE))
    paid, pending = order(desk, "ORD-CS9IVAB3"), order(desk, "ORD-63Z5HZHY")
    with pytest.raises(OrderStateError, match=PAID_ONLINE):
        RefundService(desk).refund(paid.id, Decimal("10.00"), method="cash")
    with pytest.raises(OrderStateError, match=PAID_ONLINE):
        OrderService(desk).cancel(pending.id)
    with pytest.raises(OrderStateError, match=PAID_ONLINE):
        PaymentService(desk).pay_manual(pending.id, Decimal("10.00"), reference="x")
    with desk.db.read() as session:
        assert session.get(Order, pending.id).status == OrderStatus.PENDING  # type: ignore[union-attr]


@pytest.mark.parametrize(("make", "expected"), [
    (lambda tmp: f"sqlite:///{tmp / 'missing.sqlite3'}", "is wrong: there is no file"),
    (lambda tmp: (tmp / "notes.txt").write_text("hello") and f"sqlite:///{tmp / 'notes.txt'}",
     "is not a django-program database"),
    (lambda tmp: "mysql://web@localhost/web", "only sqlite:/// and postgresql://"),
    (lambda tmp: "postgresql://postgres@127.0.0.1:1/web", "is unreachable"),
])
def test_a_source_that_cannot_be_read_says_which_and_writes_nothing(
        desk: ServiceContext, tmp_path: Path, make: object, expected: str) -> None:
    source = make(tmp_path)  # type: ignore[operator]
    before = table_counts(desk)
    with pytest.raises(RegistrationSourceError, match=expected):
        run(desk, source)
    assert table_counts(desk) == before


def test_a_desk_database_is_not_a_django_program_one(desk: ServiceContext, db_path: Path) -> None:
    with pytest.raises(RegistrationSourceError, match="not a django-program database"):
        run(desk, f"sqlite:///{db_path}")


def test_another_schema_version_is_named(desk: ServiceContext, web: Path) -> None:
    upstream(web, "ALTER TABLE program_registration_checkin DROP COLUMN station")
    with pytest.raises(RegistrationSourceError, match="another schema version.*checkin lacks station"):
        run(desk, url(web))


def test_an_unknown_conference_slug_lists_the_sources_conferences(desk: ServiceContext, web: Path) -> None:
    upstream(web, "UPDATE program_conference_conference SET slug = 'python-2078'")
    with pytest.raises(RegistrationSourceError, match="no conference 'python-2077'; it has python-2078"):
        run(desk, url(web))


def test_the_source_is_opened_read_only(desk: ServiceContext, web: Path) -> None:
    web.chmod(0o444)
    report = RegistrationService(desk).import_registrations(url(web), SLUG)
    assert report.new == 50
    with desk.db.read() as session:
        assert session.scalar(select(Conference.slug)) == SLUG


def test_a_url_splits_into_the_url_without_its_password_and_the_password() -> None:
    from boxoffice.services.checkin.registrations_source import with_password, without_password

    assert without_password("postgresql://web:s3cr%40t@db/web") == ("postgresql://web@db/web", "s3cr@t")
    assert without_password("sqlite:///web.sqlite3") == ("sqlite:///web.sqlite3", "")
    assert with_password("postgresql://web@db/web", "s3cr@t") == "postgresql://web:s3cr%40t@db/web"
