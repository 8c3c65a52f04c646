"""Small asyncio pieces the services' background loops share."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from shared.logging import get_logger

log = get_logger(__name__)


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


async def cancel_and_wait(
    tasks: Iterable[asyncio.Task[Any]], *, resend_after_s: float = 1.0
) -> None:
    """Cancel `tasks` and wait until every one has ended, cancelling again while one runs on.

    A single `cancel()` is not enough on Python 3.11: a library awaiting with
    `asyncio.wait_for` (a broker's publish confirm, a driver's timeout) returns normally
    when its inner future completes in the same loop turn as the cancellation arrives, and
    the task carries on (seen: an outbox worker back at its queue, so the shutdown hung).
    Exceptions other than the cancellation are logged here, not raised: a stopping loop has
    nobody left to hand them to.
    """
    pending = set(tasks)
    for task in pending:
        task.cancel()
    while pending:
        done, pending = await asyncio.wait(pending, timeout=resend_after_s)
        for task in done:
            if not task.cancelled() and task.exception() is not None:
                log.warning(
                    "background task ended with an error",
                    task=task.get_name(),
                    error=repr(task.exception()),
                )
        for task in pending:
            task.cancel()
