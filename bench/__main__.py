"""`make bench`: build (or reuse) the data set, run every benchmark, merge bench/results.json."""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path

from bench import core, datagen

RESULTS = Path(__file__).resolve().parent / "results.json"
GROUPS = ("stripe", "printing", "core", "checkin", "gui", "multidesk", "registrations")


def merge_results(new: dict[str, float], path: Path = RESULTS) -> dict[str, float]:
    """One flat JSON object: figures of this run replace the same keys, other keys are kept."""
    merged: dict[str, float] = {}
    if path.exists():
        try:
            loaded = json.loads(path.read_text())
            if isinstance(loaded, dict):
                merged.update(loaded)
        except json.JSONDecodeError:
            print(f"{path.name} was not valid JSON; starting a new one", file=sys.stderr)
    merged.update(new)
    path.write_text(json.dumps(dict(sorted(merged.items())), indent=2) + "\n")
    return merged


def print_table(results: dict[str, float]) -> None:
    """Each benchmark: median, p99, floor median and ratio, and the target when there is one."""
    rows = []
    for name in ("availability", "list_products", "checkout", "search", "gui_startup", "gui_orders_open"):
        if f"{name}_p50_ms" not in results:
            continue
        floor_name = "availability" if name == "list_products" else name
        target = core.TARGETS_MS.get(f"{name}_p50_ms")
        rows.append((
            name, results.get(f"{name}_p50_ms"), results.get(f"{name}_p99_ms"),
            results.get(f"{floor_name}_floor_p50_ms"), results.get(f"{name}_ratio_to_floor"),
            target,
        ))
    header = f"{'benchmark':<16}{'p50 ms':>10}{'p99 ms':>10}{'floor p50':>11}{'ratio':>8}{'target p50':>12}"
    print(header)
    print("-" * len(header))
    for name, p50, p99, floor, ratio, target in rows:
        cells = [f"{v:>10.3f}" if isinstance(v, float | int) else f"{'-':>10}" for v in (p50, p99)]
        floor_cell = f"{floor:>11.3f}" if floor is not None else f"{'-':>11}"
        ratio_cell = f"{ratio:>8.2f}" if ratio is not None else f"{'-':>8}"
        target_cell = f"{'<= ' + str(target):>12}" if target else f"{'':>12}"
        print(f"{name:<16}{''.join(cells)}{floor_cell}{ratio_cell}{target_cell}")
    others = {k: v for k, v in results.items() if not any(k.startswith(r[0] + "_p") for r in rows)
              and "_floor_p" not in k and (k.startswith("stripe_") or not k.endswith("_ratio_to_floor"))}
    if others:
        print()
        for key, value in sorted(others.items()):
            print(f"  {key:<40} {value}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--reps", type=int, default=300, help="repetitions per core benchmark")
    parser.add_argument("--only", choices=GROUPS, action="append",
                        help="run only these groups (repeatable)")
    parser.add_argument("--stripe-events", type=int, default=10_000,
                        help="backlog size of the Stripe catch-up benchmark")
    args = parser.parse_args(argv)
    from boxoffice.services.staff.access import SYSTEM, set_operator

    set_operator(SYSTEM)  # benchmarks call the services directly, as the command line does
    groups = args.only or list(GROUPS)
    results: dict[str, float] = {}
    if "stripe" in groups:  # needs no data set: run it first, on a quiet machine
        print(f"stripe benchmarks (catch-up of {args.stripe_events:,} events from the fake Stripe):")
        results.update(run_stripe(args.stripe_events))
    if "printing" in groups:  # needs no data set either: a fresh file with 1,000 attendees
        from bench import printing

        print("printing benchmarks (badges and receipts):")
        results.update(printing.run())
    if "registrations" in groups:  # builds its own web and desk databases on the PostgreSQL server
        from bench import registrations

        print(f"registrations benchmark ({registrations.ORDERS:,} web orders from PostgreSQL):")
        results.update(registrations.run())
    if not set(groups) & {"core", "checkin", "gui", "multidesk"}:
        return finish(results)
    info = datagen.cached()
    if "core" in groups:
        print("core benchmarks (100k orders):")
        results.update(core.run(info, reps=args.reps))
    if "checkin" in groups:
        from bench import checkin

        print("check-in benchmarks (100k orders; the race on PostgreSQL):")
        results.update(checkin.run(info, reps=args.reps))
    for group in ("gui", "multidesk"):
        if group not in groups:
            continue
        try:
            module = importlib.import_module(f"bench.{group}")
        except ImportError as exc:
            print(f"{group} benchmarks skipped: {exc}")
            continue
        print(f"{group} benchmarks:")
        runner = module.run
        results.update(runner(info) if group == "gui" else runner())
    return finish(results)


def run_stripe(events: int) -> dict[str, float]:
    """Stripe catch-up against the bare-client floor (the fake Stripe server lives with the tests)."""
    from tests.fakes import bench_catchup

    figures = bench_catchup.run(events)
    for key, value in figures.items():
        print(f"  {key:<40} {value}")
    return figures


def finish(results: dict[str, float]) -> int:
    merged = merge_results(results)
    print()
    print_table(merged)
    print(f"\nwrote {RESULTS.name} ({len(merged)} figures)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
