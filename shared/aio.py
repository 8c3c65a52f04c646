"""Small asyncio pieces the services' background loops share."""

from __future__ import annotations

import asyncio


async def wait_event(event: asyncio.Event, timeout_s: float) -> bool:
    """Wait until `event` is set or `timeout_s` passes; whether it was set.

    Not `asyncio.wait_for(event.wait(), ...)`: on Python 3.11 that returns normally when
    the event is set in the same loop turn as the waiting task is cancelled, so the
    cancellation is lost and a loop stopped by `task.cancel()` runs on (a service's
    shutdown then hangs). `asyncio.timeout` lets the cancellation through.
    """
    try:
        async with asyncio.timeout(timeout_s):
            await event.wait()
    except TimeoutError:
        return False
    return True
