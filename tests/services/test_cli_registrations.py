"""``boxoffice import-registrations`` and ``export-registrations``: an admin named with --operator, audited."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from boxoffice.db.engine import Database, sqlite_url
from boxoffice.services.context import ServiceContext
from boxoffice.services.staff.access import SYSTEM, acting_as
from boxoffice.services.staff.auth import AuthService
from tests.services.test_cli import ADMIN, AS_OPERATOR, EXAMPLE, boxoffice, first_admin

SAMPLE = Path("/work/shared/seeds/django-program/sample.sqlite3")
SLUG = "python-2077"

pytestmark = pytest.mark.skipif(not SAMPLE.exists(), reason="the django-program sample is not on this machine")


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def dbfile(tmp_path: Path, home: Path) -> Path:
    """A desk with its first admin, the example conference and a volunteer, Vic (PIN 2468)."""
    path = tmp_path / "desk.sqlite3"
    first_admin(path, home)
    done = boxoffice("import-conference", str(EXAMPLE), "--database", str(path), *ADMIN, home=home, env=AS_OPERATOR)
    assert done.returncode == 0, done.stderr
    db = Database(sqlite_url(path))
    try:
        with acting_as(SYSTEM):
            AuthService(ServiceContext(db=db)).add_staff("Vic", "volunteer", "246813")
    finally:
        db.dispose()
    return path


def _count(dbfile: Path, sql: str) -> int:
    with sqlite3.connect(dbfile) as conn:
        return int(conn.execute(sql).fetchone()[0])


def test_import_and_export_run_as_the_named_admin_and_are_audited_under_their_name(
        home: Path, dbfile: Path, tmp_path: Path) -> None:
    done = boxoffice("import-registrations", f"sqlite:///{SAMPLE}", "--conference", SLUG, "--database", str(dbfile),
                     *ADMIN, home=home, env=AS_OPERATOR)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1])["new"] == 50
    with sqlite3.connect(dbfile) as conn:
        actors = conn.execute("SELECT actor_name FROM audit_log WHERE action = 'registrations_import'").fetchall()
    assert actors == [("Ada Admin",)]
    out = tmp_path / "attendees.csv"
    exported = boxoffice("export-registrations", "--conference", SLUG, str(out), "--database", str(dbfile), *ADMIN,
                         home=home, env=AS_OPERATOR)
    assert exported.returncode == 0, exported.stderr
    assert "row(s) written" in exported.stdout and out.read_text().startswith("order_reference,")


@pytest.mark.parametrize(("operator", "env", "expected"), [
    ((), AS_OPERATOR, "--operator NAME"),
    (ADMIN, {"BOXOFFICE_OPERATOR_SECRET": "not the password"}, ""),
    (("--operator", "Vic"), {"BOXOFFICE_OPERATOR_SECRET": "246813"}, "admin"),
])
def test_without_a_signed_in_admin_nothing_is_imported_or_exported(
        home: Path, dbfile: Path, tmp_path: Path, operator: tuple[str, ...], env: dict[str, str],
        expected: str) -> None:
    done = boxoffice("import-registrations", f"sqlite:///{SAMPLE}", "--conference", SLUG, "--database", str(dbfile),
                     *operator, home=home, env=env)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert expected.lower() in done.stderr.lower()
    assert _count(dbfile, 'SELECT COUNT(*) FROM "order"') == 0
    assert _count(dbfile, "SELECT COUNT(*) FROM audit_log WHERE action = 'registrations_import'") == 0
    out = tmp_path / "attendees.csv"
    exported = boxoffice("export-registrations", "--conference", SLUG, str(out), "--database", str(dbfile),
                         *operator, home=home, env=env)
    assert exported.returncode == 1 and not out.exists()
