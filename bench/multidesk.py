"""The 8-desk race: 8 processes x 200 checkout attempts for 500 seats, on PostgreSQL and on SQLite.

Each database runs two races in the same run: the real ``CheckoutService.checkout`` on prepared
one-ticket carts, and its floor, the same race with a minimal transaction (lock the ticket row,
check stock, insert one order and one line, count the sale). Reported per database: attempts/s,
p50/p99 latency of one attempt, the ratio to the floor (service attempts/s over floor attempts/s)
and whether exactly the 500 seats were sold. ``run()`` returns the flat figures; ``python -m
bench.multidesk`` also merges them into bench/results.json.
"""

from __future__ import annotations

import multiprocessing
import os
import secrets
import tempfile
import time
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import make_url

from bench.timing import percentile
from boxoffice.db.engine import Database, postgresql_url, sqlite_url
from boxoffice.db.migrate import upgrade
from boxoffice.domain.models import (
    Cart,
    CartItem,
    CartStatus,
    Conference,
    Customer,
    Order,
    OrderLineItem,
    OrderStatus,
    TicketType,
)
from boxoffice.timeutil import SystemClock

DESKS = 8
ATTEMPTS = 200
SEATS = 500
PG_SERVER = os.environ.get("BOXOFFICE_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")
RACE_TIMEOUT_S = 600.0
PRICE = Decimal("100.00")


# --------------------------------------------------------------------------- set-up


def _seed(db: Database, *, carts: int) -> tuple[int, int, list[int], int]:
    """One conference, one 500-seat ticket type, ``carts`` one-ticket open carts (bulk rows)."""
    now = SystemClock().now()
    with db.engine.begin() as conn:
        conf_id = conn.execute(insert(Conference).returning(Conference.id), [{
            "name": "Race 2077", "slug": f"race-{secrets.token_hex(3)}", "timezone": "UTC",
            "currency": "USD", "created_at": now, "updated_at": now}]).scalar_one()
        tt_id = conn.execute(insert(TicketType).returning(TicketType.id), [{
            "conference_id": conf_id, "name": "Individual", "slug": "individual", "price": PRICE,
            "total_quantity": SEATS, "limit_per_user": 10, "created_at": now, "updated_at": now}]).scalar_one()
        customers = conn.execute(insert(Customer).returning(Customer.id, sort_by_parameter_order=True), [
            {"name": f"Walk-up {i}", "email": None, "is_anonymous": True, "created_at": now, "updated_at": now}
            for i in range(carts)]).scalars().all()
        cart_ids = conn.execute(insert(Cart).returning(Cart.id, sort_by_parameter_order=True), [
            {"customer_id": c, "conference_id": conf_id, "status": CartStatus.OPEN,
             "expires_at": now + timedelta(days=1), "created_at": now, "updated_at": now}
            for c in customers]).scalars().all()
        conn.execute(insert(CartItem), [
            {"cart_id": c, "ticket_type_id": tt_id, "quantity": 1, "created_at": now} for c in cart_ids])
    return conf_id, tt_id, list(cart_ids), customers[0]


# --------------------------------------------------------------------------- desks (one process each)


def _floor_attempt(db: Database, conference_id: int, ticket_type_id: int, customer_id: int, ref: str) -> bool:
    """Lock the ticket row, check stock, insert one order and one line, count the sale."""
    writer = db.engine.execution_options(sqlite_begin="IMMEDIATE") if db.is_sqlite else db.engine
    now = SystemClock().now()
    with writer.begin() as conn:
        total, sold = conn.execute(
            select(TicketType.total_quantity, TicketType.sold_quantity)
            .where(TicketType.id == ticket_type_id).with_for_update()
        ).one()
        if sold >= total:
            return False
        order_id = conn.execute(insert(Order).returning(Order.id), [{
            "conference_id": conference_id, "customer_id": customer_id, "status": OrderStatus.PENDING,
            "subtotal": PRICE, "total": PRICE, "reference": ref, "created_at": now,
            "updated_at": now}]).scalar_one()
        conn.execute(insert(OrderLineItem), [{
            "order_id": order_id, "description": "Individual", "quantity": 1, "unit_price": PRICE,
            "line_total": PRICE, "ticket_type_id": ticket_type_id, "created_at": now}])
        conn.execute(update(TicketType).where(TicketType.id == ticket_type_id)
                     .values(sold_quantity=TicketType.sold_quantity + 1))
    return True


def desk(kind: str, url: str, number: int, conference_id: int, ticket_type_id: int, carts: list[int],
         customer_id: int, start: Barrier, results: Queue) -> None:
    """One desk: ``len(carts)`` attempts after the common start; reports outcomes and latencies."""
    from boxoffice.errors import SoldOut, UserError
    from boxoffice.services.context import ServiceContext
    from boxoffice.services.sales.checkout import CheckoutService
    from boxoffice.services.staff.access import SYSTEM, set_operator

    set_operator(SYSTEM)
    db = Database(url)
    checkout = CheckoutService(ServiceContext(db=db, desk_name=f"Desk {number}"))
    with db.engine.connect():
        pass  # open the pooled connection before the clock starts
    outcomes: Counter[str] = Counter()
    latencies: list[float] = []
    start.wait(120)
    began = time.time()
    for i, cart_id in enumerate(carts):
        t0 = time.perf_counter()
        try:
            if kind == "service":
                checkout.checkout(cart_id)
                outcomes["ok"] += 1
            elif _floor_attempt(db, conference_id, ticket_type_id, customer_id, f"FLOOR-{number}-{i}"):
                outcomes["ok"] += 1
            else:
                outcomes["SoldOut"] += 1
        except SoldOut:
            outcomes["SoldOut"] += 1
        except UserError as exc:
            outcomes[type(exc).__name__] += 1
        latencies.append((time.perf_counter() - t0) * 1000.0)
    ended = time.time()
    db.dispose()
    results.put({"outcomes": dict(outcomes), "latencies": latencies, "began": began, "ended": ended})


