"""attendees per ticket unit, check-ins, add-on redemptions, imported orders

One attendee per ticket unit of every paid or partially refunded order replaces the one attendee
per (customer, conference): the existing rows become the first ticket unit's attendee of the order
they point at (or, for an add-on-only order, of the customer's first settled order with a ticket)
and keep their access codes; every other unit gets an attendee of its own with a new code. Adds the
attendee search words, check-ins, add-on assignments and redemptions; a check-in note on ticket
types and a redeemable flag on add-ons; the source of imported orders (with a fingerprint of their
source rows), lines and attendees; and the 'web' payment and refund methods.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import warnings
from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from alembic import op

from boxoffice.db.types import UTCDateTime
from boxoffice.domain.attendee_rules import guest_name, new_access_code, search_words

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_PAYMENT_METHODS = ("stripe", "terminal", "comp", "credit", "manual", "cash", "web")
_REFUND_METHODS = ("card", "cash", "credit", "manual", "web")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def upgrade() -> None:
    with warnings.catch_warnings():
        # SQLite batch mode reflects the order table, whose expression indexes it cannot reflect.
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index")
        with op.batch_alter_table("ticket_type") as batch:
            batch.add_column(sa.Column("checkin_note", sa.Text(), nullable=False, server_default=""))
        with op.batch_alter_table("addon") as batch:
            batch.add_column(sa.Column("redeemable", sa.Boolean(), nullable=False, server_default="0"))
        with op.batch_alter_table("order") as batch:
            batch.add_column(sa.Column("source_system", sa.String(40), nullable=False, server_default=""))
            batch.add_column(sa.Column("source_id", sa.String(100), nullable=False, server_default=""))
            batch.add_column(sa.Column("source_fingerprint", sa.String(64), nullable=False, server_default=""))
        with op.batch_alter_table("order_line_item") as batch:
            batch.add_column(sa.Column("source_id", sa.String(100), nullable=False, server_default=""))
        with op.batch_alter_table("payment") as batch:
            batch.drop_constraint(op.f("ck_payment_payment_method"), type_="check")
            batch.create_check_constraint("payment_method", _in("method", _PAYMENT_METHODS))
        with op.batch_alter_table("refund") as batch:
            batch.drop_constraint(op.f("ck_refund_refund_method"), type_="check")
            batch.create_check_constraint("refund_method", _in("method", _REFUND_METHODS))
    op.create_index("uq_order_source", "order", ["source_system", "source_id"], unique=True,
                    postgresql_where=sa.text("source_system <> ''"), sqlite_where=sa.text("source_system <> ''"))

    op.rename_table("attendee", "attendee_old")
    if op.get_bind().dialect.name == "postgresql":
        # PostgreSQL keeps constraint names with the renamed table; free them for the new one.
        for old in ("pk_attendee", "uq_attendee_access_code", "uq_attendee_customer_id_conference_id",
                    "fk_attendee_conference_id_conference", "fk_attendee_customer_id_customer",
                    "fk_attendee_order_id_order"):
            op.execute(f'ALTER TABLE attendee_old RENAME CONSTRAINT "{old}" TO "{old}_old"')
    _create_tables()
    _move_attendees()
    op.drop_table("attendee_old")


def _create_tables() -> None:
    op.create_table(
        "attendee",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("conference_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("order_line_id", sa.Integer(), nullable=False),
        sa.Column("unit", sa.Integer(), nullable=False),
        sa.Column("ticket_type_id", sa.Integer(), nullable=True),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("company", sa.String(200), nullable=False),
        sa.Column("access_code", sa.String(20), nullable=False),
        sa.Column("status", sa.Enum("valid", "void", name="attendee_status", native_enum=False,
                                    create_constraint=True, length=24), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("renamed_at_desk", sa.Boolean(), nullable=False),
        sa.Column("source_system", sa.String(40), nullable=False),
        sa.Column("source_id", sa.String(100), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("unit >= 1", name=op.f("ck_attendee_unit_pos")),
        sa.ForeignKeyConstraint(["conference_id"], ["conference.id"], name=op.f("fk_attendee_conference_id_conference"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["order_id"], ["order.id"], name=op.f("fk_attendee_order_id_order"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["order_line_id"], ["order_line_item.id"],
                                name=op.f("fk_attendee_order_line_id_order_line_item"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["ticket_type_id"], ["ticket_type.id"],
                                name=op.f("fk_attendee_ticket_type_id_ticket_type"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"], name=op.f("fk_attendee_customer_id_customer"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attendee")),
        sa.UniqueConstraint("access_code", name=op.f("uq_attendee_access_code")),
        sa.UniqueConstraint("order_line_id", "unit", name=op.f("uq_attendee_order_line_id_unit")),
    )
    op.create_index("ix_attendee_order", "attendee", ["order_id"])
    op.create_index("ix_attendee_conference_status", "attendee", ["conference_id", "status"])
    op.create_index("uq_attendee_source", "attendee", ["source_system", "source_id"], unique=True,
                    postgresql_where=sa.text("source_system <> ''"), sqlite_where=sa.text("source_system <> ''"))

    op.create_table(
        "attendee_word",
        sa.Column("conference_id", sa.Integer(), nullable=False),
        sa.Column("word", sa.String(254), nullable=False),
        sa.Column("attendee_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["conference_id"], ["conference.id"],
                                name=op.f("fk_attendee_word_conference_id_conference"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["attendee_id"], ["attendee.id"], name=op.f("fk_attendee_word_attendee_id_attendee"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("conference_id", "word", "attendee_id", name=op.f("pk_attendee_word")),
    )
    op.create_index("ix_attendee_word_attendee", "attendee_word", ["attendee_id"])

    op.create_table(
        "check_in",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("attendee_id", sa.Integer(), nullable=False),
        sa.Column("conference_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("desk", sa.String(100), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=True),
        sa.Column("operator_name", sa.String(200), nullable=False),
        sa.Column("undone_at", UTCDateTime(), nullable=True),
        sa.Column("undone_by_id", sa.Integer(), nullable=True),
        sa.Column("undo_reason", sa.Text(), nullable=False),
        sa.CheckConstraint("kind IN ('entry', 're-entry')", name=op.f("ck_check_in_kind_known")),
        sa.ForeignKeyConstraint(["attendee_id"], ["attendee.id"], name=op.f("fk_check_in_attendee_id_attendee"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["conference_id"], ["conference.id"],
                                name=op.f("fk_check_in_conference_id_conference"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["operator_id"], ["staff.id"], name=op.f("fk_check_in_operator_id_staff"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["undone_by_id"], ["staff.id"], name=op.f("fk_check_in_undone_by_id_staff"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_check_in")),
    )
    op.create_index("uq_check_in_entry", "check_in", ["attendee_id"], unique=True,
                    postgresql_where=sa.text("kind = 'entry' AND undone_at IS NULL"),
                    sqlite_where=sa.text("kind = 'entry' AND undone_at IS NULL"))
    op.create_index("ix_check_in_attendee", "check_in", ["attendee_id"])
    op.create_index("ix_check_in_conference_at", "check_in", ["conference_id", "at"])

    op.create_table(
        "addon_assignment",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("attendee_id", sa.Integer(), nullable=False),
        sa.Column("order_line_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.CheckConstraint("quantity >= 0", name=op.f("ck_addon_assignment_quantity_nonneg")),
        sa.ForeignKeyConstraint(["attendee_id"], ["attendee.id"],
                                name=op.f("fk_addon_assignment_attendee_id_attendee"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["order_line_id"], ["order_line_item.id"],
                                name=op.f("fk_addon_assignment_order_line_id_order_line_item"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_addon_assignment")),
        sa.UniqueConstraint("attendee_id", "order_line_id", name=op.f("uq_addon_assignment_attendee_id_order_line_id")),
    )
    op.create_index("ix_addon_assignment_line", "addon_assignment", ["order_line_id"])

    op.create_table(
        "redemption",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("attendee_id", sa.Integer(), nullable=False),
        sa.Column("order_line_id", sa.Integer(), nullable=False),
        sa.Column("addon_id", sa.Integer(), nullable=True),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("desk", sa.String(100), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=True),
        sa.Column("operator_name", sa.String(200), nullable=False),
        sa.ForeignKeyConstraint(["attendee_id"], ["attendee.id"], name=op.f("fk_redemption_attendee_id_attendee"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["order_line_id"], ["order_line_item.id"],
                                name=op.f("fk_redemption_order_line_id_order_line_item"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["addon_id"], ["addon.id"], name=op.f("fk_redemption_addon_id_addon"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["operator_id"], ["staff.id"], name=op.f("fk_redemption_operator_id_staff"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_redemption")),
    )
    op.create_index("ix_redemption_attendee", "redemption", ["attendee_id"])
    op.create_index("ix_redemption_line", "redemption", ["order_line_id"])


def _move_attendees() -> None:
    """Every ticket unit of a settled order gets an attendee; the old rows keep their codes on their unit."""
    conn = op.get_bind()
    rows: list[Any] = list(conn.execute(sa.text(
        'SELECT o.id, o.conference_id, o.customer_id, o.status, o.billing_name, o.billing_email, '
        'o.billing_company, o.created_at, c.name, c.email, c.company, l.id, l.quantity, l.ticket_type_id '
        'FROM "order" o JOIN customer c ON c.id = o.customer_id '
        "JOIN order_line_item l ON l.order_id = o.id AND l.addon_id IS NULL "
        "WHERE o.status IN ('paid', 'partially_refunded') ORDER BY o.id, l.id"
    )).all())
    old: list[Any] = list(conn.execute(sa.text(
        "SELECT customer_id, conference_id, order_id, access_code, created_at FROM attendee_old"
    )).all())
    codes = {r[3] for r in old}

    def new_code() -> str:
        while True:
            code = new_access_code()
            if code not in codes:
                codes.add(code)
                return code

    # The first ticket unit of each settled order, and of each (customer, conference)'s settled orders.
    first_unit_of_order: dict[int, int] = {}
    first_order_of_customer: dict[tuple[int, int], int] = {}
    for r in rows:
        first_unit_of_order.setdefault(r[0], r[11])
        first_order_of_customer.setdefault((r[2], r[1]), r[0])
    kept: dict[int, str] = {}     # line id -> the old attendee's code, on that line's first unit
    for customer_id, conference_id, order_id, code, _created in old:
        order = order_id if order_id in first_unit_of_order else first_order_of_customer.get((customer_id, conference_id))
        if order is not None and first_unit_of_order[order] not in kept:
            kept[first_unit_of_order[order]] = code

    attendees: list[dict[str, Any]] = []
    guests: defaultdict[int, int] = defaultdict(int)
    for (order_id, conference_id, customer_id, _status, billing_name, billing_email, billing_company, created,
         c_name, c_email, c_company, line_id, quantity, ticket_type_id) in rows:
        buyer = billing_name or c_name or ""
        for unit in range(1, int(quantity) + 1):
            first = line_id == first_unit_of_order[order_id] and unit == 1
            if first:
                name, email, company = buyer, billing_email or c_email or "", billing_company or c_company or ""
            else:
                guests[order_id] += 1
                name = guest_name(guests[order_id], buyer)
                email, company = "", ""
            code = kept.pop(line_id) if first and line_id in kept else new_code()
            attendees.append({
                "conference_id": conference_id, "order_id": order_id, "order_line_id": line_id, "unit": unit,
                "ticket_type_id": ticket_type_id, "customer_id": customer_id if first else None,
                "name": name, "email": email or "", "company": company or "", "access_code": code,
                "status": "valid", "note": "", "renamed_at_desk": False, "source_system": "", "source_id": "",
                "created_at": created, "updated_at": created,
            })
    if not attendees:
        return
    table = sa.table(
        "attendee", *(sa.column(k) for k in attendees[0]),
    )
    conn.execute(sa.insert(table), attendees)
    ids: list[Any] = list(conn.execute(sa.text("SELECT id, conference_id, name, email, company FROM attendee")))
    word_table = sa.table("attendee_word", sa.column("conference_id"), sa.column("word"), sa.column("attendee_id"))
    words = [{"conference_id": conf, "word": w, "attendee_id": aid}
             for aid, conf, name, email, company in ids for w in search_words(name, email, company)]
    if words:
        conn.execute(sa.insert(word_table), words)


def downgrade() -> None:
    op.drop_table("redemption")
    op.drop_table("addon_assignment")
    op.drop_table("check_in")
    op.drop_table("attendee_word")
    op.drop_table("attendee")
    op.create_table(
        "attendee",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("customer_id", sa.Integer(), sa.ForeignKey("customer.id", ondelete="CASCADE"), nullable=False),
        sa.Column("conference_id", sa.Integer(), sa.ForeignKey("conference.id", ondelete="CASCADE"), nullable=False),
        sa.Column("order_id", sa.Integer(), sa.ForeignKey("order.id", ondelete="SET NULL"), nullable=True),
        sa.Column("access_code", sa.String(8), nullable=False, unique=True),
        sa.Column("completed_registration", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("customer_id", "conference_id"),
    )
    op.drop_index("uq_order_source", table_name="order")
    with op.batch_alter_table("order_line_item") as batch:
        batch.drop_column("source_id")
    with op.batch_alter_table("order") as batch:
        batch.drop_column("source_fingerprint")
        batch.drop_column("source_id")
        batch.drop_column("source_system")
    with op.batch_alter_table("addon") as batch:
        batch.drop_column("redeemable")
    with op.batch_alter_table("ticket_type") as batch:
        batch.drop_column("checkin_note")
