"""A database made by an older version upgrades without loss; counters are back-filled to the recount."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from boxoffice.db.engine import Database, sqlite_url
from boxoffice.db.migrate import current_revision, head_revision, needs_upgrade, upgrade
from boxoffice.services.sales.order_state import recount

NOW = "2027-05-01 12:00:00.000000"
LATER = "2027-05-01 12:15:00.000000"


def _fill_revision_0001(db: Database) -> None:
    """Rows as version 0001 wrote them, with plain SQL (no model of today is involved)."""
    statements = [
        (
            "INSERT INTO conference (id, name, slug, timezone, currency, total_capacity, is_active, "
            "start_date, end_date, venue, website_url, reference_prefix, cart_expiry_minutes, hold_minutes, "
            "stripe_publishable_key, created_at, updated_at) VALUES (1, 'Python 2077', 'python-2077', "
            "'America/New_York', 'USD', 2500, 1, '2027-05-14', '2027-05-22', '', '', 'PY', 30, 15, '', "
            ":now, :now)"
        ),
        (
            "INSERT INTO ticket_type (id, conference_id, name, slug, description, price, total_quantity, "
            "limit_per_user, requires_voucher, is_active, \"order\", created_at, updated_at) VALUES "
            "(1, 1, 'Individual', 'individual', '', 100, 2500, 5, 0, 1, 0, :now, :now), "
            "(2, 1, 'Student', 'student', '', 25, 500, 1, 1, 1, 1, :now, :now)"
        ),
        (
            "INSERT INTO addon (id, conference_id, name, slug, description, price, total_quantity, "
            "is_active, \"order\", created_at, updated_at) VALUES "
            "(1, 1, 'T-Shirt', 't-shirt', '', 25, 0, 1, 0, :now, :now)"
        ),
        "INSERT INTO addon_requires_ticket_type (addon_id, ticket_type_id) VALUES (1, 1)",
        (
            "INSERT INTO customer (id, name, email, company, is_anonymous, created_at, updated_at) VALUES "
            "(1, 'Ada Lovelace', 'ada@example.org', 'Analytical', 0, :now, :now), "
            "(2, 'Grace Hopper', 'grace@example.org', '', 0, :now, :now)"
        ),
    ]
    orders = [  # id, customer, status, hold, reference, total
        (1, 1, "paid", None, "PY-AAAA", "225.00"),
        (2, 2, "pending", LATER, "PY-BBBB", "125.00"),
        (3, 2, "cancelled", None, "PY-CCCC", "100.00"),
        (4, 1, "partially_refunded", None, "PY-DDDD", "25.00"),
        (5, 1, "pending", None, "PY-EEEE", "100.00"),  # pending without a hold: counts nowhere
    ]
    lines = [  # order, ticket, addon, quantity, unit price
        (1, 1, None, 2, "100.00"), (1, None, 1, 1, "25.00"),
        (2, 1, None, 1, "100.00"), (2, None, 1, 1, "25.00"),
        (3, 1, None, 1, "100.00"),
        (4, 2, None, 1, "25.00"),
        (5, 1, None, 1, "100.00"),
    ]
    with db.engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement), {"now": NOW})
        for oid, customer, status, hold, reference, total in orders:
            conn.execute(text(
                'INSERT INTO "order" (id, conference_id, customer_id, status, subtotal, discount_amount, total, '
                "voucher_code, voucher_details, billing_name, billing_email, billing_company, reference, "
                "hold_expires_at, needs_attention, disputed, created_at, updated_at) VALUES (:id, 1, :customer, "
                ":status, :total, 0, :total, '', '', 'Buyer', '', '', :reference, :hold, '', 0, :now, :now)"
            ), {"id": oid, "customer": customer, "status": status, "total": total, "reference": reference,
                "hold": hold, "now": NOW})
        for order_id, ticket, addon, quantity, price in lines:
            conn.execute(text(
                "INSERT INTO order_line_item (order_id, description, quantity, unit_price, discount_amount, "
                "line_total, ticket_type_id, addon_id, created_at) VALUES (:o, 'line', :q, :p, 0, :p * :q, "
                ":t, :a, :now)"
            ), {"o": order_id, "q": quantity, "p": price, "t": ticket, "a": addon, "now": NOW})
        conn.execute(text(
            "INSERT INTO payment (order_id, method, status, amount, stripe_payment_intent_id, stripe_charge_id, "
            "reference, note, created_at, change_given, card_brand, card_last4, failure_reason) VALUES "
            "(1, 'cash', 'succeeded', 225, '', '', '', '', :now, 0, '', '', '')"
        ), {"now": NOW})


def _row_counts(db: Database) -> dict[str, int]:
    tables = ("conference", "ticket_type", "addon", "addon_requires_ticket_type", "customer", "order",
              "order_line_item", "payment")
    with db.engine.connect() as conn:
        return {t: int(conn.execute(text(f'SELECT COUNT(*) FROM "{t}"')).scalar_one()) for t in tables}


def test_database_at_0001_upgrades_to_head_without_loss_and_counters_match_recount(tmp_path: Path) -> None:
    db = Database(sqlite_url(tmp_path / "old.sqlite3"))
    try:
        assert upgrade(db, "0001") == "0001"
        assert needs_upgrade(db)
        _fill_revision_0001(db)
        before = _row_counts(db)
        with db.engine.connect() as conn:
            references_before = conn.execute(text('SELECT id, reference, status, total FROM "order" ORDER BY id')).all()

        assert upgrade(db) == head_revision(db)
        assert current_revision(db) == head_revision(db) and not needs_upgrade(db)

        assert _row_counts(db) == before
        with db.engine.connect() as conn:
            assert conn.execute(text('SELECT id, reference, status, total FROM "order" ORDER BY id')).all() == references_before
            counters = {
                row[0]: (row[1], row[2])
                for row in conn.execute(text("SELECT slug, sold_quantity, held_quantity FROM ticket_type"))
            }
            addon = conn.execute(text("SELECT sold_quantity, held_quantity FROM addon")).one()
            conference = conn.execute(text("SELECT tickets_sold, tickets_held FROM conference")).one()
        # paid 2 + partially refunded 0 individual; held 1 (order 2); cancelled and hold-less pending: nothing.
        assert counters == {"individual": (2, 1), "student": (1, 0)}
        assert tuple(addon) == (1, 1)
        assert tuple(conference) == (3, 1)
        with db.read() as session:
            assert recount(session) == []
    finally:
        db.dispose()


def test_upgrading_twice_is_a_no_op(tmp_path: Path) -> None:
    db = Database(sqlite_url(tmp_path / "new.sqlite3"))
    try:
        first = upgrade(db)
        assert upgrade(db) == first == head_revision(db)
    finally:
        db.dispose()
