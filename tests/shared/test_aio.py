"""`wait_event`: the background loops' idle wait, which must never swallow a cancellation."""

from __future__ import annotations

import asyncio

import pytest

from shared.aio import cancel_and_wait, wait_event

pytestmark = pytest.mark.unit  # needs no server


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


async def test_cancel_and_wait_ends_a_task_that_swallowed_its_cancellation() -> None:
    # What a library's wait_for does on 3.11 when its future completes as the cancel lands.
    swallowed: list[int] = []

    async def worker() -> None:
        queue: asyncio.Queue[int] = asyncio.Queue()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            swallowed.append(1)  # and carries on, as the outbox worker did
        await queue.get()

    task = asyncio.create_task(worker())
    await asyncio.sleep(0.01)
    async with asyncio.timeout(5) as bound:
        await cancel_and_wait([task], resend_after_s=0.05)
    assert not bound.expired(), "the task ran on after one cancel"
    assert swallowed == [1]
    assert task.cancelled()


async def test_cancel_and_wait_does_not_raise_a_tasks_error() -> None:
    async def failing() -> None:
        raise RuntimeError("boom")

    task = asyncio.create_task(failing())
    await asyncio.sleep(0)
    await cancel_and_wait([task])
    assert task.done()
    assert isinstance(task.exception(), RuntimeError)
