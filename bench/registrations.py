"""Registrations import: 10,000 web orders (about 12,000 ticket units) from a django-program PostgreSQL database.

The web database is the shared django-program schema and sample, loaded with psql, plus 10,000
generated users, orders, lines, payments and attendees (one order in five has two tickets, one in
three a T-shirt, one in forty refunded, one in fifty pending). The desk is a fresh migrated
PostgreSQL database with the conference imported. Figures: the first import
(``registrations_import_10k_s``), a re-sync with nothing changed (``registrations_resync_unchanged_s``:
only the fingerprints are read on each side), a re-sync after 100 orders changed upstream
(``registrations_resync_100_changed_s``) and the import's ratio to its floor, plainly selecting the
same rows with the same driver (``registrations_import_ratio_to_floor``).

Run: ``python -m bench.registrations`` (merges its figures into bench/results.json).
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import time
from pathlib import Path

from sqlalchemy import create_engine, text, update
from sqlalchemy.engine import make_url

from bench.multidesk import PG_SERVER, _admin_connect, _PgDatabase, pg_available
from boxoffice.db.engine import Database, postgresql_url

ORDERS = 10_000
WEB_DIR = Path(__file__).resolve().parents[2] / "shared" / "seeds" / "django-program"
CONFERENCE_FILE = Path(__file__).resolve().parents[1] / "tests" / "data" / "conference.example.toml"
SLUG = "python-2077"

GENERATE = [
    """INSERT INTO auth_user (id, password, is_superuser, username, first_name, last_name, email, is_staff,
       is_active, date_joined)
       SELECT 100000 + g, 'x', false, 'bench' || g, 'First' || g, 'Last' || g, 'bench' || g || '@example.org',
              false, true, now() FROM generate_series(1, :n) g""",
    """INSERT INTO program_registration_order (id, status, subtotal, discount_amount, total, voucher_code,
       voucher_details, billing_name, billing_email, billing_company, reference, created_at, updated_at,
       conference_id, user_id, hold_expires_at, utm_campaign, utm_medium, utm_source)
       SELECT 100000 + g,
              CASE WHEN mod(g, 50) = 0 THEN 'pending' WHEN mod(g, 40) = 0 THEN 'refunded' ELSE 'paid' END,
              t.total, 0, t.total, '', '', 'First' || g || ' Last' || g, 'bench' || g || '@example.org',
              CASE WHEN mod(g, 7) = 0 THEN 'Initech' ELSE '' END, 'ORD-B' || lpad(g::text, 7, '0'),
              now() - interval '30 days' + g * interval '1 second', now(), c.id, 100000 + g,
              CASE WHEN mod(g, 50) = 0 THEN now() + interval '1 day' END, '', '', ''
       FROM generate_series(1, :n) g
       CROSS JOIN LATERAL (SELECT (CASE WHEN mod(g, 5) = 0 THEN 200 ELSE 100 END
                                   + CASE WHEN mod(g, 3) = 0 THEN 25 ELSE 0 END)::numeric(10, 2) AS total) t
       CROSS JOIN (SELECT id FROM program_conference_conference WHERE slug = :slug) c""",
    """INSERT INTO program_registration_orderlineitem (id, description, quantity, unit_price, discount_amount,
       line_total, created_at, addon_id, order_id, ticket_type_id)
       SELECT 100000 + g, 'Individual', CASE WHEN mod(g, 5) = 0 THEN 2 ELSE 1 END, 100, 0,
              CASE WHEN mod(g, 5) = 0 THEN 200 ELSE 100 END, now(), NULL, 100000 + g, t.id
       FROM generate_series(1, :n) g
       CROSS JOIN (SELECT id FROM program_registration_tickettype WHERE slug = 'individual') t""",
    """INSERT INTO program_registration_orderlineitem (id, description, quantity, unit_price, discount_amount,
       line_total, created_at, addon_id, order_id, ticket_type_id)
       SELECT 200000 + g, 'PyCon T-Shirt', 1, 25, 0, 25, now(), a.id, 100000 + g, NULL
       FROM generate_series(1, :n) g
       CROSS JOIN (SELECT id FROM program_registration_addon WHERE slug = 'pycon-t-shirt') a WHERE mod(g, 3) = 0""",
    """INSERT INTO program_registration_payment (id, method, amount, stripe_payment_intent_id, stripe_charge_id,
       reference, note, created_at, created_by_id, order_id, status)
       SELECT 100000 + o.id, 'stripe', o.total, 'pi_b' || o.id, 'ch_b' || o.id, '', '', o.created_at, NULL, o.id,
              CASE WHEN o.status = 'refunded' THEN 'refunded' ELSE 'succeeded' END
       FROM program_registration_order o WHERE o.id > 100000 AND o.status <> 'pending'""",
    """INSERT INTO program_registration_attendee (id, access_code, checked_in_at, completed_registration,
       created_at, updated_at, conference_id, user_id, order_id)
       SELECT 100000 + o.id, 'B' || lpad((o.id - 100000)::text, 7, '0'), NULL, true, now(), now(),
              o.conference_id, o.user_id, o.id
       FROM program_registration_order o WHERE o.id > 100000 AND o.status <> 'pending'""",
]

CHANGE_100 = ("UPDATE program_registration_order SET billing_company = 'Globex' "
              "WHERE id > 100000 AND mod(id, 100) = 1")

FLOOR_QUERIES = [
    ("SELECT o.*, u.first_name, u.last_name, u.email FROM program_registration_order o JOIN auth_user u "
    "ON u.id = o.user_id WHERE o.conference_id = :c"),
    ("SELECT l.*, t.slug, a.slug FROM program_registration_orderlineitem l JOIN program_registration_order o "
    "ON o.id = l.order_id LEFT JOIN program_registration_tickettype t ON t.id = l.ticket_type_id "
    "LEFT JOIN program_registration_addon a ON a.id = l.addon_id WHERE o.conference_id = :c"),
    ("SELECT p.order_id, p.amount FROM program_registration_payment p JOIN program_registration_order o "
    "ON o.id = p.order_id WHERE o.conference_id = :c"),
    "SELECT * FROM program_registration_credit WHERE conference_id = :c",
    "SELECT * FROM program_registration_attendee WHERE conference_id = :c",
    "SELECT * FROM program_registration_checkin WHERE conference_id = :c",
]


class _WebDatabase:
    """The shared django-program schema and sample on the server, plus the generated orders; dropped on exit."""

    def __enter__(self) -> str:
        self.name = f"djp_bench_{os.getpid()}_{secrets.token_hex(3)}"
        conn = _admin_connect()
        try:
            conn.run(f'CREATE DATABASE "{self.name}"')
        finally:
            conn.close()
        server = make_url(postgresql_url(PG_SERVER))
        url = server.set(database=self.name)
        for part in ("schema.postgresql.sql", "sample.postgresql.sql"):
            subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", "-h", server.host or "127.0.0.1",
                            "-p", str(server.port or 5432), "-U", server.username or "postgres", "-d", self.name,
                            "-f", str(WEB_DIR / part)], check=True, capture_output=True)
        engine = create_engine(url)
        with engine.begin() as conn2:
            for statement in GENERATE:
                conn2.execute(text(statement), {"n": ORDERS, "slug": SLUG})
        engine.dispose()
        return url.set(drivername="postgresql").render_as_string(hide_password=False)

    def __exit__(self, *exc: object) -> None:
        conn = _admin_connect()
        try:
            conn.run(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        finally:
            conn.close()


def _floor(web_url: str) -> float:
    engine = create_engine(postgresql_url(web_url))
    try:
        started = time.perf_counter()
        with engine.connect() as conn:
            conn.exec_driver_sql("SET TRANSACTION READ ONLY")
            cid = conn.execute(text("SELECT id FROM program_conference_conference WHERE slug = :s"),
                               {"s": SLUG}).scalar_one()
            for query in FLOOR_QUERIES:
                conn.execute(text(query), {"c": cid}).all()
        return time.perf_counter() - started
    finally:
        engine.dispose()


def run() -> dict[str, float]:
    from boxoffice.domain.models import AddOn, Conference, TicketType
    from boxoffice.services.admin.conference_import import import_conference
    from boxoffice.services.checkin.registrations import RegistrationService
    from boxoffice.services.context import ServiceContext

    problem = pg_available()
    if problem is not None or shutil.which("psql") is None or not WEB_DIR.exists():
        print(f"registrations benchmark skipped: {problem or 'psql or the django-program files are missing'}")
        return {}
    with _WebDatabase() as web_url, _PgDatabase() as desk_url:
        db = Database(desk_url)
        try:
            ctx = ServiceContext(db=db)
            import_conference(ctx, CONFERENCE_FILE)
            with db.write() as session:   # room for the generated sales: this measures the import, not oversell
                session.execute(update(TicketType).values(total_quantity=0))
                session.execute(update(AddOn).values(total_quantity=0))
                session.execute(update(Conference).values(total_capacity=0))
            floor = min(_floor(web_url) for _ in range(3))
            started = time.perf_counter()
            first = RegistrationService(ctx).import_registrations(web_url, SLUG)
            imported = time.perf_counter() - started
            started = time.perf_counter()
            again = RegistrationService(ctx).import_registrations(web_url, SLUG)
            resync = time.perf_counter() - started
            web = create_engine(postgresql_url(web_url))
            with web.begin() as conn:
                conn.execute(text(CHANGE_100))
            web.dispose()
            started = time.perf_counter()
            changed = RegistrationService(ctx).import_registrations(web_url, SLUG)
            resync_changed = time.perf_counter() - started
        finally:
            db.dispose()
    print(f"  first import: {first.summary()}; re-sync: {again.summary()}; after changes: {changed.summary()}")
    figures = {
        "registrations_import_10k_s": round(imported, 3),
        "registrations_resync_unchanged_s": round(resync, 3),
        "registrations_resync_100_changed_s": round(resync_changed, 3),
        "registrations_floor_select_s": round(floor, 3),
        "registrations_import_ratio_to_floor": round(imported / floor, 2),
    }
    for key, value in figures.items():
        print(f"  {key:<40} {value}")
    return figures


if __name__ == "__main__":
    from bench.__main__ import merge_results
    from boxoffice.services.staff.access import SYSTEM, set_operator

    set_operator(SYSTEM)
    merge_results(run())
