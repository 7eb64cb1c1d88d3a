"""Timing helpers shared by the benchmarks: repeated measurement, percentiles, SQL statement counts."""

from __future__ import annotations

import gc
import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, event


@dataclass(frozen=True)
class Stats:
    """Milliseconds over ``n`` repetitions."""

    n: int
    p50: float
    p99: float
    mean: float
    best: float


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..1) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[rank - 1]


def stats(samples_ms: list[float]) -> Stats:
    return Stats(
        n=len(samples_ms),
        p50=percentile(samples_ms, 0.5),
        p99=percentile(samples_ms, 0.99),
        mean=sum(samples_ms) / len(samples_ms),
        best=min(samples_ms),
    )


def time_call(fn: Callable[[], Any]) -> float:
    """One call of ``fn`` in milliseconds."""
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000.0


def repeat(fn: Callable[[], Any], *, reps: int, warmup: int = 5) -> Stats:
    """Time ``fn`` ``reps`` times after ``warmup`` untimed calls (garbage collection left on)."""
    for _ in range(warmup):
        fn()
    gc.collect()
    return stats([time_call(fn) for _ in range(reps)])


class StatementCounter:
    """Counts the SQL statements an engine executes (SQLAlchemy cursor events)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.count = 0
        self.statements: list[str] = []

    def _on_execute(self, *args: Any) -> None:
        self.count += 1
        self.statements.append(str(args[2]).split("\n", 1)[0][:120])

    @contextmanager
    def counting(self) -> Iterator[StatementCounter]:
        self.count = 0
        self.statements = []
        event.listen(self.engine, "before_cursor_execute", self._on_execute)
        try:
            yield self
        finally:
            event.remove(self.engine, "before_cursor_execute", self._on_execute)
