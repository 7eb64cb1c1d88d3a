"""Conference file import (DESK-6, DESK-7): the real example file, idempotency, skipped sections."""

from __future__ import annotations

import shutil
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from boxoffice.db.engine import Database
from boxoffice.domain.models import AddOn, Conference, TicketType
from boxoffice.services.admin.conference_import import import_conference, slugify
from boxoffice.services.context import ServiceContext
from boxoffice.timeutil import UTC

EXAMPLE = Path(__file__).resolve().parent.parent / "data" / "conference.example.toml"


def _tickets(db: Database) -> dict[str, TicketType]:
    with db.read() as session:
        tickets = {t.slug: t for t in session.scalars(select(TicketType).order_by(TicketType.order))}
        session.expunge_all()  # keep the loaded values readable after the read session rolls back
    return tickets


def test_example_file_creates_conference_tickets_and_addons(ctx: ServiceContext, db: Database) -> None:
    report = import_conference(ctx, EXAMPLE)
    assert (report.created, report.updated, report.unchanged) == (7, 0, 0)
    with db.read() as session:
        conf = session.scalars(select(Conference)).one()
        assert (conf.id, conf.name, conf.slug) == (report.conference_id, "Python 2077", "python-2077")
        assert (conf.timezone, conf.total_capacity) == ("America/New_York", 2500)
        assert (conf.start_date, conf.end_date) == ("2027-05-14", "2027-05-22")
        assert conf.venue == "Pittsburgh Convention Center"
        assert conf.website_url == "https://python2077.dev/"
        addons = {a.slug: a for a in session.scalars(select(AddOn))}
        assert set(addons) == {"tutorial-intro-to-django", "pycon-t-shirt"}
        tutorial = addons["tutorial-intro-to-django"]
        assert (tutorial.price, tutorial.total_quantity, tutorial.order) == (Decimal("150.00"), 40, 0)
        assert sorted(t.slug for t in tutorial.requires_ticket_types) == [
            "corporate", "individual", "speaker", "student"
        ]
        assert addons["pycon-t-shirt"].order == 1
    tickets = _tickets(db)
    assert list(tickets) == ["individual", "corporate", "student", "speaker"]
    student = tickets["student"]
    assert student.price == Decimal("25.00") and isinstance(student.price, Decimal)
    assert (student.total_quantity, student.limit_per_user, student.requires_voucher) == (500, 1, True)
    assert tickets["individual"].requires_voucher is False
    assert [t.order for t in tickets.values()] == [0, 1, 2, 3]


def test_desk6_date_only_window_is_local_midnight_to_235959_stored_utc(ctx: ServiceContext, db: Database) -> None:
    import_conference(ctx, EXAMPLE)
    individual = _tickets(db)["individual"]
    # 2025-01-15 00:00 in New York (EST, UTC-5); 2027-05-13 23:59:59 in New York (EDT, UTC-4).
    assert individual.available_from == datetime(2025, 1, 15, 5, 0, tzinfo=UTC)
    assert individual.available_until == datetime(2027, 5, 14, 3, 59, 59, tzinfo=UTC)


def test_other_sections_are_reported_as_skipped_by_name(ctx: ServiceContext) -> None:
    report = import_conference(ctx, EXAMPLE)
    assert report.skipped_sections == (
        "conference.revenue_budget",
        "conference.target_attendance",
        "conference.grant_budget",
        "conference.sections (3 entries)",
        "conference.sponsor_levels (5 entries)",
    )
    assert "sponsor_levels" in report.describe()


def test_importing_twice_changes_nothing(ctx: ServiceContext, db: Database) -> None:
    first = import_conference(ctx, EXAMPLE)
    before = {slug: (t.updated_at, t.price, t.available_until) for slug, t in _tickets(db).items()}
    second = import_conference(ctx, EXAMPLE)
    assert (second.created, second.updated, second.unchanged) == (0, 0, 7)
    assert second.conference_id == first.conference_id
    assert {slug: (t.updated_at, t.price, t.available_until) for slug, t in _tickets(db).items()} == before
    with db.read() as session:
        assert session.scalar(select(func.count(Conference.id))) == 1
        assert session.scalar(select(func.count(TicketType.id))) == 4
        assert session.scalar(select(func.count(AddOn.id))) == 2


def test_reimport_of_an_edited_file_updates_only_what_changed(
    ctx: ServiceContext, db: Database, tmp_path: Path
) -> None:
    import_conference(ctx, EXAMPLE)
    edited = tmp_path / "conference.toml"
    text = EXAMPLE.read_text().replace("price = 350.00", "price = 375.50")
    text = text.replace('requires = ["individual", "corporate", "student", "speaker"]\n\n[[conference.addons]]',
                        'requires = ["individual"]\n\n[[conference.addons]]')
    edited.write_text(text)
    report = import_conference(ctx, edited)
    assert (report.created, report.updated, report.unchanged) == (0, 2, 5)
    assert "updated ticket corporate: price" in report.changes
    assert "updated add-on tutorial-intro-to-django: requires" in report.changes
    assert _tickets(db)["corporate"].price == Decimal("375.50")
    with db.read() as session:
        tutorial = session.scalars(select(AddOn).where(AddOn.slug == "tutorial-intro-to-django")).one()
        assert [t.slug for t in tutorial.requires_ticket_types] == ["individual"]


def test_slug_derivation_rule() -> None:
    assert slugify("Tutorial: Intro to Django") == "tutorial-intro-to-django"
    assert slugify("  PyCon T-Shirt -- XL ") == "pycon-t-shirt-xl"
    assert slugify("Early_Bird (2027)!") == "early_bird-2027"
    assert slugify("Café Pass") == "cafe-pass"


def test_conference_slug_derived_from_name_without_pretalx_slug(ctx: ServiceContext, tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(EXAMPLE.read_text().replace('pretalx_event_slug = "python-2077"\n', ""))
    report = import_conference(ctx, path)
    assert report.conference_slug == "python-2077"


def test_explicit_ticket_datetime_with_offset_is_kept_exactly(ctx: ServiceContext, db: Database, tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    shutil.copyfile(EXAMPLE, path)
    text = path.read_text().replace(
        "available = { opens = 2025-01-15, closes = 2027-05-13 }",
        "available = { opens = 2025-01-15T09:30:00Z, closes = 2027-05-13T18:00:00 }", 1,
    )
    path.write_text(text)
    import_conference(ctx, path)
    individual = _tickets(db)["individual"]
    assert individual.available_from == datetime(2025, 1, 15, 9, 30, tzinfo=UTC)
    # A local date-time without offset is read in the conference's zone (EDT in May).
    assert individual.available_until == datetime(2027, 5, 13, 22, 0, tzinfo=UTC)


def test_demo_file_imports_and_is_on_sale_around_today(ctx: ServiceContext, db: Database) -> None:
    from boxoffice import paths

    report = import_conference(ctx, paths.demo_conference_file())
    assert report.created == 10
    today = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    in_a_year = datetime(2027, 11, 1, 12, 0, tzinfo=UTC)
    tickets = _tickets(db)
    for slug in ("individual", "corporate", "student", "speaker"):
        t = tickets[slug]
        assert t.available_from is not None and t.available_until is not None
        assert t.available_from <= today <= t.available_until
        assert t.available_from <= in_a_year <= t.available_until
    assert tickets["student"].requires_voucher
    with pytest.raises(KeyError):
        tickets["vip"]
