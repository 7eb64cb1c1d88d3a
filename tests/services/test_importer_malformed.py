"""Malformed conference files: a message naming the line or key, and nothing written (one transaction)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from boxoffice.db.engine import Database
from boxoffice.domain.models import AddOn, Conference, TicketType
from boxoffice.errors import ImportError_
from boxoffice.services.admin.conference_import import import_conference
from boxoffice.services.context import ServiceContext

EXAMPLE = Path(__file__).resolve().parent.parent / "data" / "conference.example.toml"


def _variant(tmp_path: Path, old: str, new: str, count: int = 1) -> Path:
    text = EXAMPLE.read_text()
    assert old in text, f"fixture text {old!r} not in the example file"
    path = tmp_path / "conference.toml"
    path.write_text(text.replace(old, new, count))
    return path


def _nothing_written(db: Database) -> None:
    with db.read() as session:
        for model in (Conference, TicketType, AddOn):
            assert session.scalar(select(func.count(model.id))) == 0


def _student_block(extra: str = "") -> tuple[str, str]:
    old = 'name = "Student"\nprice = 25.00\n'
    return old, f'name = "Student"\n{extra}'


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        # third ticket (index 2) lost its price
        (*_student_block(), "conference.tickets[2].price (the 3rd ticket, 'Student'): this key is missing"),
        ('name = "Student"\nprice = 25.00', 'name = "Student"\nprice = 25.005',
         "conference.tickets[2].price (the 3rd ticket, 'Student'): 25.005 has more than two decimals"),
        ('name = "Student"\nprice = 25.00', 'name = "Student"\nprice = -5.00',
         "conference.tickets[2].price (the 3rd ticket, 'Student'): must be an amount of 0 or more"),
        ('name = "Student"\nprice = 25.00', 'name = "Student"\nprice = "cheap"',
         "conference.tickets[2].price (the 3rd ticket, 'Student'): expected an amount"),
        ("quantity = 1000", "quantity = -1", "conference.tickets[1].quantity"),
        ("per_user = 1\nvoucher_required = true\navailable = { opens = 2025-01-15",
         "per_user = true\nvoucher_required = true\navailable = { opens = 2025-01-15",
         "conference.tickets[2].per_user (the 3rd ticket, 'Student'): expected a whole number, found true/false"),
        ('requires = ["individual", "corporate", "student", "speaker"]',
         'requires = ["individual", "vip"]',
         "conference.addons[0].requires[1]: unknown ticket slug 'vip'"),
        ('timezone = "America/New_York"', 'timezone = "Mars/Olympus"', "conference.timezone: Unknown time zone"),
        ('name = "Python 2077"\n', "", "conference.name: this key is missing"),
        ('name = "Corporate"', 'name = "Individual"', "conference.tickets[1].slug: ticket slug 'individual'"),
        ("available = { opens = 2025-01-15, closes = 2027-05-13 }",
         "available = { opens = 2027-05-15, closes = 2027-05-13 }",
         "conference.tickets[0].available (the 1st ticket, 'Individual'): closes is before opens"),
        ("per_user = 1\n", "per_user = 1\nprize = 3\n", "conference.tickets[0].prize"),
    ],
)
def test_bad_or_missing_key_is_named_and_nothing_is_written(
    ctx: ServiceContext, db: Database, tmp_path: Path, old: str, new: str, expected: str
) -> None:
    path = _variant(tmp_path, old, new)
    with pytest.raises(ImportError_) as caught:
        import_conference(ctx, path)
    assert expected in str(caught.value)
    assert "Nothing was imported" in str(caught.value)
    _nothing_written(db)


def test_toml_syntax_error_names_the_line(ctx: ServiceContext, db: Database, tmp_path: Path) -> None:
    path = _variant(tmp_path, "[[conference.addons]]\nname = \"PyCon T-Shirt\"",
                    "[[conference.addons]\nname = \"PyCon T-Shirt\"")
    line = path.read_text().splitlines().index("[[conference.addons]") + 1
    with pytest.raises(ImportError_) as caught:
        import_conference(ctx, path)
    assert f"line {line}" in str(caught.value)
    assert "not valid TOML" in str(caught.value)
    _nothing_written(db)


def test_failed_reimport_leaves_the_earlier_import_untouched(ctx: ServiceContext, db: Database, tmp_path: Path) -> None:
    import_conference(ctx, EXAMPLE)
    path = _variant(tmp_path, "price = 350.00", "price = 360.00")
    path.write_text(path.read_text().replace('requires = ["individual", "corporate", "student", "speaker"]',
                                             'requires = ["nobody"]', 1))
    with pytest.raises(ImportError_):
        import_conference(ctx, path)
    with db.read() as session:
        corporate = session.scalars(select(TicketType).where(TicketType.slug == "corporate")).one()
        assert str(corporate.price) == "350.00"


def test_missing_file_is_a_user_error(ctx: ServiceContext, tmp_path: Path) -> None:
    with pytest.raises(ImportError_, match="does not exist"):
        import_conference(ctx, tmp_path / "nope.toml")