# --------------------------------------------------------------------------- one race


def race(url: str, kind: str, *, desks: int = DESKS, attempts: int = ATTEMPTS) -> dict[str, float]:
    """Run one race on the (migrated, empty) database at ``url``; figures without a prefix."""
    db = Database(url)
    try:
        conf_id, tt_id, carts, customer_id = _seed(db, carts=desks * attempts)
        spawn = multiprocessing.get_context("spawn")
        barrier, results = spawn.Barrier(desks), spawn.Queue()
        procs = [
            spawn.Process(target=desk, args=(kind, url, d, conf_id, tt_id, carts[d::desks], customer_id,
                                             barrier, results))
            for d in range(desks)
        ]
        for proc in procs:
            proc.start()
        reports = [results.get(timeout=RACE_TIMEOUT_S) for _ in procs]
        for proc in procs:
            proc.join(30)
        wall = max(r["ended"] for r in reports) - min(r["began"] for r in reports)
        latencies = [ms for r in reports for ms in r["latencies"]]
        outcomes: Counter[str] = Counter()
        for r in reports:
            outcomes.update(r["outcomes"])
        with db.read() as s:
            tt = s.get(TicketType, tt_id)
            assert tt is not None
            taken = tt.sold_quantity + tt.held_quantity
            orders = s.scalar(select(func.count(Order.id)).where(Order.conference_id == conf_id)) or 0
        exact = outcomes["ok"] == SEATS and taken == SEATS and orders == SEATS
        return {
            "attempts_per_s": round(len(latencies) / wall, 1),
            "p50_ms": round(percentile(latencies, 0.5), 3),
            "p99_ms": round(percentile(latencies, 0.99), 3),
            "sold_seats": float(outcomes["ok"]),
            "errors_count": float(sum(v for k, v in outcomes.items() if k not in ("ok", "SoldOut"))),
            "exact": 1.0 if exact else 0.0,
        }
    finally:
        db.dispose()


def _pair(prefix: str, fresh_url: Any) -> dict[str, float]:
    """The service race and its floor on two fresh databases from ``fresh_url()``; prefixed figures."""
    out: dict[str, float] = {}
    for kind, label in (("floor", f"{prefix}_floor"), ("service", prefix)):
        with fresh_url() as url:
            figures = race(url, kind)
        out.update({f"{label}_{k}": v for k, v in figures.items()})
        print(f"  {label:<22} {figures['attempts_per_s']:>8.1f} attempts/s  p50 {figures['p50_ms']:>8.2f} ms  "
              f"p99 {figures['p99_ms']:>8.2f} ms  sold {int(figures['sold_seats'])}  "
              f"{'exact' if figures['exact'] else 'NOT EXACT'}")
    out[f"{prefix}_ratio_to_floor"] = round(out[f"{prefix}_attempts_per_s"] /
                                            out[f"{prefix}_floor_attempts_per_s"], 3)
    return out


def _admin_connect() -> Any:
    """A psycopg connection to the server's ``postgres`` database (statements autocommit)."""
    import psycopg

    server = make_url(postgresql_url(PG_SERVER))
    return psycopg.connect(
        user=server.username or "postgres", host=server.host or "127.0.0.1", port=server.port or 5432,
        password=server.password, dbname="postgres", connect_timeout=3, autocommit=True,
    )


class _PgDatabase:
    """A fresh, migrated PostgreSQL database, dropped on exit."""

    def __enter__(self) -> str:
        self.name = f"boxoffice_bench_{os.getpid()}_{secrets.token_hex(3)}"
        conn = _admin_connect()
        try:
            conn.execute(f'CREATE DATABASE "{self.name}"')
        finally:
            conn.close()
        url = f"{PG_SERVER}/{self.name}"
        db = Database(url)
        upgrade(db)
        db.dispose()
        return url

    def __exit__(self, *exc: object) -> None:
        conn = _admin_connect()
        try:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        finally:
            conn.close()


class _SqliteDatabase:
    """A fresh, migrated SQLite file in a temporary directory."""

    def __enter__(self) -> str:
        self.tmp = tempfile.TemporaryDirectory(prefix="boxoffice-race-")
        url = sqlite_url(Path(self.tmp.name) / "race.sqlite3")
        db = Database(url)
        upgrade(db)
        db.dispose()
        return url

    def __exit__(self, *exc: object) -> None:
        self.tmp.cleanup()


def pg_available() -> str | None:
    """None when the PostgreSQL server answers, else the reason."""
    try:
        _admin_connect().close()
        return None
    # Any failure to reach the server (driver missing, refused, timeout, authentication) only skips
    # the PostgreSQL race, with the reason shown.
    except Exception as exc:  # noqa: BLE001
        return str(exc).strip() or type(exc).__name__


def run() -> dict[str, float]:
    """Both databases, each beside its floor: the flat figures for bench/results.json."""
    results: dict[str, float] = {}
    problem = pg_available()
    if problem is None:
        print(f"8-desk race on PostgreSQL ({DESKS} desks x {ATTEMPTS} attempts, {SEATS} seats):")
        results.update(_pair("multidesk_pg", _PgDatabase))
    else:
        print(f"8-desk race on PostgreSQL skipped: {problem}")
    print(f"8-desk race on SQLite ({DESKS} desks x {ATTEMPTS} attempts, {SEATS} seats):")
    results.update(_pair("multidesk_sqlite", _SqliteDatabase))
    return results


if __name__ == "__main__":
    from bench.__main__ import merge_results

    merge_results(run())
