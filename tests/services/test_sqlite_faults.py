"""SQLite faults read as plain messages: empty, read-only and damaged files, a full disk, another program's lock."""

from __future__ import annotations

import contextvars
import os
import shutil
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from boxoffice import paths
from boxoffice.app import open_database
from boxoffice.db.backup import backup_sqlite
from boxoffice.db.engine import Database, sqlite_url, translate_error
from boxoffice.db.migrate import stored_revision, upgrade
from boxoffice.db.sqlite_health import check_file, integrity_findings
from boxoffice.errors import DatabaseBusy, DatabaseDamaged, DatabaseReadOnly, DiskFull
from boxoffice.services.context import ServiceContext
from boxoffice.services.sales.cart import CartService
from boxoffice.services.sales.checkout import CheckoutService
from boxoffice.timeutil import FixedClock
from tests import factories as f
from tests.services.test_cli import boxoffice


def _sale_ready(db: Database) -> tuple[ServiceContext, CartService, int]:
    """A conference with a ticket and an open walk-up cart holding one ticket."""
    ctx = ServiceContext(db=db, clock=FixedClock())
    conf = f.conference(db)
    ticket = f.ticket_type(db, conf.id, price=Decimal("100.00"), total_quantity=100)
    carts = CartService(ctx)
    cart = carts.new_walkup_cart(conf.id)
    carts.add_ticket(cart.id, ticket.id)
    return ctx, carts, cart.id


# --------------------------------------------------------------------------- a small filesystem

