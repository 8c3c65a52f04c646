"""Wake-up timers on arq (Redis): the only module that knows arq.

arq is in maintenance mode upstream, so it stays behind `schedule` / `cancel` /
`start` / `stop`: replacing it touches this file only. A timer carries no
decision: it only wakes the service, which then asks MongoDB (the source of
truth) whether anything is due by its own clock. Losing every timer (a Redis
flush) therefore delays work until the next sweep and loses none.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import orjson
from arq.connections import ArqRedis, RedisSettings, create_pool
from arq.constants import job_key_prefix
from arq.worker import Worker, func

from shared.clock import Clock
from shared.logging import get_logger

log = get_logger(__name__)

WakeHandler = Callable[[str, str], Awaitable[None]]

# arq keeps a finished job's result this long; enqueueing the same job id again
# within it is a no-op, which is what makes a repeated `schedule` idempotent.
KEEP_RESULT_S = 3600
# A timer that could not run (worker down) is still worth running this much later;
# after that the sweep has long taken care of it.
EXPIRES_EXTRA_S = 86_400
_JOB_NAME = "wake"


def job_id(clock_id: str, *, kind: str, at: datetime) -> str:
    """The id that makes scheduling one timer idempotent (clock, kind and instant)."""
    return f"{clock_id}|{kind}|{int(at.timestamp())}"


def _dumps(value: dict[str, Any]) -> bytes:
    # JSON rather than arq's default pickle: whoever can write to Redis must not
    # be able to make the service run code.
    return orjson.dumps(value)


def _loads(raw: bytes) -> dict[str, Any]:
    value: dict[str, Any] = orjson.loads(raw)
    return value


async def _wake(ctx: dict[str, Any], clock_id: str, kind: str) -> None:
    handler: WakeHandler = ctx["wake"]
    await handler(clock_id, kind)


class Timers:
    """Schedules wake-ups at service instants and runs the worker that delivers them."""

    def __init__(
        self,
        redis_url: str,
        *,
        queue_name: str,
        clock: Clock,
        poll_delay_s: float = 0.5,
        max_jobs: int = 20,
    ) -> None:
        self._settings = RedisSettings.from_dsn(redis_url)
        self._queue_name = queue_name
        self._clock = clock
        self._poll_delay_s = poll_delay_s
        self._max_jobs = max_jobs
        self._pool: ArqRedis | None = None
        self._worker: Worker | None = None
        self._task: asyncio.Task[None] | None = None

    async def open(self) -> None:
        """Connect to Redis (scheduling works from here on)."""
        self._pool = await create_pool(
            self._settings,
            default_queue_name=self._queue_name,
            job_serializer=_dumps,
            job_deserializer=_loads,
        )

    async def start_worker(self, wake: WakeHandler) -> None:
        """Run the worker in this process; with several replicas each job runs once."""
        if self._pool is None:
            raise RuntimeError("timers not open")
        self._worker = Worker(
            functions=[func(_wake, name=_JOB_NAME)],
            queue_name=self._queue_name,
            redis_pool=self._pool,
            handle_signals=False,
            poll_delay=self._poll_delay_s,
            max_jobs=self._max_jobs,
            keep_result=KEEP_RESULT_S,
            max_tries=3,
            ctx={"wake": wake},
            job_serializer=_dumps,
            job_deserializer=_loads,
            log_results=False,
        )
        self._task = asyncio.create_task(self._worker.main())

    async def stop(self) -> None:
        """Stop the worker and close the connection; queued timers stay in Redis."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._worker is not None:
            running = list(self._worker.tasks.values())
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
            self._worker = None
        if self._pool is not None:
            await self._pool.aclose()
            self._pool = None

    async def ping(self) -> bool:
        """Whether Redis answers."""
        if self._pool is None:
            return False
        try:
            return bool(await self._pool.ping())
        except Exception:
            return False

    async def schedule(self, clock_id: str, *, at: datetime, kind: str) -> bool:
        """Wake the service at `at` (service time) for `kind`; False if already scheduled."""
        if self._pool is None:
            raise RuntimeError("timers not open")
        # The service's clock may be shifted (demo) or fixed (tests): the delay is taken
        # on the service's time line, so the wake-up lands when the service expects it.
        delay_s = max((at - self._clock.now()).total_seconds(), 0.0)
        job = await self._pool.enqueue_job(
            _JOB_NAME,
            clock_id,
            kind,
            _job_id=job_id(clock_id, kind=kind, at=at),
            _defer_by=timedelta(seconds=delay_s),
            _expires=timedelta(seconds=delay_s + EXPIRES_EXTRA_S),
        )
        return job is not None

    async def cancel(self, clock_id: str, *, at: datetime, kind: str) -> None:
        """Drop a timer that is no longer needed (a closed clock); unknown ones are fine."""
        if self._pool is None:
            raise RuntimeError("timers not open")
        ident = job_id(clock_id, kind=kind, at=at)
        async with self._pool.pipeline(transaction=True) as pipe:
            pipe.zrem(self._queue_name, ident)
            pipe.delete(job_key_prefix + ident)
            await pipe.execute()

    async def pending(self) -> int:
        """How many timers wait in the queue (operations, tests)."""
        if self._pool is None:
            raise RuntimeError("timers not open")
        return int(await self._pool.zcard(self._queue_name))
