"""card attempts keep the parameters of their keyed Stripe requests

``payment.stripe_request`` (JSON text): the metadata, description and customer a card attempt first
sent to Stripe, and the idempotency keys in use for each of its requests, so a retry from any desk
re-sends exactly what was sent under that key, and a key Stripe will only answer with a saved error
can be replaced.

``order_line_item.cancelled_quantity``: the units of a line a lead cancelled (they left the stock
counters and their attendees are void); never more than the line's quantity.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import warnings

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("payment") as batch:
        batch.add_column(sa.Column("stripe_request", sa.Text(), nullable=False, server_default=""))
    with warnings.catch_warnings():
        # SQLite batch mode reflects the order table, whose expression indexes it cannot reflect.
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index")
        with op.batch_alter_table("order_line_item") as batch:
            batch.add_column(sa.Column("cancelled_quantity", sa.Integer(), nullable=False, server_default="0"))
            batch.create_check_constraint(
                "cancelled_within", "cancelled_quantity >= 0 AND cancelled_quantity <= quantity"
            )


def downgrade() -> None:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index")
        with op.batch_alter_table("order_line_item") as batch:
            batch.drop_constraint(op.f("ck_order_line_item_cancelled_within"), type_="check")
            batch.drop_column("cancelled_quantity")
    with op.batch_alter_table("payment") as batch:
        batch.drop_column("stripe_request")
