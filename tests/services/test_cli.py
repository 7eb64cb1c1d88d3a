"""The ``boxoffice`` command line, run as real subprocesses against a temporary SQLite file."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from boxoffice.db.migrate import packaged_head

EXAMPLE = Path(__file__).resolve().parent.parent / "data" / "conference.example.toml"


def boxoffice(*args: str, home: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "BOXOFFICE_DATABASE_URL"}
    environment["BOXOFFICE_HOME"] = str(home)
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "boxoffice", *args],
        capture_output=True, text=True, env=environment, timeout=120, check=False,
    )


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def dbfile(tmp_path: Path) -> Path:
    return tmp_path / "desk.sqlite3"


SECRET = "correct horse battery staple"
AS_OPERATOR = {"BOXOFFICE_OPERATOR_SECRET": SECRET}
ADMIN = ("--operator", "Ada Admin")


def first_admin(dbfile: Path, home: Path) -> None:
    """``boxoffice staff create-admin``: the admin the data-changing commands act as."""
    done = boxoffice("staff", "create-admin", "Ada Admin", "--database", str(dbfile), home=home, env=AS_OPERATOR)
    assert done.returncode == 0, done.stderr
    assert "Created admin Ada Admin" in done.stdout


def _count(dbfile: Path, table: str) -> int:
    with sqlite3.connect(dbfile) as conn:
        return int(conn.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0])


def test_db_upgrade_creates_the_schema_and_current_reports_it(home: Path, dbfile: Path) -> None:
    done = boxoffice("db", "upgrade", "--database", str(dbfile), home=home)
    assert done.returncode == 0, done.stderr
    head = packaged_head()
    assert int(head) >= 3
    assert f"schema at revision {head} (head {head})" in done.stdout
    current = boxoffice("--database", str(dbfile), "db", "current", home=home)
    assert current.returncode == 0, current.stderr
    assert f"revision {head} (up to date)" in current.stdout
    assert _count(dbfile, "conference") == 0


def test_import_conference_twice_then_nothing_changes(home: Path, dbfile: Path) -> None:
    first_admin(dbfile, home)
    first = boxoffice("import-conference", str(EXAMPLE), "--database", str(dbfile), *ADMIN, home=home,
                      env=AS_OPERATOR)
    assert first.returncode == 0, first.stderr
    assert "7 created, 0 updated, 0 unchanged" in first.stdout
    assert "conference.sponsor_levels (5 entries)" in first.stdout
    second = boxoffice("import-conference", str(EXAMPLE), "--database", str(dbfile), *ADMIN, home=home,
                       env=AS_OPERATOR)
    assert second.returncode == 0, second.stderr
    assert "0 created, 0 updated, 7 unchanged" in second.stdout
    assert (_count(dbfile, "ticket_type"), _count(dbfile, "addon")) == (4, 2)
    with sqlite3.connect(dbfile) as conn:   # the catalog screen's audit rows, under the operator's name
        rows = conn.execute("SELECT action, actor_name, target_type FROM audit_log "
                            "WHERE action IN ('catalog_change', 'conference_import')").fetchall()
    assert {r[1] for r in rows} == {"Ada Admin"}
    assert sum(r[0] == "catalog_change" for r in rows) == 7      # one per created item
    assert sum(r[0] == "conference_import" for r in rows) == 2


def test_data_changing_commands_refuse_without_a_valid_operator_and_write_nothing(home: Path, dbfile: Path,
                                                                                  ) -> None:
    first_admin(dbfile, home)
    before = _count(dbfile, "audit_log")
    missing = boxoffice("import-conference", str(EXAMPLE), "--database", str(dbfile), home=home, env=AS_OPERATOR)
    assert missing.returncode == 1 and "--operator NAME" in missing.stderr
    wrong = boxoffice("seed-demo", "--database", str(dbfile), *ADMIN, home=home,
                      env={"BOXOFFICE_OPERATOR_SECRET": "not the password"})
    assert wrong.returncode == 1 and "Traceback" not in wrong.stderr
    no_secret = boxoffice("db", "check", "--repair", "--database", str(dbfile), *ADMIN, home=home)
    assert no_secret.returncode == 1 and "BOXOFFICE_OPERATOR_SECRET" in no_secret.stderr
    assert _count(dbfile, "conference") == 0
    # only the failed sign-in is recorded (it counts towards the account's lockout)
    with sqlite3.connect(dbfile) as conn:
        actions = [r[0] for r in conn.execute("SELECT action FROM audit_log ORDER BY id").fetchall()[before:]]
    assert actions == ["sign_in_failed"]


def test_create_admin_only_for_a_database_without_one(home: Path, dbfile: Path) -> None:
    first_admin(dbfile, home)
    again = boxoffice("staff", "create-admin", "Mallory", "--database", str(dbfile), home=home, env=AS_OPERATOR)
    assert again.returncode == 1 and "already has an admin" in again.stderr
    assert _count(dbfile, "staff") == 1


def test_malformed_file_exits_1_naming_the_key_and_writes_nothing(home: Path, dbfile: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(EXAMPLE.read_text().replace('name = "Student"\nprice = 25.00', 'name = "Student"\nprice = 25.001'))
    first_admin(dbfile, home)
    done = boxoffice("import-conference", str(bad), "--database", str(dbfile), *ADMIN, home=home, env=AS_OPERATOR)
    assert done.returncode == 1
    assert "conference.tickets[2].price" in done.stderr
    assert "Traceback" not in done.stderr
    assert _count(dbfile, "conference") == 0


def test_database_url_comes_from_the_environment(home: Path, dbfile: Path) -> None:
    first_admin(dbfile, home)
    done = boxoffice("seed-demo", *ADMIN, home=home, env={"BOXOFFICE_DATABASE_URL": str(dbfile), **AS_OPERATOR})
    assert done.returncode == 0, done.stderr
    assert "Demo vouchers created: SPRING25, STUDENT, SPEAKER, FRIEND10" in done.stdout
    assert _count(dbfile, "voucher") == 4
    assert not (home / "data" / "boxoffice.sqlite3").exists()


def test_run_seeds_the_demo_only_into_an_empty_database(home: Path, dbfile: Path) -> None:
    first = boxoffice("run", "--no-gui", "--database", str(dbfile), home=home)
    assert first.returncode == 0, first.stderr
    assert "demo conference seeded" in first.stdout
    second = boxoffice("run", "--no-gui", "--database", str(dbfile), home=home)
    assert second.returncode == 0, second.stderr
    assert "seeded" not in second.stdout
    assert _count(dbfile, "conference") == 1 and _count(dbfile, "ticket_type") == 5


def test_default_database_is_the_embedded_file_in_the_user_data_dir(home: Path) -> None:
    done = boxoffice("db", "upgrade", home=home)
    assert done.returncode == 0, done.stderr
    assert (home / "data" / "boxoffice.sqlite3").exists()
    assert (home / "logs" / "boxoffice.log").exists()


def _paid_order_without_counters(dbfile: Path) -> None:
    """A paid order written behind the services' back: the counters do not know it."""
    now = "2027-05-01 12:00:00.000000"
    with sqlite3.connect(dbfile) as conn:
        conn.execute("INSERT INTO customer (name, email, company, is_anonymous, created_at, updated_at) "
                     "VALUES ('Ada', 'ada@example.org', '', 0, ?, ?)", (now, now))
        ticket_id, conf_id = conn.execute("SELECT id, conference_id FROM ticket_type WHERE slug='individual'").fetchone()
        conn.execute(
            'INSERT INTO "order" (conference_id, customer_id, status, subtotal, discount_amount, total, '
            "voucher_code, voucher_details, billing_name, billing_email, billing_company, reference, "
            "needs_attention, disputed, created_at, updated_at) VALUES (?, 1, 'paid', 200, 0, 200, "
            "'SPRING25', '', 'Ada', '', '', 'PD27-AAAA', '', 0, ?, ?)", (conf_id, now, now))
        conn.execute(
            "INSERT INTO order_line_item (order_id, description, quantity, unit_price, discount_amount, "
            "line_total, ticket_type_id, created_at) VALUES (1, 'Individual', 2, 100, 0, 200, ?, ?)",
            (ticket_id, now))


