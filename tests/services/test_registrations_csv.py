"""Registrations from a CSV file: the documented header, Excel's quirks, bad rows skipped, a round trip."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from boxoffice.domain.models import Attendee, Conference, Order, OrderStatus, TicketType
from boxoffice.services.admin.conference_import import import_conference
from boxoffice.services.checkin.registrations import RegistrationService
from boxoffice.services.checkin.registrations_csv import HEADER, read_csv
from boxoffice.services.checkin.registrations_source import RegistrationSourceError
from boxoffice.services.checkin.registrations_state import fingerprints
from boxoffice.services.context import ServiceContext
from boxoffice.services.sales import order_state

DATA = Path(__file__).parents[1] / "data"
EXAMPLE = DATA / "registrations.example.csv"
SLUG = "python-2077"


@pytest.fixture
def desk(ctx: ServiceContext) -> ServiceContext:
    import_conference(ctx, DATA / "conference.example.toml")
    return ctx


def write(tmp_path: Path, text: str, *, encoding: str = "utf-8", name: str = "r.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def row(reference: str, *, status: str = "paid", ticket: str = "individual", code: str = "", addons: str = "",
        paid: str = "100.00", sep: str = ",", name: str = "Ada Lovelace") -> str:
    cells = [reference, status, name, "ada@example.org", "", "", "", "", ticket, code, addons, paid, "0.00",
             "", ""]
    return sep.join(cells) + "\n"


def test_the_example_file_imports_as_documented(desk: ServiceContext) -> None:
    report = RegistrationService(desk).import_registrations(EXAMPLE, SLUG)
    assert report.counts() == {"new": 4, "updated": 0, "unchanged": 0, "skipped": 0, "oversold": 0}
    with desk.db.read() as session:
        corporate = session.scalars(select(Order).where(Order.reference == "WEB-1001")).one()
        assert corporate.source_system == "csv" and corporate.source_id == "WEB-1001"
        codes = {a.access_code: a.name for a in session.scalars(select(Attendee).where(
            Attendee.order_id == corporate.id))}
        assert codes == {"K7PQ2M9X": "Maya Patel", "H3ZD8W4N": "Ravi Shah"}
        partial = session.scalars(select(Order).where(Order.reference == "WEB-1002")).one()
        assert partial.status == OrderStatus.PARTIALLY_REFUNDED
        assert [r.amount for r in partial.refunds] == [Decimal("150.00")]
        pending = session.scalars(select(Order).where(Order.reference == "WEB-1003")).one()
        assert pending.total == Decimal("100.00")
        assert order_state.recount(session) == []
    assert RegistrationService(desk).import_registrations(EXAMPLE, SLUG).counts()["unchanged"] == 4


def test_a_re_import_reads_whole_only_the_orders_whose_rows_changed(desk: ServiceContext, tmp_path: Path) -> None:
    path = write(tmp_path, ",".join(HEADER) + "\n" + row("WEB-1") + row("WEB-2", code="K7PQ2M9X"))
    RegistrationService(desk).import_registrations(path, SLUG)
    with desk.db.read() as session:
        known = fingerprints(session, session.scalars(select(Conference.id)).one(), "csv")
    prices = {("ticket", "individual"): (Decimal("100.00"), "Individual")}
    assert read_csv(path, prices, known=known).unchanged == 2
    write(tmp_path, ",".join(HEADER) + "\n" + row("WEB-1") + row("WEB-2", code="K7PQ2M9X", name="Ada King"))
    data = read_csv(path, prices, known=known)
    assert [o.reference for o in data.orders] == ["WEB-2"] and data.unchanged == 1
    report = RegistrationService(desk).import_registrations(path, SLUG)
    assert report.counts() == {"new": 0, "updated": 1, "unchanged": 1, "skipped": 0, "oversold": 0}


def test_excel_files_with_a_bom_cp1252_semicolons_and_decimal_commas_import(desk: ServiceContext,
                                                                            tmp_path: Path) -> None:
    bom = write(tmp_path, "\ufeff" + ",".join(HEADER) + "\n" + row("X-1", code="BOMCODE1"), name="bom.csv")
    excel = write(tmp_path, ";".join(HEADER) + "\n"
                  + row("X-2", name="José Müller", sep=";", paid="100,00", code="EXCEL001"),
                  encoding="cp1252", name="excel.csv")
    assert RegistrationService(desk).import_registrations(bom, SLUG).new == 1
    report = RegistrationService(desk).import_registrations(excel, SLUG)
    assert report.new == 1, report.describe()
    with desk.db.read() as session:
        attendee = session.scalars(select(Attendee).where(Attendee.access_code == "EXCEL001")).one()
        assert attendee.order.billing_name == "José Müller"
        assert attendee.order.payments[0].amount == Decimal("100.00")


def test_bad_orders_are_skipped_whole_and_named_and_the_rest_imports(desk: ServiceContext, tmp_path: Path) -> None:
    path = write(tmp_path, ",".join(HEADER) + "\n"
                 + row("OK-1", code="GOODCODE")
                 + row("BAD-MONEY", paid="twelve")
                 + row("BAD-SLUG", ticket="vip")
                 + row("BAD-ADDON", addons="mug:1")
                 + row("DUP-1", code="SAMECODE")
                 + row("DUP-2", code="SAMECODE")
                 + row("HALF", code="HALF0001") + row("HALF", ticket="student")[:-30] + "\n"
                 + row("OK-2"))
    report = RegistrationService(desk).import_registrations(path, SLUG)
    reasons = {s.reference: s.reason for s in report.skipped}
    assert report.new == 2
    assert "amount_paid 'twelve' is not an amount" in reasons["BAD-MONEY"]
    assert "unknown ticket type 'vip'" in reasons["BAD-SLUG"]
    assert "unknown add-on 'mug'" in reasons["BAD-ADDON"]
    assert "SAMECODE" in reasons["DUP-1"] and "DUP-2" in reasons["DUP-1"] and "DUP-1" in reasons["DUP-2"]
    assert "HALF" in reasons
    text = report.describe()
    assert all(f"skipped {ref}" in text for ref in reasons)
    with desk.db.read() as session:
        assert set(session.scalars(select(Order.reference))) == {"OK-1", "OK-2"}
        assert order_state.recount(session) == []


def test_a_file_without_the_required_columns_is_refused_with_their_names(desk: ServiceContext,
                                                                         tmp_path: Path) -> None:
    path = write(tmp_path, "order_reference,order_status,buyer_name\nX,paid,Ada\n")
    with pytest.raises(RegistrationSourceError, match="lacks the column.*buyer_email, ticket_type, access_code"):
        RegistrationService(desk).import_registrations(path, SLUG)
    with pytest.raises(RegistrationSourceError, match="There is no file"):
        RegistrationService(desk).import_registrations(tmp_path / "none.csv", SLUG)


def test_an_export_imports_into_another_desk_with_the_same_orders_and_codes(
        desk: ServiceContext, tmp_path: Path, db_path: Path) -> None:
    RegistrationService(desk).import_registrations(EXAMPLE, SLUG)
    out = tmp_path / "export.csv"
    assert RegistrationService(desk).export_registrations_csv(SLUG, out) == 5
    from boxoffice.db.engine import Database, sqlite_url
    from boxoffice.db.migrate import upgrade

    other_path = tmp_path / "other.sqlite3"
    other_db = Database(sqlite_url(other_path))
    try:
        upgrade(other_db)
        other = ServiceContext(db=other_db, clock=desk.clock)
        import_conference(other, DATA / "conference.example.toml")
        report = RegistrationService(other).import_registrations(out, SLUG)
        assert report.counts()["new"] == 4
        with desk.db.read() as a, other_db.read() as b:
            assert facts(a) == facts(b)
            assert b.scalar(select(func.count(Attendee.id))) == 3
    finally:
        other_db.dispose()


def facts(session: Session) -> tuple[object, ...]:
    return (sorted(tuple(r) for r in session.execute(select(Order.reference, Order.status, Order.total))),
            sorted(session.scalars(select(Attendee.access_code))),
            sorted(tuple(r) for r in session.execute(
                select(TicketType.slug, TicketType.sold_quantity, TicketType.held_quantity))))
