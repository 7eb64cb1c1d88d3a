"""Service benchmarks on the 100k-order database, each beside its floor measured in the same run.

- availability: CatalogService.remaining_all / list_products vs a plain grouped SUM over consuming
  orders' lines with the best indexes for it;
- checkout: a 3-item cart with a voucher, CheckoutService.checkout vs the same rows written with raw
  sqlite3 (WAL, synchronous=FULL, one IMMEDIATE transaction);
- search: OrderService.search (prefix, limit 50) vs a raw indexed lookup.
"""

from __future__ import annotations

import itertools
import sqlite3
import time
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

from bench.datagen import BENCH_NOW, DatasetInfo, working_copy
from bench.timing import StatementCounter, Stats, repeat, stats, time_call
from boxoffice.db.engine import Database, sqlite_url
from boxoffice.services.context import ServiceContext
from boxoffice.timeutil import FixedClock

Results = dict[str, float]
Log = Callable[[str], None]

TARGETS_MS = {"availability_p50_ms": 10.0, "checkout_p50_ms": 3.0, "checkout_p99_ms": 10.0,
              "search_p50_ms": 2.0, "gui_orders_open_p50_ms": 300.0}

# The indexes the plain aggregate would want (created for the floor only, dropped afterwards).
FLOOR_INDEXES = (
    'CREATE INDEX IF NOT EXISTS bench_floor_order ON "order" (conference_id, status, hold_expires_at)',
    (
        "CREATE INDEX IF NOT EXISTS bench_floor_line ON order_line_item "
        "(order_id, ticket_type_id, addon_id, quantity)"
    ),
)
FLOOR_AGGREGATE = """
SELECT li.ticket_type_id, li.addon_id, SUM(li.quantity)
FROM "order" o JOIN order_line_item li ON li.order_id = o.id
WHERE o.conference_id = ?
  AND (o.status IN ('paid', 'partially_refunded') OR (o.status = 'pending' AND o.hold_expires_at > ?))
GROUP BY li.ticket_type_id, li.addon_id
"""


def sqlite_time(value: Any) -> str:
    """A datetime as SQLAlchemy stores it in SQLite (naive UTC ISO text with microseconds)."""
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")


def raw_connection(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, timeout=5.0)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    return conn


def floor_remaining(conn: sqlite3.Connection, conference_id: int, now: Any) -> dict[tuple[str, int], int | None]:
    """CAT-1 the plain way: totals minus a grouped SUM over consuming orders' lines."""
    consumed: dict[tuple[str, int], int] = {}
    for ticket_type_id, addon_id, units in conn.execute(FLOOR_AGGREGATE, (conference_id, sqlite_time(now))):
        if addon_id is not None:
            consumed[("addon", addon_id)] = units
        elif ticket_type_id is not None:
            consumed[("ticket", ticket_type_id)] = units
    result: dict[tuple[str, int], int | None] = {}
    for kind, table in (("ticket", "ticket_type"), ("addon", "addon")):
        for item_id, total in conn.execute(f"SELECT id, total_quantity FROM {table} WHERE conference_id = ?",
                                           (conference_id,)):
            result[(kind, item_id)] = None if total == 0 else total - consumed.get((kind, item_id), 0)
    return result


def _ratio(value: float, floor: float) -> float:
    return round(value / floor, 2) if floor > 0 else 0.0


def _put(results: Results, name: str, s: Stats) -> None:
    results[f"{name}_p50_ms"] = round(s.p50, 3)
    results[f"{name}_p99_ms"] = round(s.p99, 3)


# --------------------------------------------------------------------------- availability


