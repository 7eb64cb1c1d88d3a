"""The benchmark data generator, at a tiny size, produces consistent data (not a timed test)."""

from __future__ import annotations

import re
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bench.core import floor_remaining, floor_search, raw_connection, sqlite_time
from bench.datagen import BENCH_NOW, REFERENCE_ALPHABET, REFERENCE_PREFIX, DatasetInfo, Scale, build
from boxoffice.db.engine import Database, sqlite_url
from boxoffice.domain.models import Order, OrderLineItem, OrderStatus, Payment, Refund, Voucher
from boxoffice.services.sales.order_state import recount

TINY = Scale(orders=400, ticket_types=12, addons=6, vouchers=5, staff=2)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[DatasetInfo, Database]:
    path: Path = tmp_path_factory.mktemp("bench") / "tiny.sqlite3"
    info = build(path, TINY)
    db = Database(sqlite_url(path))
    yield info, db  # type: ignore[misc]
    db.dispose()


def test_sizes_and_status_mix(tiny: tuple[DatasetInfo, Database]) -> None:
    info, db = tiny
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(Order)) == TINY.orders == info.orders
        assert s.scalar(select(func.count()).select_from(OrderLineItem)) == info.line_items
        statuses = Counter(s.scalars(select(Order.status)))
        live = s.scalar(select(func.count()).select_from(Order).where(
            Order.status == OrderStatus.PENDING, Order.hold_expires_at > BENCH_NOW))
    assert 2 * TINY.orders <= info.line_items <= 3 * TINY.orders
    assert set(statuses) == set(OrderStatus)
    assert statuses[OrderStatus.PAID] > TINY.orders // 2
    assert live == info.status_counts["pending_live"]


def test_inventory_counters_equal_the_recount(tiny: tuple[DatasetInfo, Database]) -> None:
    """CAP-1 / CAT-1: the generator leaves every sold/held counter exact."""
    _, db = tiny
    with db.read() as s:
        assert recount(s) == []


def test_money_balances_to_the_cent(tiny: tuple[DatasetInfo, Database]) -> None:
    _, db = tiny
    with db.read() as s:
        lines: dict[int, Decimal] = {}
        for order_id, line_total in s.execute(select(OrderLineItem.order_id, OrderLineItem.line_total)):
            lines[order_id] = lines.get(order_id, Decimal("0.00")) + line_total
        paid = dict(s.execute(select(Payment.order_id, Payment.amount)).all())
        refunded = dict(s.execute(select(Refund.order_id, Refund.amount)).all())
        for order in s.scalars(select(Order)):
            assert isinstance(order.total, Decimal)
            assert order.total == order.subtotal - order.discount_amount == lines[order.id]
            if order.status in (OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED, OrderStatus.REFUNDED):
                assert paid[order.id] == order.total
            else:
                assert order.id not in paid
            if order.status == OrderStatus.REFUNDED:
                assert refunded[order.id] == order.total
            elif order.status == OrderStatus.PARTIALLY_REFUNDED:
                assert Decimal("0.00") < refunded[order.id] < order.total


def test_references_unique_and_readable(tiny: tuple[DatasetInfo, Database]) -> None:
    _, db = tiny
    pattern = re.compile(rf"^{REFERENCE_PREFIX}-[{REFERENCE_ALPHABET}]{{8}}$")
    with db.read() as s:
        refs = list(s.scalars(select(Order.reference)))
    assert len(set(refs)) == len(refs)
    assert all(pattern.match(r) for r in refs)


def test_voucher_usage_matches_orders(tiny: tuple[DatasetInfo, Database]) -> None:
    """VCH-12: uses = orders carrying the code that were not cancelled."""
    _, db = tiny
    with db.read() as s:
        uses = Counter(s.scalars(select(Order.voucher_code).where(
            Order.voucher_code != "", Order.status != OrderStatus.CANCELLED)))
        for code, times_used in s.execute(select(Voucher.code, Voucher.times_used)):
            assert times_used == uses.get(code, 0)


def test_floor_availability_agrees_with_the_counters(tiny: tuple[DatasetInfo, Database]) -> None:
    """CAT-1: the plain grouped SUM (the availability floor) equals total − sold − held + lapsed."""
    info, _ = tiny
    conn = raw_connection(Path(info.path))
    try:
        floor = floor_remaining(conn, info.conference_id, BENCH_NOW)
        lapsed: Counter[tuple[str, int]] = Counter()
        for tt, ad, units in conn.execute(
            """SELECT li.ticket_type_id, li.addon_id, li.quantity FROM order_line_item li
               JOIN "order" o ON o.id = li.order_id
               WHERE o.status = 'pending' AND o.hold_expires_at <= ?""", (sqlite_time(BENCH_NOW),)):
            lapsed[("addon", ad) if ad is not None else ("ticket", tt)] += units
        expected: dict[tuple[str, int], int | None] = {}
        for kind, table in (("ticket", "ticket_type"), ("addon", "addon")):
            for item_id, total, sold, held in conn.execute(
                    f"SELECT id, total_quantity, sold_quantity, held_quantity FROM {table}"):
                expected[(kind, item_id)] = None if total == 0 else total - sold - held + lapsed[(kind, item_id)]
    finally:
        conn.close()
    assert floor == expected
    assert any(v is None for v in floor.values()) and any(v is not None for v in floor.values())


def test_floor_search_finds_prefixes_in_any_case(tiny: tuple[DatasetInfo, Database]) -> None:
    info, _db = tiny
    conn = raw_connection(Path(info.path))
    try:
        for kind, texts in info.search_samples.items():
            for text in texts:
                rows = floor_search(conn, info.conference_id, text.upper())
                assert rows, (kind, text)
                assert all(
                    any(str(value or "").lower().startswith(text.lower()) for value in (r[1], r[4], r[5], r[6]))
                    for r in rows
                )
    finally:
        conn.close()


def test_stripe_catchup_group_reports_rate_floor_ratio_and_flat_memory() -> None:
    """`make bench` runs the Stripe catch-up (group "stripe"); at a tiny backlog it stores every event."""
    from bench.__main__ import GROUPS, run_stripe

    assert "stripe" in GROUPS
    figures = run_stripe(300)
    assert figures["stripe_catchup_events"] == 300
    assert figures["stripe_catchup_events_per_s"] > 0 and figures["stripe_catchup_floor_events_per_s"] > 0
    ratio = figures["stripe_catchup_events_per_s"] / figures["stripe_catchup_floor_events_per_s"]
    assert abs(figures["stripe_catchup_ratio_to_floor"] - ratio) < 0.01
    assert 0 < figures["stripe_catchup_peak_mib_full"] < 50
