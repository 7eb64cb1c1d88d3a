"""Build (and cache) the benchmark database: one conference, its catalogue and 100,000 orders.

The schema comes from the real migrations; rows are written with bulk Core inserts in one
transaction, then the inventory counters are set by the recount so they are exact.
"""

from __future__ import annotations

import json
import random
import shutil
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Table, insert, update
from sqlalchemy.orm import Session

from bench import names
from boxoffice.db.engine import Database, sqlite_url
from boxoffice.db.migrate import head_revision, upgrade
from boxoffice.domain import models as m
from boxoffice.domain.attendee_rules import ACCESS_CODE_ALPHABET, guest_name, search_words
from boxoffice.services.sales.order_state import repair_counters
from boxoffice.timeutil import UTC

GENERATOR_VERSION = 2
BENCH_NOW = datetime(2027, 5, 1, 12, 0, tzinfo=UTC)
BENCH_VOUCHER = "BENCH10"
REFERENCE_PREFIX = "PY77"
REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O/1/I: easy to read aloud
CACHE_DIR = Path(__file__).resolve().parent / ".cache"
BENCH_SLACK = 1_000_000  # stock left on the items the checkout benchmark sells

# Order status mix (weights): mostly paid, some pending with live/lapsed holds, the rest closed.
# Lapsed holds are few (~100): every checkout sweeps them (CHK-1), so only those that lapsed
# since the last sale remain.
STATUS_MIX: tuple[tuple[str, float], ...] = (
    ("paid", 0.829),
    ("partially_refunded", 0.03),
    ("refunded", 0.03),
    ("cancelled", 0.08),
    ("pending_live", 0.03),
    ("pending_lapsed", 0.001),
)


@dataclass(frozen=True)
class Scale:
    orders: int = 100_000
    ticket_types: int = 300
    addons: int = 100
    vouchers: int = 40
    staff: int = 6


FULL = Scale()


@dataclass
class DatasetInfo:
    """What the benchmarks need to know about a generated database."""

    path: str
    conference_id: int
    orders: int
    line_items: int
    customers: int
    payments: int
    refunds: int
    status_counts: dict[str, int]
    bench_ticket_type_ids: list[int]
    bench_addon_id: int
    voucher_code: str
    reference_prefix: str
    build_seconds: float
    search_samples: dict[str, list[str]] = field(default_factory=dict)


def _cents(value: int) -> Decimal:
    return Decimal(value).scaleb(-2)


def _pct_discount(line_cents: int, pct: int) -> int:
    """Half-up rounding of line × pct / 100 in integer cents (PRC-5)."""
    return (line_cents * pct + 50) // 100