@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 4 MiB filesystem (tmpfs) of its own; skipped where this account may not mount one."""
    mountpoint = tmp_path / "small-disk"
    mountpoint.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m,mode=0700", "tmpfs", str(mountpoint)],
                          capture_output=True, check=False)
    if done.returncode != 0:
        pytest.skip("mounting a small filesystem needs root")
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], check=False)


def _fill(directory: Path) -> Path:
    """Write a file until the filesystem holding ``directory`` has no space left."""
    filler = directory / "filler.bin"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (65536, 4096, 1):
            try:
                while os.write(fd, b"\0" * size):
                    pass
            except OSError:
                continue
    finally:
        os.close(fd)
    return filler


def test_a_full_disk_says_the_sale_was_not_saved_and_keeps_the_cart(
        small_disk: Path, template_db_path: Path) -> None:
    path = small_disk / "desk.sqlite3"
    shutil.copyfile(template_db_path, path)
    db = Database(sqlite_url(path))
    try:
        ctx, carts, cart_id = _sale_ready(db)
        with db.engine.connect() as conn:   # the journal starts empty: the next commit must grow it
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        filler = _fill(small_disk)

        with pytest.raises(DiskFull, match="The disk is full: this sale was not saved"):
            CheckoutService(ctx).checkout(cart_id)
        cart = carts.get(cart_id)
        assert cart.status == "open" and [line.quantity for line in cart.lines] == [1]

        filler.unlink()   # space freed: the same cart checks out
        order = CheckoutService(ctx).checkout(cart_id)
        assert order.total == Decimal("100.00")
    finally:
        db.dispose()


def test_disk_full_from_either_database_is_the_same_plain_error() -> None:
    class _Full(Exception):
        sqlstate = None

        def __str__(self) -> str:
            return "database or disk is full"

    class _PgFull(Exception):
        sqlstate = "53100"

    assert isinstance(translate_error(OperationalError("INSERT", {}, _Full())), DiskFull)
    assert isinstance(translate_error(OperationalError("INSERT", {}, _PgFull())), DiskFull)


def test_a_read_only_file_is_refused_at_start(small_disk: Path, template_db_path: Path, tmp_path: Path) -> None:
    path = small_disk / "desk.sqlite3"
    shutil.copyfile(template_db_path, path)
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)

    with pytest.raises(DatabaseReadOnly, match="read-only .* does not start"):
        open_database(sqlite_url(path))
    run = boxoffice("run", "--no-gui", "--database", str(path), home=tmp_path / "home")
    assert run.returncode == 1
    assert "read-only" in run.stderr and "ready" not in run.stdout


# --------------------------------------------------------------------------- empty and damaged files

def test_a_zero_byte_file_is_an_error_not_a_new_demo_database(tmp_path: Path) -> None:
    path = tmp_path / "desk.sqlite3"
    path.touch()
    with pytest.raises(DatabaseDamaged, match=r"empty \(0 bytes\)"):
        open_database(sqlite_url(path))
    run = boxoffice("run", "--no-gui", "--database", str(path), home=tmp_path / "home")
    assert run.returncode == 1, run.stdout
    assert "empty (0 bytes)" in run.stderr and "seeded" not in run.stdout
    assert path.stat().st_size == 0


def _with_rows(db_path: Path) -> None:
    """Enough rows that the customer table spans many pages."""
    with sqlite3.connect(db_path, isolation_level=None) as conn:
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO customer (name, email, company, is_anonymous, created_at, updated_at) "
            "VALUES (?, ?, '', 0, '2027-01-01 00:00:00', '2027-01-01 00:00:00')",
            [(f"Person {i} " + "x" * 80, f"p{i}@example.org") for i in range(3000)])
        conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _overwrite_pages(db_path: Path, count: int = 4) -> None:
    with sqlite3.connect(db_path) as conn:
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
    with db_path.open("r+b") as raw:
        for page in range(pages // 2, pages // 2 + count):
            raw.seek(page * page_size)
            raw.write(os.urandom(page_size))


def test_a_damaged_file_is_refused_naming_the_newest_backup(db_path: Path, tmp_path: Path) -> None:
    _with_rows(db_path)
    older = backup_sqlite(db_path, label="0005-to-0006")
    newest = backup_sqlite(db_path, label="0006-to-0007")
    assert older.name < newest.name and newest.parent == paths.backup_dir()
    _overwrite_pages(db_path)

    with pytest.raises(DatabaseDamaged, match="damaged") as refused:
        open_database(sqlite_url(db_path))
    assert str(newest) in str(refused.value)

    check = boxoffice("db", "check", "--database", str(db_path), home=tmp_path / "home")
    assert check.returncode == 1 and "damaged" in check.stderr
    run = boxoffice("run", "--no-gui", "--database", str(db_path), home=tmp_path / "home")
    assert run.returncode == 1 and "damaged" in run.stderr and "ready" not in run.stdout


def test_a_deferred_quick_check_lets_the_desk_open_but_refuses_every_write_to_a_damaged_file(
        db_path: Path) -> None:
    """The desk's window does not wait for the quick check; the first write does, and is refused."""
    before = Database(sqlite_url(db_path))
    _ctx, _carts, cart_id = _sale_ready(before)   # a sale about to be taken
    before.dispose()
    _with_rows(db_path)
    newest = backup_sqlite(db_path, label="0007-to-0008")
    _overwrite_pages(db_path)
    damaged = db_path.read_bytes()
    db, _revision = open_database(sqlite_url(db_path), defer_quick_check=True)
    try:
        assert db.file_check is not None
        checkout = CheckoutService(ServiceContext(db=db, clock=FixedClock()))
        for _attempt in range(2):   # refused every time, with the way back named
            with pytest.raises(DatabaseDamaged, match="damaged") as refused:
                checkout.checkout(cart_id)
            assert str(newest) in str(refused.value)
        with pytest.raises(DatabaseDamaged, match="damaged"):
            db.run_write(lambda session: session.execute(text("DELETE FROM customer")))
        with pytest.raises(DatabaseDamaged, match="damaged"):   # the check-in scan's Core writes too
            db.run_core_write(lambda conn: conn.execute(text("DELETE FROM customer")))
    finally:
        db.dispose()
    assert db_path.read_bytes() == damaged


