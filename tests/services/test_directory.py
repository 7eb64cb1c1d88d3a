"""The Core reads of the start path: conferences and who may sign in, without the mapped classes.

``ConferenceService`` and ``StaffDirectory`` read light ``table()`` clauses. These tests hold them
to the mapped tables (a renamed or retyped column fails here, not at a desk) and to what the ORM
reads from the same file.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from boxoffice.db.base import Base
from boxoffice.domain.models import Conference, Staff
from boxoffice.errors import InvalidInput, NotFound
from boxoffice.services.sales.conferences import CONFERENCE, ConferenceService, ConferenceView
from boxoffice.services.staff.access import Role, acting_as
from boxoffice.services.staff.auth import AuthService
from boxoffice.services.staff.directory import STAFF, StaffDirectory
from tests import factories


@pytest.mark.parametrize("light", [CONFERENCE, STAFF], ids=lambda t: t.name)
def test_the_light_tables_match_the_mapped_ones(light) -> None:
    mapped = Base.metadata.tables[light.name]
    for col in light.columns:
        assert col.name in mapped.columns, f"{light.name}.{col.name} is not a column of the model"
        model_type = mapped.columns[col.name].type
        assert col.type._type_affinity is model_type._type_affinity, \
            f"{light.name}.{col.name}: {col.type!r} against {model_type!r} in the model"


def test_conference_view_reads_every_column_it_names() -> None:
    assert [c.name for c in CONFERENCE.columns] == list(ConferenceView.__dataclass_fields__)


def test_conferences_read_with_core_equal_the_orm_rows(ctx) -> None:
    second = factories.conference(ctx.db, name="Zebra Conf", slug="zebra", reference_prefix="ZB",
                                  timezone="Europe/Berlin", currency="EUR")
    first = factories.conference(ctx.db, name="Alpha Conf", slug="alpha", reference_prefix="AL")
    factories.ticket_type(ctx.db, first.id, name="Regular", price=Decimal("10.00"), total_quantity=5)
    with ctx.db.write() as session:
        session.get(Conference, second.id).is_active = False
    service = ConferenceService(ctx)

    listed = service.list()
    assert [c.name for c in listed] == ["Alpha Conf", "Zebra Conf"]   # active first, then by name
    with ctx.db.read() as session:
        for view in listed:
            row = session.get(Conference, view.id)
            assert view == ConferenceView(**{f: getattr(row, f) for f in ConferenceView.__dataclass_fields__})
    zebra = service.get(second.id)
    assert zebra.is_active is False and zebra.timezone == "Europe/Berlin" and zebra.currency == "EUR"
    assert isinstance(zebra.total_capacity, int)
    with pytest.raises(NotFound, match=f"Conference #{second.id + 100} does not exist"):
        service.get(second.id + 100)
    with pytest.raises(InvalidInput, match="Choose a conference"):
        service.get(True)   # type: ignore[arg-type]


def test_the_directory_lists_who_can_sign_in_as_the_orm_sees_them(ctx) -> None:
    directory, auth = StaffDirectory(ctx), AuthService(ctx)
    assert directory.needs_first_admin() and directory.sign_in_names() == []
    factories.staff(ctx.db, "Nobody Yet")                  # no PIN or password: cannot sign in
    assert directory.sign_in_names() == [] and directory.needs_first_admin()
    admin = auth.create_first_admin("Ada", "correct horse")
    with acting_as(admin.actor()):
        lead = auth.add_staff("linus", Role.LEAD, "lead-pass-123")
        auth.add_staff("Bea", Role.VOLUNTEER, "432100")
        auth.deactivate(lead.id)
    assert not directory.needs_first_admin()
    with ctx.db.read() as session:
        orm_names = list(session.scalars(select(Staff.name).where(
            Staff.is_active.is_(True), Staff.secret_hash != "").order_by(Staff.name)))
    assert directory.sign_in_names() == orm_names == ["Ada", "Bea"]