class _Generator:
    def __init__(self, scale: Scale, seed: int, now: datetime) -> None:
        self.scale = scale
        self.rng = random.Random(seed)
        self.now = now
        self.rows: dict[str, list[dict[str, Any]]] = {}
        self.status_counts: Counter[str] = Counter()

    def add(self, table: str, row: dict[str, Any]) -> None:
        self.rows.setdefault(table, []).append(row)

    # ------------------------------------------------------------------ catalogue
    def catalogue(self) -> None:
        rng, now, s = self.rng, self.now, self.scale
        stamp = {"created_at": now - timedelta(days=200), "updated_at": now - timedelta(days=200)}
        self.add("conference", dict(
            id=1, name="Python 2077", slug="python-2077", timezone="America/New_York", currency="USD",
            total_capacity=0, is_active=True, start_date="2027-05-14", end_date="2027-05-22",
            venue="Pittsburgh Convention Center", website_url="https://python2077.dev/",
            reference_prefix=REFERENCE_PREFIX, cart_expiry_minutes=30, hold_minutes=15,
            stripe_publishable_key="", tickets_sold=0, tickets_held=0, **stamp,
        ))
        for i in range(1, s.staff + 1):
            self.add("staff", dict(id=i, name=f"Volunteer {i}", is_active=True, **stamp))
        self.ticket_weight: list[float] = []
        self.ticket_price: dict[int, int] = {}
        self.ticket_name: dict[int, str] = {}
        self.limited: dict[tuple[str, int], bool] = {}
        for i in range(1, s.ticket_types + 1):
            bench = i <= 2
            kind = names.TICKET_KINDS[(i - 1) % len(names.TICKET_KINDS)]
            name = f"{kind} {i}"
            roll = rng.random()
            available_from = available_until = None
            is_active, requires_voucher = True, False
            if not bench:
                if roll < 0.03:
                    is_active = False
                elif roll < 0.06:
                    available_until = now - timedelta(days=rng.randint(1, 60))
                elif roll < 0.09:
                    available_from = now + timedelta(days=rng.randint(1, 30))
                elif roll < 0.14:
                    requires_voucher = True
                elif roll < 0.5:
                    available_from = now - timedelta(days=rng.randint(30, 200))
                    available_until = now + timedelta(days=rng.randint(5, 20))
            price = 0 if (not bench and rng.random() < 0.03) else rng.choice(
                (2500, 4900, 9900, 14900, 19900, 29900, 39900, 59900, 79900, 99900, 149900))
            self.ticket_price[i], self.ticket_name[i] = price, name
            self.limited[("ticket", i)] = bench or rng.random() < 0.6
            self.ticket_weight.append(0.0 if available_from and available_from > now else 1.0 / i ** 0.8)
            self.add("ticket_type", dict(
                id=i, conference_id=1, name=name, slug=f"ticket-{i}", description=f"{kind} admission",
                price=_cents(price), available_from=available_from, available_until=available_until,
                total_quantity=0, limit_per_user=10, requires_voucher=requires_voucher,
                is_active=is_active, order=i, sold_quantity=0, held_quantity=0, **stamp,
            ))
        self.addon_price: dict[int, int] = {}
        self.addon_name: dict[int, str] = {}
        self.free_addons: list[int] = []
        self.addons_for_ticket: dict[int, list[int]] = {}
        for i in range(1, s.addons + 1):
            kind = names.ADDON_KINDS[(i - 1) % len(names.ADDON_KINDS)]
            name = f"{kind} {i}"
            price = rng.choice((500, 1500, 2500, 3500, 4900, 9900, 19900))
            self.addon_price[i], self.addon_name[i] = price, name
            self.limited[("addon", i)] = i == 1 or rng.random() < 0.5
            if i > 1 and rng.random() < 0.3:
                for tt in rng.sample(range(1, s.ticket_types + 1), rng.randint(1, 4)):
                    self.add("addon_requires_ticket_type", {"addon_id": i, "ticket_type_id": tt})
                    self.addons_for_ticket.setdefault(tt, []).append(i)
            else:
                self.free_addons.append(i)
            self.add("addon", dict(
                id=i, conference_id=1, name=name, slug=f"addon-{i}", description=f"{kind} extra",
                price=_cents(price), available_from=None, available_until=None, total_quantity=0,
                is_active=True, order=i, sold_quantity=0, held_quantity=0, **stamp,
            ))
        self.vouchers: list[tuple[int, str, str, int]] = []
        for i in range(1, s.vouchers + 1):
            if i == 1:
                code, vtype, value, max_uses = BENCH_VOUCHER, "percentage", 10, 10_000_000
            else:
                vtype = "comp" if i % 10 == 0 else "percentage"
                value = 100 if vtype == "comp" else rng.choice((5, 10, 15, 20, 25, 50))
                code = f"{rng.choice(('SPRING', 'SPEAKER', 'PARTNER', 'EARLY', 'GROUP'))}{i:03d}"
                max_uses = 100_000
            self.vouchers.append((i, code, vtype, value))
            self.add("voucher", dict(
                id=i, conference_id=1, code=code, voucher_type=vtype, discount_value=Decimal(value),
                max_uses=max_uses, times_used=0, valid_from=None, valid_until=None,
                unlocks_hidden_tickets=i % 4 == 0, is_active=True, **stamp,
            ))

    # ------------------------------------------------------------------ people
    def _new_customer(self, anonymous: bool, created_at: datetime) -> tuple[int, str, str | None, str]:
        rng = self.rng
        cid = len(self.rows.get("customer", ())) + 1
        if anonymous:
            name, email, company = "", None, ""
        else:
            first, last = rng.choice(names.FIRST_NAMES), rng.choice(names.LAST_NAMES)
            name = f"{first} {last}"
            email = f"{first}.{last}{rng.randint(1, 999)}@{rng.choice(names.EMAIL_DOMAINS)}".lower()
            company = "" if rng.random() < 0.35 else (
                f"{rng.choice(names.COMPANY_HEADS)} {rng.choice(names.COMPANY_TAILS)}")
        self.add("customer", {
            "id": cid, "name": name, "email": email, "company": company, "is_anonymous": anonymous,
            "created_at": created_at, "updated_at": created_at,
        })
        return cid, name, email, company

    def _attendees(self, oid: int, cid: int, name: str, email: str, company: str,
                   ticket_lines: list[tuple[int, int, int]], status: str, created: datetime,
                   codes: set[str]) -> None:
        """One attendee per ticket unit (the buyer first, then guests), with its search words."""
        position = 0
        for line_id, ticket_type_id, quantity in ticket_lines:
            for unit in range(1, quantity + 1):
                position += 1
                while True:
                    code = "".join(self.rng.choices(ACCESS_CODE_ALPHABET, k=8))
                    if code not in codes:
                        codes.add(code)
                        break
                first = position == 1
                holder = (name, email, company) if first else (guest_name(position - 1, name), "", "")
                attendee_id = len(codes)
                self.add("attendee", {
                    "id": attendee_id, "conference_id": 1, "order_id": oid, "order_line_id": line_id,
                    "unit": unit, "ticket_type_id": ticket_type_id, "customer_id": cid if first else None,
                    "name": holder[0], "email": holder[1], "company": holder[2], "access_code": code,
                    "status": status, "note": "", "renamed_at_desk": False, "source_system": "",
                    "source_id": "", "created_at": created, "updated_at": created,
                })
                for word in sorted(search_words(*holder)):
                    self.add("attendee_word", {"conference_id": 1, "word": word, "attendee_id": attendee_id})

    # ------------------------------------------------------------------ orders
    def orders(self) -> None:
        rng, now, n = self.rng, self.now, self.scale.orders
        statuses = [k for k, _ in STATUS_MIX]
        weights = [w for _, w in STATUS_MIX]
        ticket_ids = list(range(1, self.scale.ticket_types + 1))
        known: list[tuple[int, str, str | None, str]] = []
        references: set[str] = set()
        line_id = payment_id = refund_id = 0
        codes: set[str] = set()
        voucher_uses: Counter[int] = Counter()
        span = timedelta(days=180)
        for oid in range(1, n + 1):
            kind = rng.choices(statuses, weights)[0]
            created = now - span + span * (oid / (n + 1))
            hold = None
            if kind == "pending_live":
                created = now - timedelta(minutes=rng.uniform(0.5, 14.5))
                hold = created + timedelta(minutes=15)
            elif kind == "pending_lapsed":
                created = now - timedelta(minutes=rng.uniform(16, 45))
                hold = created + timedelta(minutes=15)
            status = "pending" if kind.startswith("pending") else kind
            self.status_counts[kind] += 1
            if rng.random() < 0.05:
                customer = self._new_customer(True, created)
            elif known and rng.random() < 0.3:
                customer = rng.choice(known)
            else:
                customer = self._new_customer(False, created)
                known.append(customer)
            cid, name, email, company = customer
            # lines: one or two ticket types, then add-ons the tickets allow
            tickets = set(rng.choices(ticket_ids, self.ticket_weight, k=1 if rng.random() < 0.9 else 2))
            lines: list[tuple[str, int, int]] = []
            ticket_lines: list[tuple[int, int, int]] = []
            for tt in sorted(tickets):
                lines.append(("ticket", tt, rng.choice((1, 1, 1, 1, 1, 1, 1, 2, 2, 3))))
            allowed = list(self.free_addons)
            for tt in tickets:
                allowed.extend(self.addons_for_ticket.get(tt, ()))
            for ad in sorted(set(rng.sample(allowed, min(len(allowed), rng.choice((0, 1, 1, 1, 2, 2, 3)))))):
                lines.append(("addon", ad, 1))
            voucher = self.vouchers[rng.randrange(1, len(self.vouchers))] if rng.random() < 0.12 else None
            subtotal = discount = 0
            for what, pid, qty in lines:
                unit = self.ticket_price[pid] if what == "ticket" else self.addon_price[pid]
                line = unit * qty
                off = 0 if voucher is None else (line if voucher[2] == "comp" else _pct_discount(line, voucher[3]))
                subtotal, discount = subtotal + line, discount + off
                line_id += 1
                if what == "ticket":
                    ticket_lines.append((line_id, pid, qty))
                self.add("order_line_item", {
                    "id": line_id, "order_id": oid, "quantity": qty, "unit_price": _cents(unit),
                    "description": self.ticket_name[pid] if what == "ticket" else self.addon_name[pid],
                    "discount_amount": _cents(off), "line_total": _cents(line - off),
                    "ticket_type_id": pid if what == "ticket" else None,
                    "addon_id": pid if what == "addon" else None, "created_at": created,
                })
            total = subtotal - discount
            if status in ("refunded", "partially_refunded") and total < 2:
                status = "paid"
            if voucher is not None and status != "cancelled":
                voucher_uses[voucher[0]] += 1
            while True:
                reference = f"{REFERENCE_PREFIX}-" + "".join(rng.choices(REFERENCE_ALPHABET, k=8))
                if reference not in references:
                    references.add(reference)
                    break
            self.add("order", {
                "id": oid, "conference_id": 1, "customer_id": cid, "status": status,
                "subtotal": _cents(subtotal), "discount_amount": _cents(discount), "total": _cents(total),
                "voucher_code": voucher[1] if voucher else "",
                "voucher_details": f"{voucher[2]} {voucher[3]}" if voucher else "",
                "billing_name": name, "billing_email": email or "", "billing_company": company,
                "reference": reference, "hold_expires_at": hold, "needs_attention": "", "disputed": False,
                "created_at": created, "updated_at": created,
            })
            self.add("cart", {
                "id": oid, "customer_id": cid, "conference_id": 1, "status": "checked_out",
                "voucher_id": voucher[0] if voucher else None, "expires_at": None,
                "created_at": created, "updated_at": created,
            })
            if status in ("paid", "partially_refunded", "refunded"):
                self._attendees(oid, cid, name, email or "", company, ticket_lines,
                                "void" if status == "refunded" else "valid", created, codes)
                payment_id += 1
                method = "comp" if total == 0 else rng.choices(
                    ("cash", "stripe", "terminal", "manual"), (0.4, 0.3, 0.2, 0.1))[0]
                tendered = None
                if method == "cash":
                    tendered = ((total + 999) // 1000) * 1000
                self.add("payment", {
                    "id": payment_id, "order_id": oid, "method": method, "status": "succeeded",
                    "amount": _cents(total),
                    "stripe_payment_intent_id": f"pi_bench{oid}" if method in ("stripe", "terminal") else "",
                    "stripe_charge_id": f"ch_bench{oid}" if method in ("stripe", "terminal") else "",
                    "reference": "", "note": "", "created_by_id": rng.randint(1, self.scale.staff),
                    "created_at": created, "amount_tendered": None if tendered is None else _cents(tendered),
                    "change_given": _cents(0 if tendered is None else tendered - total), "credit_id": None,
                    "idempotency_key": None, "card_brand": "visa" if method == "terminal" else "",
                    "card_last4": "4242" if method == "terminal" else "", "failure_reason": "",
                })
                if status != "paid":
                    refund_id += 1
                    amount = total if status == "refunded" else rng.randint(1, total - 1)
                    self.add("refund", {
                        "id": refund_id, "order_id": oid, "payment_id": payment_id, "amount": _cents(amount),
                        "method": "card" if method in ("stripe", "terminal") else "cash",
                        "status": "succeeded", "stripe_refund_id": f"re_bench{oid}" if method in (
                            "stripe", "terminal") else "",
                        "idempotency_key": None, "reason": "Requested at the desk", "credit_id": None,
                        "created_by_id": rng.randint(1, self.scale.staff),
                        "created_at": created + timedelta(days=1),
                    })
        for row in self.rows["voucher"]:
            row["times_used"] = voucher_uses[row["id"]]


_INSERT_ORDER = (
    "conference", "staff", "ticket_type", "addon", "addon_requires_ticket_type", "voucher", "customer",
    "order", "order_line_item", "cart", "payment", "refund", "attendee", "attendee_word",
)


def _set_stock(conn: Connection, gen: _Generator) -> None:
    """Give every limited item a total above its recounted sold+held (a few left exactly sold out)."""
    rng = gen.rng
    for what, model in (("ticket", m.TicketType), ("addon", m.AddOn)):
        table: Table = model.__table__  # type: ignore[assignment]
        for item_id, sold, held in conn.execute(
            table.select().with_only_columns(table.c.id, table.c.sold_quantity, table.c.held_quantity)
        ):
            if not gen.limited[(what, item_id)]:
                continue
            bench = (what == "ticket" and item_id <= 2) or (what == "addon" and item_id == 1)
            slack = BENCH_SLACK if bench else (0 if rng.random() < 0.05 else rng.randint(5, 400))
            conn.execute(update(table).where(table.c.id == item_id).values(total_quantity=sold + held + slack))
    conf = m.Conference.__table__
    row = conn.execute(conf.select().with_only_columns(conf.c.tickets_sold, conf.c.tickets_held)).one()
    conn.execute(update(conf).values(total_capacity=row[0] + row[1] + 10 * BENCH_SLACK))


def _search_samples(gen: _Generator) -> dict[str, list[str]]:
    """Prefixes a volunteer would type: a reference start, a name start, an email start, a company."""
    rng = random.Random(7)
    orders = [o for o in gen.rows["order"] if o["billing_email"]]
    picks = rng.sample(orders, 40)
    return {
        "reference": [o["reference"][: len(REFERENCE_PREFIX) + 4].lower() for o in picks[:10]],
        "name": [o["billing_name"][:4] for o in picks[10:20]],
        "email": [o["billing_email"][:9] for o in picks[20:30]],
        "company": [(o["billing_company"] or "Acme")[:5] for o in picks[30:40]],
    }


def build(path: Path, scale: Scale = FULL, *, seed: int = 2077, now: datetime = BENCH_NOW) -> DatasetInfo:
    """Create a fresh database at ``path`` (overwritten) holding the generated data set."""
    started = time.perf_counter()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    db = Database(sqlite_url(path))
    try:
        upgrade(db)
        gen = _Generator(scale, seed, now)
        gen.catalogue()
        gen.orders()
        with db.engine.begin() as conn:
            for name in _INSERT_ORDER:
                rows = gen.rows.get(name)
                if rows:
                    conn.execute(insert(m.Base.metadata.tables[name]), rows)
        with Session(db.engine) as session, session.begin():
            repair_counters(session)
        with db.engine.begin() as conn:
            _set_stock(conn, gen)
        with db.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.dispose()
    return DatasetInfo(
        path=str(path), conference_id=1, orders=len(gen.rows["order"]),
        line_items=len(gen.rows["order_line_item"]), customers=len(gen.rows["customer"]),
        payments=len(gen.rows.get("payment", ())), refunds=len(gen.rows.get("refund", ())),
        status_counts=dict(gen.status_counts), bench_ticket_type_ids=[1, 2], bench_addon_id=1,
        voucher_code=BENCH_VOUCHER, reference_prefix=REFERENCE_PREFIX,
        build_seconds=round(time.perf_counter() - started, 2), search_samples=_search_samples(gen),
    )


def cached(scale: Scale = FULL, *, log: Any = print) -> DatasetInfo:
    """The generated database for ``scale``, built once and kept under bench/.cache/."""
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    probe = Database("sqlite://")
    try:
        head = head_revision(probe)
    finally:
        probe.dispose()
    key = f"v{GENERATOR_VERSION}-{head}-{scale.orders}-{scale.ticket_types}-{scale.addons}"
    path, meta = CACHE_DIR / f"bench-{key}.sqlite3", CACHE_DIR / f"bench-{key}.json"
    if path.exists() and meta.exists():
        return DatasetInfo(**json.loads(meta.read_text()))
    for stale in CACHE_DIR.glob("bench-v*"):
        if stale.stem != f"bench-{key}":
            stale.unlink()  # an older generator version or schema
    log(f"building the benchmark database ({scale.orders:,} orders) ...")
    tmp = path.with_suffix(".building")
    info = build(tmp, scale)
    shutil.move(tmp, path)
    info.path = str(path)
    meta.write_text(json.dumps(asdict(info), indent=1))
    log(f"built in {info.build_seconds:.1f} s: {info.line_items:,} line items, {info.customers:,} customers")
    return info


def working_copy(info: DatasetInfo, name: str) -> Path:
    """A disposable copy of the cached database, so benchmarks never alter the cache."""
    target = CACHE_DIR / f"work-{name}.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(info.path, target)
    return target
