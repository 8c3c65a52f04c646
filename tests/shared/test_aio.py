"""`wait_event`: the background loops' idle wait, which must never swallow a cancellation."""

from __future__ import annotations

import asyncio

import pytest

from shared.aio import wait_event


async def test_it_says_whether_the_event_was_set() -> None:
    event = asyncio.Event()
    assert await wait_event(event, 0.01) is False
    asyncio.get_running_loop().call_later(0.01, event.set)
    assert await wait_event(event, 5) is True


async def _idle_loop(event: asyncio.Event, passes: list[int]) -> None:
    # The shape of the dispatcher's, uploader's and archiver's loops.
    while True:
        event.clear()
        passes.append(1)
        await wait_event(event, 5)


async def test_a_cancel_in_the_same_turn_as_a_wake_up_stops_the_loop() -> None:
    # asyncio.wait_for(event.wait(), ...) on Python 3.11 returns normally here and the
    # loop runs on, so the service's shutdown waited for ever (a CI run's 30 s timeout).
    event = asyncio.Event()
    passes: list[int] = []
    task = asyncio.create_task(_idle_loop(event, passes))
    await asyncio.sleep(0.01)
    event.set()
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=2)
    assert done == {task}, "the cancellation was swallowed: the loop ran on"
    assert task.cancelled()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert passes == [1]
