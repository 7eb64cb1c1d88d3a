"""Audit-chain test helpers: write a few audit rows, verify the chain as it is stored."""

from __future__ import annotations

from boxoffice.db.engine import Database
from boxoffice.services.context import ServiceContext
from boxoffice.services.staff import audit


def write_rows(ctx: ServiceContext, count: int) -> None:
    """``count`` settings-change rows, each in its own write transaction."""
    for n in range(count):
        with ctx.db.write() as session:
            audit.record(session, ctx, audit.SETTINGS_CHANGE, target_type="setting", target_label=f"s{n}",
                         detail={"n": n})


def verify(db: Database) -> audit.ChainReport:
    with db.read() as session:
        return audit.verify_chain(session)
