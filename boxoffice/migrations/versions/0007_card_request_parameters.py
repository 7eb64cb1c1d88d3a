"""card attempts keep the parameters of their keyed Stripe requests

``payment.stripe_request`` (JSON text): the metadata, description and customer a card attempt first
sent to Stripe, and the idempotency keys in use for each of its requests, so a retry from any desk
re-sends exactly what was sent under that key, and a key Stripe will only answer with a saved error
can be replaced.

Revision ID: 0007
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("payment") as batch:
        batch.add_column(sa.Column("stripe_request", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("payment") as batch:
        batch.drop_column("stripe_request")
