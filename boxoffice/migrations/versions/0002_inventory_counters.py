"""inventory counters and case-insensitive search indexes

Adds per-item sold/held unit counters (kept in step with every order status change) and a
conference-wide ticket counter for the venue cap, back-filled by a full recount of existing
orders, plus lower(...) indexes used by order and customer search.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_SETTLED = "('paid', 'partially_refunded')"


def _add_counters(table: str, sold: str, held: str) -> None:
    with op.batch_alter_table(table) as batch:
        batch.add_column(sa.Column(sold, sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column(held, sa.Integer(), nullable=False, server_default="0"))
        batch.create_check_constraint("counters_nonneg", f"{sold} >= 0 AND {held} >= 0")


def upgrade() -> None:
    _add_counters("ticket_type", "sold_quantity", "held_quantity")
    _add_counters("addon", "sold_quantity", "held_quantity")
    _add_counters("conference", "tickets_sold", "tickets_held")

    for table, fk in (("ticket_type", "ticket_type_id"), ("addon", "addon_id")):
        op.execute(
            f"""UPDATE {table} SET
                sold_quantity = COALESCE((SELECT SUM(li.quantity) FROM order_line_item li
                    JOIN "order" o ON o.id = li.order_id
                    WHERE li.{fk} = {table}.id AND o.status IN {_SETTLED}), 0),
                held_quantity = COALESCE((SELECT SUM(li.quantity) FROM order_line_item li
                    JOIN "order" o ON o.id = li.order_id
                    WHERE li.{fk} = {table}.id AND o.status = 'pending'
                      AND o.hold_expires_at IS NOT NULL), 0)"""
        )
    op.execute(
        f"""UPDATE conference SET
            tickets_sold = COALESCE((SELECT SUM(li.quantity) FROM order_line_item li
                JOIN "order" o ON o.id = li.order_id
                WHERE o.conference_id = conference.id AND li.addon_id IS NULL
                  AND o.status IN {_SETTLED}), 0),
            tickets_held = COALESCE((SELECT SUM(li.quantity) FROM order_line_item li
                JOIN "order" o ON o.id = li.order_id
                WHERE o.conference_id = conference.id AND li.addon_id IS NULL
                  AND o.status = 'pending' AND o.hold_expires_at IS NOT NULL), 0)"""
    )

    op.create_index("ix_customer_email_lower", "customer", [sa.text("lower(email)")])
    op.create_index("ix_customer_name_lower", "customer", [sa.text("lower(name)")])
    op.create_index("ix_order_email_lower", "order", [sa.text("lower(billing_email)")])
    op.create_index("ix_order_name_lower", "order", [sa.text("lower(billing_name)")])
    op.create_index("ix_order_company_lower", "order", [sa.text("lower(billing_company)")])


def downgrade() -> None:
    for name, table in (
        ("ix_order_company_lower", "order"), ("ix_order_name_lower", "order"),
        ("ix_order_email_lower", "order"), ("ix_customer_name_lower", "customer"),
        ("ix_customer_email_lower", "customer"),
    ):
        op.drop_index(name, table_name=table)
    for table, sold, held in (
        ("conference", "tickets_sold", "tickets_held"),
        ("addon", "sold_quantity", "held_quantity"),
        ("ticket_type", "sold_quantity", "held_quantity"),
    ):
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint("counters_nonneg", type_="check")
            batch.drop_column(held)
            batch.drop_column(sold)