def bench_availability(info: DatasetInfo, ctx: ServiceContext, path: Path, reps: int, log: Log) -> Results:
    from boxoffice.services.sales.catalog import CatalogService

    catalog = CatalogService(ctx)
    conf, now = info.conference_id, ctx.clock.now()
    out: Results = {}
    conn = raw_connection(path)
    try:
        for ddl in FLOOR_INDEXES:
            conn.execute(ddl)
        floor = repeat(lambda: floor_remaining(conn, conf, now), reps=max(20, reps // 5), warmup=2)
        expected = floor_remaining(conn, conf, now)
        for ddl in FLOOR_INDEXES:
            conn.execute(f"DROP INDEX {ddl.split('EXISTS ')[1].split(' ')[0]}")
    finally:
        conn.close()
    counter = StatementCounter(ctx.db.engine)
    with counter.counting():
        got = catalog.remaining_all(conf)
    out["availability_sql_statements"] = counter.count
    out["availability_matches_floor"] = 1.0 if got == expected else 0.0
    if got != expected:
        wrong = [k for k in expected if got.get(k) != expected[k]][:5]
        log(f"  ! remaining_all differs from the recount for {wrong}: "
            f"{[(got.get(k), expected[k]) for k in wrong]}")
    service = repeat(lambda: catalog.remaining_all(conf), reps=reps)
    listing = repeat(lambda: catalog.list_products(conf), reps=max(50, reps // 2))
    with counter.counting():
        catalog.list_products(conf)
    out["list_products_sql_statements"] = counter.count
    _put(out, "availability", service)
    _put(out, "availability_floor", floor)
    out["availability_ratio_to_floor"] = _ratio(service.p50, floor.p50)
    _put(out, "list_products", listing)
    out["list_products_ratio_to_floor"] = _ratio(listing.p50, floor.p50)
    return out


# --------------------------------------------------------------------------- search


def floor_search(conn: sqlite3.Connection, conference_id: int, text: str, limit: int = 50) -> list[Any]:
    """The raw indexed lookup: prefix ranges on the lower(...) indexes and the reference index."""
    lo = text.strip().lower()
    hi = lo[:-1] + chr(ord(lo[-1]) + 1)
    return conn.execute(
        """SELECT id, reference, status, customer_id, billing_name, billing_email, billing_company,
                  subtotal, discount_amount, total, created_at, hold_expires_at
           FROM "order" WHERE id IN (
               SELECT id FROM "order" WHERE lower(billing_email) >= ?1 AND lower(billing_email) < ?2
               UNION SELECT id FROM "order" WHERE lower(billing_name) >= ?1 AND lower(billing_name) < ?2
               UNION SELECT id FROM "order" WHERE lower(billing_company) >= ?1 AND lower(billing_company) < ?2
               UNION SELECT id FROM "order" WHERE reference >= upper(?1) AND reference < upper(?2))
             AND conference_id + 0 = ?3
           ORDER BY created_at DESC, id DESC LIMIT ?4""",
        (lo, hi, conference_id, limit),
    ).fetchall()


def bench_search(info: DatasetInfo, ctx: ServiceContext, path: Path, reps: int, log: Log) -> Results:
    from boxoffice.services.sales.orders import OrderService

    orders = OrderService(ctx)
    conf = info.conference_id
    texts = [t for kind in ("reference", "name", "email", "company") for t in info.search_samples[kind]]
    cycle_service, cycle_floor = itertools.cycle(texts), itertools.cycle(texts)
    conn = raw_connection(path)
    out: Results = {}
    try:
        floor = repeat(lambda: floor_search(conn, conf, next(cycle_floor)), reps=reps)
        mismatched = []
        for text in texts:
            got = [o.id for o in orders.search(conf, text, limit=50)]
            want = [row[0] for row in floor_search(conn, conf, text)]
            if got != want:
                mismatched.append(text)
        if mismatched:
            log(f"  ! search results differ from the raw lookup for {mismatched[:5]}")
        out["search_matches_floor"] = 0.0 if mismatched else 1.0
    finally:
        conn.close()
    service = repeat(lambda: orders.search(conf, next(cycle_service), limit=50), reps=reps)
    per_kind: dict[str, list[float]] = {}
    for kind in ("reference", "name", "email", "company"):
        per_kind[kind] = [time_call(lambda t=t: orders.search(conf, t, limit=50))
                          for t in info.search_samples[kind] * 5]
        out[f"search_{kind}_p50_ms"] = round(stats(per_kind[kind]).p50, 3)
    counter = StatementCounter(ctx.db.engine)
    with counter.counting():
        orders.search(conf, texts[len(texts) // 2], limit=50)
    out["search_sql_statements"] = counter.count
    _put(out, "search", service)
    _put(out, "search_floor", floor)
    out["search_ratio_to_floor"] = _ratio(service.p50, floor.p50)
    return out


# --------------------------------------------------------------------------- checkout


class _RawCheckout:
    """The rows one 3-item voucher checkout writes, written with raw sqlite3 in one transaction."""

    def __init__(self, conn: sqlite3.Connection, info: DatasetInfo, now: Any) -> None:
        self.conn, self.info, self.now = conn, info, sqlite_time(now)
        self.hold = sqlite_time(now + timedelta(minutes=15))
        self.seq = itertools.count(1)
        prices = {}
        for kind, table, item_id in (("ticket", "ticket_type", info.bench_ticket_type_ids[0]),
                                     ("ticket", "ticket_type", info.bench_ticket_type_ids[1]),
                                     ("addon", "addon", info.bench_addon_id)):
            name, price = conn.execute(f"SELECT name, price FROM {table} WHERE id = ?", (item_id,)).fetchone()
            prices[(kind, item_id)] = (name, Decimal(str(price)).quantize(Decimal("0.01")))
        self.prices = prices

    def prepare(self) -> int:
        """An anonymous customer and an open cart for the next raw checkout (not timed)."""
        c = self.conn
        c.execute("BEGIN IMMEDIATE")
        cur = c.execute("INSERT INTO customer (name, email, company, is_anonymous, created_at, updated_at) "
                        "VALUES ('', NULL, '', 1, ?, ?)", (self.now, self.now))
        customer_id = cur.lastrowid
        cur = c.execute("INSERT INTO cart (customer_id, conference_id, status, voucher_id, expires_at, "
                        "created_at, updated_at) VALUES (?, ?, 'open', 1, ?, ?, ?)",
                        (customer_id, self.info.conference_id, self.now, self.now, self.now))
        c.execute("COMMIT")
        return int(cur.lastrowid or 0)

    def checkout(self, cart_id: int) -> None:
        c, now = self.conn, self.now
        lines = []
        subtotal = discount = Decimal("0.00")
        for (kind, item_id), (name, price) in self.prices.items():
            off = (price * Decimal("0.10")).quantize(Decimal("0.01"))
            lines.append((kind, item_id, name, price, off))
            subtotal, discount = subtotal + price, discount + off
        c.execute("BEGIN IMMEDIATE")
        customer_id = c.execute("SELECT customer_id FROM cart WHERE id = ?", (cart_id,)).fetchone()[0]
        cur = c.execute(
            'INSERT INTO "order" (conference_id, customer_id, status, subtotal, discount_amount, total, '
            "voucher_code, voucher_details, billing_name, billing_email, billing_company, reference, "
            "hold_expires_at, needs_attention, disputed, created_at, updated_at) "
            "VALUES (?, ?, 'pending', ?, ?, ?, ?, '', '', '', '', ?, ?, '', 0, ?, ?)",
            (self.info.conference_id, customer_id, float(subtotal), float(discount),
             float(subtotal - discount), self.info.voucher_code, f"RAW-{next(self.seq):08d}", self.hold,
             now, now),
        )
        order_id = cur.lastrowid
        c.executemany(
            "INSERT INTO order_line_item (order_id, description, quantity, unit_price, discount_amount, "
            "line_total, ticket_type_id, addon_id, created_at) VALUES (?, ?, 1, ?, ?, ?, ?, ?, ?)",
            [(order_id, name, float(price), float(off), float(price - off),
              item_id if kind == "ticket" else None, item_id if kind == "addon" else None, now)
             for kind, item_id, name, price, off in lines],
        )
        for kind, item_id, *_ in lines:
            table = "ticket_type" if kind == "ticket" else "addon"
            c.execute(f"UPDATE {table} SET held_quantity = held_quantity + 1 WHERE id = ?", (item_id,))
        c.execute("UPDATE conference SET tickets_held = tickets_held + 2 WHERE id = ?", (self.info.conference_id,))
        c.execute("UPDATE voucher SET times_used = times_used + 1 WHERE id = 1")
        c.execute("UPDATE cart SET status = 'checked_out', updated_at = ? WHERE id = ?", (now, cart_id))
        c.execute("COMMIT")


def bench_checkout(info: DatasetInfo, ctx: ServiceContext, path: Path, reps: int, log: Log) -> Results:
    from boxoffice.services.sales.cart import CartService
    from boxoffice.services.sales.checkout import CheckoutService

    carts, checkout = CartService(ctx), CheckoutService(ctx)
    conf = info.conference_id
    t1, t2 = info.bench_ticket_type_ids

    def prepare() -> int:
        cart = carts.new_walkup_cart(conf)
        carts.add_ticket(cart.id, t1)
        carts.add_ticket(cart.id, t2)
        carts.add_addon(cart.id, info.bench_addon_id)
        cart = carts.apply_voucher(cart.id, info.voucher_code)
        assert len(cart.lines) == 3 and cart.discount > 0, cart
        return cart.id

    out: Results = {}
    # The first checkout sweeps the data set's lapsed holds (CHK-1); reported on its own.
    first_cart = prepare()
    started = time.perf_counter()
    checkout.checkout(first_cart)
    out["checkout_first_with_sweep_ms"] = round((time.perf_counter() - started) * 1000, 1)

    conn = raw_connection(path)
    raw = _RawCheckout(conn, info, ctx.clock.now())
    counter = StatementCounter(ctx.db.engine)
    service_ms: list[float] = []
    floor_ms: list[float] = []
    try:
        for i in range(reps + 5):
            cart_id, raw_cart = prepare(), raw.prepare()
            if i == 0:
                with counter.counting():
                    elapsed = time_call(partial(checkout.checkout, cart_id))
                out["checkout_sql_statements"] = counter.count
            else:
                elapsed = time_call(partial(checkout.checkout, cart_id))
            raw_elapsed = time_call(partial(raw.checkout, raw_cart))
            if i >= 5:  # the first few are warm-up
                service_ms.append(elapsed)
                floor_ms.append(raw_elapsed)
    finally:
        conn.close()
    service, floor = stats(service_ms), stats(floor_ms)
    _put(out, "checkout", service)
    _put(out, "checkout_floor", floor)
    out["checkout_ratio_to_floor"] = _ratio(service.p50, floor.p50)
    return out


# --------------------------------------------------------------------------- entry point


def run(info: DatasetInfo, *, reps: int = 300, log: Log = print) -> Results:
    """Run the three core benchmarks on a fresh copy of the generated database."""
    path = working_copy(info, "core")
    db = Database(sqlite_url(path))
    ctx = ServiceContext(db=db, clock=FixedClock(BENCH_NOW), desk_name="Bench")
    results: Results = {}
    try:
        for name, bench in (("availability", bench_availability), ("search", bench_search),
                            ("checkout", bench_checkout)):
            log(f"- {name} ...")
            try:
                results.update(bench(info, ctx, path, reps, log))
            except ImportError as exc:
                log(f"  skipped: {exc}")
    finally:
        db.dispose()
    return results