def test_db_check_finds_counter_and_voucher_mismatches_and_repairs_counters(home: Path, dbfile: Path) -> None:
    first_admin(dbfile, home)
    assert boxoffice("seed-demo", "--database", str(dbfile), *ADMIN, home=home, env=AS_OPERATOR).returncode == 0
    clean = boxoffice("db", "check", "--database", str(dbfile), home=home)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert clean.stdout.startswith("OK")

    _paid_order_without_counters(dbfile)
    found = boxoffice("db", "check", "--database", str(dbfile), home=home)
    assert found.returncode == 1
    assert "MISMATCH counter: ticket type" in found.stdout and "recounted (2, 0)" in found.stdout
    assert "MISMATCH voucher" in found.stdout and "SPRING25" in found.stdout

    refused = boxoffice("db", "check", "--repair", "--database", str(dbfile), home=home)
    assert refused.returncode == 1 and "--operator" in refused.stderr
    with sqlite3.connect(dbfile) as conn:
        assert conn.execute("SELECT sold_quantity FROM ticket_type WHERE slug='individual'").fetchone() == (0,)
    repaired = boxoffice("db", "check", "--repair", "--database", str(dbfile), *ADMIN, home=home, env=AS_OPERATOR)
    with sqlite3.connect(dbfile) as conn:
        assert conn.execute("SELECT sold_quantity FROM ticket_type WHERE slug='individual'").fetchone() == (2,)
        assert conn.execute("SELECT tickets_sold FROM conference").fetchone() == (2,)
        # The voucher mismatch needs a person: it is reported, not rewritten.
        conn.execute("UPDATE voucher SET times_used = 1 WHERE code = 'SPRING25'")
    assert repaired.returncode == 1 and "Repaired 2 counter(s)" in repaired.stdout
    assert "STILL WRONG voucher" in repaired.stdout
    final = boxoffice("db", "check", "--database", str(dbfile), home=home)
    assert final.returncode == 0, final.stdout


@pytest.mark.parametrize("url", [
    "postgresql://nobody@127.0.0.1:1/none",
    "postgresql+psycopg://nobody@127.0.0.1:1/none",  # as saved by versions that shipped psycopg
])
def test_unreachable_postgresql_gives_a_clear_message(home: Path, url: str) -> None:
    done = boxoffice("db", "upgrade", "--database", url, home=home)
    assert done.returncode == 1
    assert "cannot be reached" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def test_unknown_command_is_a_usage_error(home: Path) -> None:
    done = boxoffice("sell-everything", home=home)
    assert done.returncode == 2
    assert "invalid choice" in done.stderr
