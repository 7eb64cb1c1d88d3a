"""Benchmark: catch up a backlog of Stripe events (a day offline) from the fake server.

Compares the poller (fetch every page, store, apply) with the floor of fetching and ``json``-decoding
the same pages with a bare HTTP client in the same run, and shows that peak memory does not grow
with the backlog. ``python -m tests.fakes.bench_catchup [--events N]``; ``run()`` returns the figures.
"""

from __future__ import annotations

import argparse
import copy
import http.client
import json
import secrets
import tempfile
import time
import tracemalloc
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from boxoffice.db.engine import Database, sqlite_url
from boxoffice.db.migrate import upgrade
from boxoffice.services.context import ServiceContext
from boxoffice.stripe_sync.gateway import StripeGateway
from boxoffice.stripe_sync.handlers import HANDLED_TYPES
from boxoffice.stripe_sync.poller import Poller
from tests.fakes.fake_stripe import FIXTURES, FakeStripe

KEY = "sk_test_fake_4242"


def fill(fake: FakeStripe, count: int) -> None:
    """``count`` events shaped like Stripe's (full PaymentIntent/charge objects), mostly not ours."""
    intent = copy.deepcopy(FIXTURES["payment_intent"])
    charge = copy.deepcopy(FIXTURES["charge"])
    kinds = ("payment_intent.succeeded", "charge.refunded", "payment_intent.payment_failed")
    with fake.lock:
        for n in range(count):
            kind = kinds[n % 3]
            obj = dict(charge if kind == "charge.refunded" else intent, id=f"pi_{secrets.token_hex(8)}")
            fake.emit(kind, obj, created=1_800_000_000 + n // 5)


def floor(url: str, page_size: int) -> tuple[int, float]:
    """Fetch every page with http.client + json.loads: the least any client must do."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    headers = {"Authorization": f"Bearer {KEY}"}
    fetched, after = 0, None
    start = time.perf_counter()
    while True:
        query = [("limit", page_size), ("created[gte]", 0)] + [
            (f"types[{i}]", t) for i, t in enumerate(HANDLED_TYPES)
        ]
        if after:
            query.append(("starting_after", after))
        conn.request("GET", "/v1/events?" + urlencode(query), headers=headers)
        page = json.loads(conn.getresponse().read())
        fetched += len(page["data"])
        if not page["has_more"]:
            break
        after = page["data"][-1]["id"]
    elapsed = time.perf_counter() - start
    conn.close()
    return fetched, elapsed


def catch_up(url: str, workdir: Path, *, trace: bool = False) -> tuple[int, float, int]:
    db_path = workdir / f"bench-{secrets.token_hex(4)}.sqlite3"
    db = Database(sqlite_url(db_path))
    upgrade(db)
    poller = Poller(ServiceContext(db=db), StripeGateway(KEY, api_base=url))
    if trace:
        tracemalloc.start()
    start = time.perf_counter()
    report = poller.poll_once()
    elapsed = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] if trace else 0
    if trace:
        tracemalloc.stop()
    db.dispose()
    assert report.failed == 0 and report.new == report.fetched, report
    return report.fetched, elapsed, peak


def run(events: int = 10_000, page_size: int = 100) -> dict[str, float]:
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        fake = FakeStripe().start()
        try:
            fill(fake, events)
            n_floor, t_floor = floor(fake.url, page_size)
            n_ours, t_ours, _ = catch_up(fake.url, Path(tmp))
        finally:
            fake.stop()
        peaks = {}
        for size in (events // 5, events):  # peak memory with a small and the full backlog
            fake = FakeStripe().start()
            try:
                fill(fake, size)
                peaks[size] = catch_up(fake.url, Path(tmp), trace=True)[2]
            finally:
                fake.stop()
    assert n_floor == n_ours == events
    results["stripe_catchup_events"] = float(events)
    results["stripe_catchup_floor_events_per_s"] = round(n_floor / t_floor, 1)
    results["stripe_catchup_events_per_s"] = round(n_ours / t_ours, 1)
    results["stripe_catchup_ratio_to_floor"] = round((n_ours / t_ours) / (n_floor / t_floor), 3)
    small, full = sorted(peaks)
    results["stripe_catchup_peak_mib_small"] = round(peaks[small] / 2**20, 2)
    results["stripe_catchup_peak_mib_full"] = round(peaks[full] / 2**20, 2)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=10_000)
    args = parser.parse_args()
    for key, value in run(args.events).items():
        print(f"{key:<40} {value}")


if __name__ == "__main__":
    main()
