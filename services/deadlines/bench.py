"""`mailbox bench deadlines`: one function per measurement, merged into one JSON object."""

from __future__ import annotations

import random
import statistics
import time
from datetime import UTC, datetime, timedelta, timezone

from services.deadlines.calendar import WorkingCalendar

# Starts spread over the years the service will hold, including one not yet confirmed.
BENCH_FIRST_START = datetime(2019, 1, 1, tzinfo=UTC)
BENCH_LAST_START = datetime(2027, 12, 31, 23, 59, 59, tzinfo=UTC)
BENCH_MAX_WORKING_DAYS = 15
# Platforms send instants in UTC or local time; both go through the conversion.
_OFFSETS = (UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-5)))

Figures = dict[str, float | int]


def _random_requests(*, count: int, seed: int) -> list[tuple[datetime, int]]:
    rng = random.Random(seed)  # noqa: S311 - reproducible benchmark inputs, not secrets
    span_s = int((BENCH_LAST_START - BENCH_FIRST_START).total_seconds())
    return [
        (
            (BENCH_FIRST_START + timedelta(seconds=rng.randrange(span_s))).astimezone(
                rng.choice(_OFFSETS)
            ),
            rng.randint(1, BENCH_MAX_WORKING_DAYS),
        )
        for _ in range(count)
    ]


def computations(*, count: int, rounds: int, seed: int) -> Figures:
    """Deadline computations per second on one core, from a calendar built once."""
    build_started = time.perf_counter()
    calendar = WorkingCalendar.build()
    build_ms = (time.perf_counter() - build_started) * 1000
    requests = _random_requests(count=count, seed=seed)
    due = calendar.due
    rates: list[float] = []
    provisional = 0
    for _ in range(rounds):
        started = time.perf_counter()
        provisional = 0
        for start, working_days in requests:
            provisional += due(start, working_days=working_days).provisional
        rates.append(count / (time.perf_counter() - started))
    median = statistics.median(rates)
    return {
        "computations_per_s": round(median),
        "computations_per_s_min": round(min(rates)),
        "computations_per_s_max": round(max(rates)),
        "computation_us": round(1e6 / median, 3),
        "computations_per_round": count,
        "rounds": rounds,
        "provisional_share": round(provisional / count, 4),
        "calendar_build_ms": round(build_ms, 2),
    }


def deadlines_figures(*, count: int, rounds: int, seed: int) -> Figures:
    """Every figure of `mailbox bench deadlines`: each measurement adds its own keys."""
    figures: Figures = {}
    figures.update(computations(count=count, rounds=rounds, seed=seed))
    return figures
