"""audit log rows name the PIN key their chain hash is keyed with

Adds ``audit_log.chain_key_id``: the public id of the PIN key (``pepper_id``) whose derived key
made the row's HMAC (``domain/audit_chain.py``). The rows already in the log keep their plain
SHA-256 hashes and get an empty id, so the upgrade needs no PIN key and every row stays
verifiable; the first row written afterwards is keyed and covers the last of them.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN on both databases: SQLite keeps the table (and its append-only triggers).
    op.add_column("audit_log", sa.Column("chain_key_id", sa.String(16), nullable=False, server_default=""))


def downgrade() -> None:
    # Keyed rows written since do not verify under the older version's plain hash.
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE audit_log DROP COLUMN chain_key_id")   # no table rebuild: triggers stay
    else:
        op.drop_column("audit_log", "chain_key_id")
