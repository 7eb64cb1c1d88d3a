"""Bulk INSERTs (and one column's UPDATE) for the registrations import: thousands of rows in one statement.

On PostgreSQL each column travels as one array literal and ``unnest`` turns the arrays back into
rows, so a batch is one short statement whatever its size (the driver rewrites every statement's
text in Python, and a multi-row VALUES list of 10,000 rows costs seconds in that alone). New ids
are drawn from the table's sequence first, so the caller knows which row got which id. SQLite
takes the driver's own executemany, and ids come back through RETURNING in the order of the rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, bindparam, insert, text, update
from sqlalchemy.orm import Session

from boxoffice.db.base import Base


def _table(model: type[Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


def _element(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    body = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{body}"'


def _array(values: Sequence[Any]) -> str:
    return "{" + ",".join(_element(v) for v in values) + "}"


def _defaults(table: Table, given: list[str]) -> dict[str, Any]:
    """The Python-side defaults of the columns ``given`` leaves out (a text statement does not apply them)."""
    values: dict[str, Any] = {}
    for column in table.columns:
        default = column.default
        if column.name in given or default is None or not hasattr(default, "arg"):
            continue
        values[column.name] = default.arg(None) if callable(default.arg) else default.arg
    return values


def _pg_insert(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    dialect = session.get_bind().dialect
    extra = _defaults(table, list(rows[0]))
    if extra:
        rows = [{**extra, **row} for row in rows]
    columns = list(rows[0])
    params: dict[str, str] = {}
    selects: list[str] = []
    for number, name in enumerate(columns):
        column = table.c[name]
        process = column.type.dialect_impl(dialect).bind_processor(dialect)
        values = [row[name] for row in rows]
        if process is not None:
            values = [process(v) for v in values]
        params[f"p{number}"] = _array(values)
        selects.append(f"CAST(CAST(:p{number} AS TEXT[]) AS {column.type.compile(dialect)}[])")
    quoted = dialect.identifier_preparer
    names = ", ".join(quoted.quote(c) for c in columns)
    session.execute(text(f"INSERT INTO {quoted.format_table(table)} ({names}) "
                         f"SELECT * FROM unnest({', '.join(selects)})"), params)


def insert_rows(session: Session, model: type[Base], rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys) into ``model``'s table."""
    if not rows:
        return
    table = _table(model)
    if session.get_bind().dialect.name == "postgresql":
        _pg_insert(session, table, rows)
    else:
        session.execute(insert(table), rows)


def insert_with_ids(session: Session, model: type[Base], rows: list[dict[str, Any]]) -> list[int]:
    """Insert ``rows`` into ``model``'s table; the new ids, in the order of ``rows``."""
    if not rows:
        return []
    table = _table(model)
    if session.get_bind().dialect.name != "postgresql":
        result = session.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows)
        return [int(row[0]) for row in result]
    name = session.get_bind().dialect.identifier_preparer.format_table(table)
    ids = [int(i) for i in session.scalars(text(
        "SELECT nextval(pg_get_serial_sequence(:t, 'id')) FROM generate_series(1, :n)"), {"t": name, "n": len(rows)})]
    _pg_insert(session, table, [{"id": i, **row} for i, row in zip(ids, rows, strict=True)])
    return ids


def update_column(session: Session, model: type[Base], column: str, values: dict[int, Any]) -> None:
    """Set ``column`` of the rows of ``model`` by id: id -> value. Bookkeeping: columns with an update
    default (``updated_at``) keep their value."""
    if not values:
        return
    table = _table(model)
    if session.get_bind().dialect.name == "postgresql":
        dialect = session.get_bind().dialect
        quoted = dialect.identifier_preparer
        kind = table.c[column].type.compile(dialect)
        session.execute(text(
            f"UPDATE {quoted.format_table(table)} SET {quoted.quote(column)} = v.value "
            f"FROM unnest(CAST(CAST(:ids AS TEXT[]) AS INTEGER[]), CAST(CAST(:values AS TEXT[]) AS {kind}[])) "
            f"AS v(id, value) WHERE {quoted.format_table(table)}.id = v.id"),
            {"ids": _array(list(values)), "values": _array(list(values.values()))})
    else:
        kept = {c.name: c for c in table.columns if c.onupdate is not None}
        session.execute(update(table).where(table.c.id == bindparam("row_id"))
                        .values({**kept, column: bindparam("value")}),
                        [{"row_id": i, "value": v} for i, v in values.items()])