def test_a_deferred_quick_check_still_runs_before_a_migration_and_passes_a_healthy_file(
        db_path: Path, tmp_path: Path) -> None:
    old = tmp_path / "old.sqlite3"
    database = Database(sqlite_url(old))
    upgrade(database, "0008")
    database.dispose()
    _with_rows(old)
    _overwrite_pages(old)
    with pytest.raises(DatabaseDamaged, match="damaged"):   # a migration writes: checked at open
        open_database(sqlite_url(old), defer_quick_check=True)
    untouched = Database(sqlite_url(old))
    assert stored_revision(untouched) == "0008"
    untouched.dispose()
    db, _revision = open_database(sqlite_url(db_path), defer_quick_check=True)
    try:
        assert db.file_check is not None
        ctx, _carts, cart_id = _sale_ready(db)   # writes go through once the check passed
        assert CheckoutService(ctx).checkout(cart_id).id
    finally:
        db.dispose()


def test_db_check_runs_the_full_integrity_check(db_path: Path, tmp_path: Path) -> None:
    """An index that no longer matches its table passes the quick check at start but not ``db check``."""
    _with_rows(db_path)
    with sqlite3.connect(db_path) as conn:
        conn.execute("CREATE INDEX ix_probe ON customer (name)")
        conn.execute("PRAGMA writable_schema=ON")
        conn.execute("UPDATE sqlite_schema SET sql = 'CREATE INDEX ix_probe ON customer (email)' "
                     "WHERE name = 'ix_probe'")
    check_file(db_path)   # the quick check at start does not read index contents
    assert integrity_findings(db_path)

    check = boxoffice("db", "check", "--database", str(db_path), home=tmp_path / "home")
    assert check.returncode == 1, check.stdout
    assert "DAMAGED file" in check.stdout and "ix_probe" in check.stdout


def test_a_healthy_file_passes(db_path: Path) -> None:
    check_file(db_path)
    assert integrity_findings(db_path) == []


# --------------------------------------------------------------------------- another program's lock

def test_a_lock_held_by_another_program_is_reported_within_seconds_and_the_sale_waits_for_it(
        db: Database) -> None:
    ctx, carts, cart_id = _sale_ready(db)
    waiting, stopped = threading.Event(), threading.Event()
    db.write_wait.add(lambda now_waiting: (waiting if now_waiting else stopped).set())

    other = sqlite3.connect(db.engine.url.database, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")   # another program takes the write lock and keeps it
    outcome: dict[str, object] = {}

    def sale() -> None:
        try:
            outcome["order"] = CheckoutService(ctx).checkout(cart_id)
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            outcome["error"] = exc

    started = time.monotonic()
    worker = threading.Thread(target=contextvars.copy_context().run, args=(sale,))  # as the desk's worker
    worker.start()
    try:
        assert waiting.wait(5), f"nobody was told the database is in use: {outcome}"
        assert time.monotonic() - started < 5
        worker.join(1.5)
        assert worker.is_alive(), "the sale gave up instead of waiting for the lock"
    finally:
        other.execute("COMMIT")
        other.close()
    worker.join(10)
    assert not worker.is_alive()
    assert "error" not in outcome, outcome.get("error")
    assert stopped.is_set()
    assert carts.get(cart_id).status == "checked_out"


def test_a_lock_that_never_ends_gives_up_with_the_plain_message(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    from boxoffice.db import sqlite_health

    ctx, carts, cart_id = _sale_ready(db)
    monkeypatch.setattr(sqlite_health, "WAIT_LIMIT_S", 0.0)
    monkeypatch.setattr(sqlite_health, "TRY_MS", 50)
    other = sqlite3.connect(db.engine.url.database, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(DatabaseBusy, match="Another program is using the database"):
            CheckoutService(ctx).checkout(cart_id)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert carts.get(cart_id).status == "open"
