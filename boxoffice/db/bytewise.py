"""``bytewise(expr)``: text compared by code point, whatever the database's collation.

A prefix search is the range ``prefix <= value < next(prefix)``, which holds only in code-point
order. SQLite compares text that way (BINARY) unless told otherwise; PostgreSQL uses the database's
collation, and a linguistic one (ICU ``en-US``, glibc ``en_US.UTF-8``) ignores spaces and
punctuation at first and sorts them before letters, so ``'lizzy' < 'li{'`` is false there and the
range misses "Lizzy". On PostgreSQL the expression is written ``(expr) COLLATE "C"``; the search
indexes are built on the same expressions (migration 0006), so the planner still uses them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import String


class bytewise(FunctionElement[str]):
    """The text expression itself, in code-point ("C") order on PostgreSQL."""

    name = "bytewise"
    inherit_cache = True
    type = String()


@compiles(bytewise)
def _compile_plain(element: bytewise, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(next(iter(element.clauses)), **kw))


@compiles(bytewise, "postgresql")
def _compile_postgresql(element: bytewise, compiler: Any, **kw: Any) -> str:
    return f'({compiler.process(next(iter(element.clauses)), **kw)}) COLLATE "C"'
