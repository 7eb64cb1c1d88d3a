"""audit log hash chain, TRUNCATE refused on PostgreSQL, order search in code-point order

Each audit row gets ``prev_hash`` and ``chain_hash`` (``domain/audit_chain.py``); the rows already
there are chained in id order, so ``boxoffice audit verify`` covers the whole log. On PostgreSQL a
statement trigger also refuses TRUNCATE of the log.

On PostgreSQL the order search indexes of 0004 are rebuilt on ``(expr) COLLATE "C"``: a prefix
search is a range in code-point order, which a linguistic database collation (ICU en-US) does not
keep, and the search compares in "C" order (``db/bytewise.py``). SQLite compares text in code-point
order already.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from boxoffice.db.types import Money, UTCDateTime
from boxoffice.domain.audit_chain import FIELDS, GENESIS, row_hash

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_audit = sa.table(
    "audit_log",
    sa.column("id", sa.Integer()), sa.column("at", UTCDateTime()), sa.column("desk", sa.String()),
    sa.column("actor_id", sa.Integer()), sa.column("actor_name", sa.String()),
    sa.column("actor_role", sa.String()), sa.column("approver_id", sa.Integer()),
    sa.column("approver_name", sa.String()), sa.column("action", sa.String()),
    sa.column("target_type", sa.String()), sa.column("target_id", sa.Integer()),
    sa.column("target_label", sa.String()), sa.column("amount_before", Money()),
    sa.column("amount_after", Money()), sa.column("detail", sa.Text()),
    sa.column("prev_hash", sa.String()), sa.column("chain_hash", sa.String()),
)


# Each search index of 0004 (name, prefix expression) and the columns that follow the prefix.
_SEARCH = (
    ("ix_order_reference_search", "reference"),
    ("ix_order_name_search", "lower(billing_name)"),
    ("ix_order_email_search", "lower(billing_email)"),
    ("ix_order_company_search", "lower(billing_company)"),
)
_TAIL = ("conference_id", "created_at", "status")


def _search_indexes(collate: bool) -> None:
    for name, expression in _SEARCH:
        op.drop_index(name, table_name="order")
        element = f'({expression}) COLLATE "C"' if collate else expression
        op.create_index(name, "order", [sa.text(element), *_TAIL])


def upgrade() -> None:
    op.add_column("audit_log", sa.Column("prev_hash", sa.String(64), nullable=False, server_default=""))
    op.add_column("audit_log", sa.Column("chain_hash", sa.String(64), nullable=False, server_default=""))
    _chain_existing_rows()
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """CREATE FUNCTION audit_log_no_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$"""
        )
        op.execute("CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
                   "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_no_truncate()")
        _search_indexes(collate=True)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _search_indexes(collate=False)
        op.execute("DROP TRIGGER audit_log_no_truncate ON audit_log")
        op.execute("DROP FUNCTION audit_log_no_truncate()")
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("chain_hash")
        batch.drop_column("prev_hash")


def _chain_existing_rows() -> None:
    """Hash the rows already in the log, oldest id first (the append-only triggers step aside)."""
    bind = op.get_bind()
    rows = list(bind.execute(sa.select(_audit).order_by(_audit.c.id)).mappings())
    if not rows:
        return
    sqlite = bind.dialect.name == "sqlite"
    if sqlite:
        op.execute("DROP TRIGGER audit_log_no_update")
    else:
        op.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
    prev = GENESIS
    for row in rows:
        fields = {name: row[name] for name in FIELDS}
        digest = row_hash(prev, fields)
        bind.execute(sa.update(_audit).where(_audit.c.id == row["id"]).values(prev_hash=prev, chain_hash=digest))
        prev = digest
    if sqlite:
        op.execute("CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
                   "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END")
    else:
        op.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")
