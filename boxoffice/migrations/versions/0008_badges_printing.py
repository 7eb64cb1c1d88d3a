"""badge templates, the badge and receipt print logs, and what a receipt prints of its conference

Adds ``badge_template`` (one per ticket type or the conference default), ``badge_print`` (every badge
printed or failed, reprints with their reason) and ``receipt_print`` (receipts, drawer openings and
test pages sent to a desk's receipt printer), and the organiser and tax settings of a conference.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import warnings

import sqlalchemy as sa
from alembic import op

from boxoffice.db.types import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index")
        with op.batch_alter_table("conference") as batch:
            batch.add_column(sa.Column("organiser", sa.String(200), nullable=False, server_default=""))
            batch.add_column(sa.Column("tax_rate", sa.Numeric(6, 3), nullable=True))
            batch.add_column(sa.Column("tax_label", sa.String(40), nullable=False, server_default="VAT"))
            batch.add_column(sa.Column("prices_include_tax", sa.Boolean(), nullable=False, server_default="0"))
    op.create_table(
        "badge_template",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("conference_id", sa.Integer(), sa.ForeignKey("conference.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("ticket_type_id", sa.Integer(), sa.ForeignKey("ticket_type.id", ondelete="CASCADE"),
                  nullable=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("page_preset", sa.String(20), nullable=False),
        sa.Column("page_width_mm", sa.Integer(), nullable=False),
        sa.Column("page_height_mm", sa.Integer(), nullable=False),
        sa.Column("columns", sa.Integer(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("font_family", sa.String(100), nullable=False),
        sa.Column("name_size_pt", sa.Integer(), nullable=False),
        sa.Column("text_size_pt", sa.Integer(), nullable=False),
        sa.Column("text_color", sa.String(9), nullable=False),
        sa.Column("background_color", sa.String(9), nullable=False),
        sa.Column("banner_color", sa.String(9), nullable=False),
        sa.Column("banner_text_color", sa.String(9), nullable=False),
        sa.Column("banner_colors", sa.JSON(), nullable=False),
        sa.Column("logo_png", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("page_width_mm > 0 AND page_height_mm > 0", name="page_pos"),
        sa.CheckConstraint("columns >= 1 AND rows >= 1", name="grid_pos"),
    )
    op.create_index("uq_badge_template_type", "badge_template", ["conference_id", "ticket_type_id"], unique=True,
                    postgresql_where=sa.text("ticket_type_id IS NOT NULL"),
                    sqlite_where=sa.text("ticket_type_id IS NOT NULL"))
    op.create_index("uq_badge_template_default", "badge_template", ["conference_id"], unique=True,
                    postgresql_where=sa.text("ticket_type_id IS NULL"),
                    sqlite_where=sa.text("ticket_type_id IS NULL"))
    op.create_table(
        "badge_print",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("attendee_id", sa.Integer(), sa.ForeignKey("attendee.id", ondelete="CASCADE"), nullable=False),
        sa.Column("conference_id", sa.Integer(), sa.ForeignKey("conference.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("desk", sa.String(100), nullable=False),
        sa.Column("operator_id", sa.Integer(), sa.ForeignKey("staff.id", ondelete="SET NULL"), nullable=True),
        sa.Column("operator_name", sa.String(200), nullable=False),
        sa.Column("approver_name", sa.String(200), nullable=False),
        sa.Column("printer", sa.String(200), nullable=False),
        sa.Column("reprint", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.CheckConstraint("status IN ('printed', 'failed')", name="status_known"),
    )
    op.create_index("ix_badge_print_attendee", "badge_print", ["attendee_id", "at"])
    op.create_table(
        "receipt_print",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("order_id", sa.Integer(), sa.ForeignKey("order.id", ondelete="SET NULL"), nullable=True),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("desk", sa.String(100), nullable=False),
        sa.Column("operator_name", sa.String(200), nullable=False),
        sa.Column("printer", sa.String(200), nullable=False),
        sa.Column("drawer_kicked", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.CheckConstraint("kind IN ('receipt', 'drawer', 'test')", name="kind_known"),
        sa.CheckConstraint("status IN ('printed', 'failed')", name="status_known"),
    )
    op.create_index("ix_receipt_print_order", "receipt_print", ["order_id"])
    op.create_index("ix_receipt_print_desk_at", "receipt_print", ["desk", "at"])


def downgrade() -> None:
    op.drop_table("receipt_print")
    op.drop_table("badge_print")
    op.drop_table("badge_template")
    with op.batch_alter_table("conference") as batch:
        for column in ("prices_include_tax", "tax_label", "tax_rate", "organiser"):
            batch.drop_column(column)
