"""order search: ordered covering indexes per search column

The Orders screen searches as the operator types: a case-insensitive prefix over reference, name,
email and company, newest first. Each search column gets one index that holds what the page query
needs besides the prefix (conference, created_at, status), so a broad prefix ("John", "Acme") picks
its newest orders from four index range scans and reads only the page's rows from the table. They
replace the plain lower(...) indexes of 0002 on the same columns.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_SEARCH = (
    ("ix_order_name_search", "lower(billing_name)", "ix_order_name_lower"),
    ("ix_order_email_search", "lower(billing_email)", "ix_order_email_lower"),
    ("ix_order_company_search", "lower(billing_company)", "ix_order_company_lower"),
)
_TAIL = ("conference_id", "created_at", "status")


def upgrade() -> None:
    for name, expression, old in _SEARCH:
        op.create_index(name, "order", [sa.text(expression), *_TAIL])
        op.drop_index(old, table_name="order")
    op.create_index("ix_order_reference_search", "order", ["reference", *_TAIL])


def downgrade() -> None:
    op.drop_index("ix_order_reference_search", table_name="order")
    for name, expression, old in _SEARCH:
        op.create_index(old, "order", [sa.text(expression)])
        op.drop_index(name, table_name="order")
