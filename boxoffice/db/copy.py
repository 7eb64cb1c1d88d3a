"""Move a desk's database to another server (`boxoffice db copy`) and prove both hold the same rows.

``copy_database`` migrates the target to the newest schema, refuses a target that already holds data,
then copies every table in foreign-key order inside one transaction (all or nothing) and, on
PostgreSQL, moves each id sequence past the copied ids. ``compare_databases`` checks row counts and
an order-independent checksum of each table's values as Box Office reads them (Decimal, aware UTC
time), so a SQLite file and a PostgreSQL copy of it compare equal.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, TextIO

from sqlalchemy import Connection, Integer, Table, func, select, text
from sqlalchemy.exc import DBAPIError

from boxoffice.config import normalise_database_url
from boxoffice.db.engine import Database, translate_error
from boxoffice.db.migrate import current_revision, head_revision, upgrade
from boxoffice.domain.models import Base
from boxoffice.errors import ConfigError, UserError
from boxoffice.timeutil import UTC

log = logging.getLogger(__name__)

BATCH_ROWS = 1000

Progress = Callable[[str, int], None]


def tables_in_fk_order() -> list[Table]:
    """Every application table, parents before children."""
    return list(Base.metadata.sorted_tables)


# --------------------------------------------------------------------------- copy


@dataclass(frozen=True)
class CopyReport:
    source: str
    target: str
    rows: dict[str, int]

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


def _open(url: str) -> Database:
    try:
        return Database(normalise_database_url(url))
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def _batches(conn: Connection, table: Table) -> Iterator[list[dict[str, Any]]]:
    order = list(table.primary_key.columns) or list(table.columns)
    result = conn.execute(select(table).order_by(*order)).mappings()
    while True:
        chunk = result.fetchmany(BATCH_ROWS)
        if not chunk:
            return
        yield [dict(row) for row in chunk]


def _nonempty_tables(conn: Connection) -> list[str]:
    busy = []
    for table in tables_in_fk_order():
        if conn.execute(select(func.count()).select_from(table)).scalar_one():
            busy.append(table.name)
    return busy


def _reset_sequences(conn: Connection) -> None:
    """PostgreSQL: the next id of each table follows the largest copied id."""
    for table in tables_in_fk_order():
        pk = list(table.primary_key.columns)
        if len(pk) != 1 or not isinstance(pk[0].type, Integer):
            continue
        seq: str | None = conn.execute(
            text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": f'"{table.name}"', "c": pk[0].name}
        ).scalar_one()
        if seq is None:
            continue
        conn.execute(
            text(
                f'SELECT setval(:seq, COALESCE((SELECT max("{pk[0].name}") FROM "{table.name}"), 0) + 1, false)'
            ),
            {"seq": seq},
        )


def copy_database(source_url: str, target_url: str, *, progress: Progress | None = None) -> CopyReport:
    """Copy every row from ``source_url`` into the empty database at ``target_url``."""
    source, target = _open(source_url), _open(target_url)
    try:
        if source.url == target.url:
            raise ConfigError("The source and the target are the same database. Choose another target.")
        head = head_revision(source)
        have = current_revision(source)
        if have != head:
            raise ConfigError(
                f"The source database {source.display_url} is at schema revision {have or 'none'}, not "
                f"{head}. Open it once with this version of Box Office (or run `boxoffice db upgrade`), "
                "then copy again."
            )
        upgrade(target)
        rows: dict[str, int] = {}
        with source.engine.connect() as src, target.engine.begin() as dst:
            busy = _nonempty_tables(dst)
            if busy:
                raise ConfigError(
                    f"The target database {target.display_url} already holds data (tables: "
                    f"{', '.join(busy)}). Copy into a new, empty database."
                )
            for table in tables_in_fk_order():
                count = 0
                for chunk in _batches(src, table):
                    try:
                        dst.execute(table.insert(), chunk)
                    except DBAPIError as exc:
                        detail = (str(exc.orig).strip().splitlines() or [type(exc.orig).__name__])[0]
                        raise ConfigError(
                            f"Rows of table {table.name} could not be written to {target.display_url} "
                            f"({detail}). Nothing was copied; correct the source row and copy again."
                        ) from exc
                    count += len(chunk)
                rows[table.name] = count
                if progress is not None:
                    progress(table.name, count)
            if target.is_postgresql:
                _reset_sequences(dst)
        log.info("copied %d rows from %s to %s", sum(rows.values()), source.display_url, target.display_url)
        return CopyReport(source.display_url, target.display_url, rows)
    finally:
        source.dispose()
        target.dispose()


# --------------------------------------------------------------------------- compare


def _normal(value: Any) -> Any:
    """One spelling per value whatever the database: aware UTC ISO times, 2-place Decimals, ..."""
    if isinstance(value, datetime):
        if value.tzinfo is None:  # a plain DateTime column read back from SQLite
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat()
    if isinstance(value, Decimal):
        return f"D{value:f}"
    if isinstance(value, bool):
        return value
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, default=str)
    return value


@dataclass(frozen=True)
class TableComparison:
    table: str
    rows_a: int
    rows_b: int
    checksum_a: str
    checksum_b: str

    @property
    def equal(self) -> bool:
        return self.rows_a == self.rows_b and self.checksum_a == self.checksum_b


@dataclass(frozen=True)
class CompareReport:
    a: str
    b: str
    tables: tuple[TableComparison, ...]

    @property
    def ok(self) -> bool:
        return all(t.equal for t in self.tables)

    def differences(self) -> list[TableComparison]:
        return [t for t in self.tables if not t.equal]


def table_checksum(conn: Connection, table: Table) -> tuple[int, str]:
    """(row count, sha256 of the sorted per-row digests): independent of physical row order."""
    names = sorted(c.name for c in table.columns)
    digests = []
    for chunk in _batches(conn, table):
        for row in chunk:
            payload = json.dumps([[n, _normal(row[n])] for n in names], default=str, sort_keys=False)
            digests.append(hashlib.sha256(payload.encode()).hexdigest())
    digests.sort()
    total = hashlib.sha256("\n".join(digests).encode()).hexdigest()
    return len(digests), total


def compare_databases(a_url: str, b_url: str) -> CompareReport:
    a, b = _open(a_url), _open(b_url)
    try:
        out = []
        with a.engine.connect() as ca, b.engine.connect() as cb:
            for table in tables_in_fk_order():
                rows_a, sum_a = table_checksum(ca, table)
                rows_b, sum_b = table_checksum(cb, table)
                out.append(TableComparison(table.name, rows_a, rows_b, sum_a, sum_b))
        return CompareReport(a.display_url, b.display_url, tuple(out))
    finally:
        a.dispose()
        b.dispose()


# --------------------------------------------------------------------------- command line


def configure_copy(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--from", dest="from_url", required=True, metavar="URL",
                        help="the database to copy (a SQLite file path or postgresql://user@host/dbname)")
    parser.add_argument("--to", dest="to_url", required=True, metavar="URL",
                        help="an empty database to copy into (its schema is created)")


def configure_compare(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--from", dest="from_url", required=True, metavar="URL", help="one database")
    parser.add_argument("--to", dest="to_url", required=True, metavar="URL", help="the other database")


def print_comparison(report: CompareReport, out: TextIO) -> None:
    for t in report.tables:
        mark = "ok  " if t.equal else "DIFF"
        detail = "" if t.equal else f"  (checksums {t.checksum_a[:12]} vs {t.checksum_b[:12]})"
        print(f"{mark} {t.table:<28} {t.rows_a:>8} {t.rows_b:>8}{detail}", file=out)
    if report.ok:
        print(f"The two databases hold the same rows ({sum(t.rows_a for t in report.tables)} rows).", file=out)
    else:
        names = ", ".join(t.table for t in report.differences())
        print(f"The databases differ in: {names}.", file=out)


def run_copy(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    """``boxoffice db copy --from URL --to URL``: copy, then compare; exit 0 only when identical."""
    try:
        report = copy_database(args.from_url, args.to_url,
                               progress=lambda name, n: print(f"copied {n:>8} rows of {name}", file=out))
        print(f"Copied {report.total_rows} rows from {report.source} to {report.target}.", file=out)
        comparison = compare_databases(args.from_url, args.to_url)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except DBAPIError as exc:
        print(f"error: {translate_error(exc)}", file=sys.stderr)
        return 1
    print_comparison(comparison, out)
    return 0 if comparison.ok else 2


def run_compare(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    """``boxoffice db compare --from URL --to URL``: exit 0 when both hold the same rows, 2 if not."""
    try:
        report = compare_databases(args.from_url, args.to_url)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except DBAPIError as exc:
        print(f"error: {translate_error(exc)}", file=sys.stderr)
        return 1
    print_comparison(report, out)
    return 0 if report.ok else 2
