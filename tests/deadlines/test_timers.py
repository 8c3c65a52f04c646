"""Timers on arq wake the service; losing them all (FLUSHDB, restart) loses no deadline.

This module uses its own Redis database, so flushing it touches nobody else's keys.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from redis.asyncio import Redis

from services.deadlines.app import create_app
from services.deadlines.clocks.models import (
    acceptance_clock_id,
    handling_clock_id,
)
from services.deadlines.timers import Timers
from shared.clock import FixedClock
from shared.events.vocabulary import ClockState
from tests.deadlines.harness import Harness, at, until
from tests.support import running

# A database number no other test module uses: FLUSHDB here must not hurt anyone.
FLUSHED_REDIS_URL = "redis://127.0.0.1:6379/11"


@pytest.fixture(scope="module")
async def h() -> AsyncIterator[Harness]:
    harness = Harness(now=at("2026-10-12T10:00:00"), redis_url=FLUSHED_REDIS_URL)
    await harness.start()
    yield harness
    await harness.stop()


async def _pending(h: Harness) -> int:
    timers: Timers = h.app.state.timers
    return await timers.pending()


async def test_a_timer_wakes_the_service_without_any_sweep(h: Harness) -> None:
    letter = h.letter_id()
    due = at("2026-10-13T23:59:59")
    # The service's time is a second before the due when the clock opens, so its
    # timer is armed for one second of wall time from now.
    h.clock.set(due - timedelta(seconds=1))
    await h.received(letter, received_at=at("2026-10-12T10:00:00"))
    clock = await h.wait_clock(acceptance_clock_id(letter))
    assert clock.due == due
    # The due-soon instant (00:00 of the last working day) has passed: notice at once.
    soon = await h.probe.wait_for("clock.due_soon", letter_id=letter)
    assert soon[0].data["clock_id"] == clock.id

    h.clock.set(due + timedelta(seconds=1))
    overdue = await h.probe.wait_for("clock.overdue", letter_id=letter, timeout_s=20)
    assert overdue[0].data["clock_id"] == clock.id
    stored = await h.clock_doc(clock.id)
    assert stored is not None
    assert stored.state == ClockState.overdue


async def test_scheduling_is_idempotent(h: Harness) -> None:
    timers: Timers = h.app.state.timers
    when = h.clock.now() + timedelta(days=30)
    before = await _pending(h)
    assert await timers.schedule("probe-clock", at=when, kind="due")
    assert not await timers.schedule("probe-clock", at=when, kind="due")
    assert await _pending(h) == before + 1  # scheduled once, however often asked

    await timers.cancel("probe-clock", at=when, kind="due")
    assert await _pending(h) == before
    # Cancelled for good: the same timer is new again, not "already scheduled".
    assert await timers.schedule("probe-clock", at=when, kind="due")
    await timers.cancel("probe-clock", at=when, kind="due")
    assert await _pending(h) == before


async def test_a_redis_flush_and_a_restart_lose_no_deadline(h: Harness) -> None:
    start = at("2026-10-13T09:00:00")
    h.clock.set(start)
    letters = [h.letter_id() for _ in range(3)]
    for letter in letters:
        await h.received(letter, received_at=at("2026-10-12T10:00:00"))
        await h.accepted(letter, handed_over_at=start, unit_id="unit_redis")
    for letter in letters:
        await h.wait_clock(handling_clock_id(letter))

    async def armed() -> bool:
        # A clock is stored before its timers are set: the last ones may be a moment behind.
        return await _pending(h) >= 2 * len(letters)

    await until(armed, what="a due-soon and a due timer per handling clock")

    redis = Redis.from_url(FLUSHED_REDIS_URL)
    try:
        await redis.flushdb()
    finally:
        await redis.aclose()
    assert await _pending(h) == 0

    # Mid-way: the handling dues pass with every timer gone; the sweep still finds them.
    h.clock.set(at("2026-10-28T08:00:00"))
    report = await h.service.sweep()
    assert report.overdue >= len(letters)
    for letter in letters:
        clock = await h.clock_doc(handling_clock_id(letter))
        assert clock is not None
        assert clock.state == ClockState.overdue
        assert len(clock.reminders) == 1
    await h.probe.wait_for("reminder.issued", count=len(letters))

    # Flush again, then restart: the new process re-arms the answer clocks' timers.
    redis = Redis.from_url(FLUSHED_REDIS_URL)
    try:
        await redis.flushdb()
    finally:
        await redis.aclose()
    restarted = create_app(h.settings, clock=FixedClock(h.clock.now()))
    async with running(restarted):
        timers: Timers = restarted.state.timers

        async def rearmed() -> bool:
            return await timers.pending() >= len(letters)

        await until(rearmed, what="timers re-armed after restart")
