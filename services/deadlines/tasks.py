"""The jobs the timers run: each only wakes the service for one clock."""

from __future__ import annotations

from services.deadlines.clocks.service import DeadlinesService
from services.deadlines.timers import WakeHandler


def wake_handler(service: DeadlinesService) -> WakeHandler:
    """The job body: re-read the clock and decide by the service's own time."""

    async def wake(clock_id: str, kind: str) -> None:
        await service.on_timer(clock_id, kind)

    return wake
