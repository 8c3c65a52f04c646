"""Wake-up timers on arq (Redis): the only module that knows arq.

arq is in maintenance mode upstream, so it stays behind `schedule` / `cancel` /
`start` / `stop`: replacing it touches this file only. A timer carries no
decision: it only wakes the service, which then asks MongoDB (the source of
truth) whether anything is due by its own clock. Losing every timer (a Redis
flush) therefore delays work until the next sweep and loses none.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

import orjson
from arq.connections import ArqRedis, RedisSettings, create_pool
from arq.constants import job_key_prefix, result_key_prefix
from arq.jobs import serialize_job
from arq.utils import timestamp_ms
from arq.worker import Worker, func
from redis.commands.core import AsyncScript

from services.deadlines.clocks.models import (
    Timer,
    TimerKind,
)
from shared.aio import cancel_and_wait
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
# KEYS: the queue, then each timer's job key and result key; ARGV: each timer's job id,
# score (ms), expiry (ms) and serialized job. Returns 1 per timer enqueued, 0 per known.
_ENQUEUE_SCRIPT = """
local created = {}
for i = 0, #ARGV / 4 - 1 do
  local job_key, result_key = KEYS[2 + 2 * i], KEYS[3 + 2 * i]
  if redis.call('exists', job_key, result_key) == 0 then
    redis.call('psetex', job_key, ARGV[3 + 4 * i], ARGV[4 + 4 * i])
    redis.call('zadd', KEYS[1], ARGV[2 + 4 * i], ARGV[1 + 4 * i])
    created[#created + 1] = 1
  else
    created[#created + 1] = 0
  end
end
return created
"""


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
        self._enqueue: AsyncScript | None = None

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
            await cancel_and_wait([self._task])
            self._task = None
        if self._worker is not None:
            await cancel_and_wait(list(self._worker.tasks.values()))
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

    async def schedule(self, clock_id: str, *, at: datetime, kind: TimerKind) -> bool:
        """Wake the service at `at` (service time) for `kind`; False if already scheduled."""
        (created,) = await self.schedule_all([Timer(clock_id, kind=kind, at=at)])
        return created

    async def schedule_all(self, timers: Sequence[Timer]) -> list[bool]:
        """Schedule several timers in one round trip; for each, False if already scheduled.

        Does what arq's `enqueue_job` does (a job whose job or result key exists is not
        enqueued again), as one script instead of three round trips per timer.
        """
        if self._pool is None:
            raise RuntimeError("timers not open")
        if not timers:
            return []
        if self._enqueue is None:
            self._enqueue = self._pool.register_script(_ENQUEUE_SCRIPT)
        now = self._clock.now()
        enqueued_ms = timestamp_ms()
        keys: list[str] = [self._queue_name]
        args: list[str | int | bytes] = []
        for timer in timers:
            ident = job_id(timer.clock_id, kind=timer.kind, at=timer.at)
            # The service's clock may be shifted (demo) or fixed (tests): the delay is taken
            # on the service's time line, so the wake-up lands when the service expects it.
            delay_ms = max(round((timer.at - now).total_seconds() * 1000), 0)
            job = serialize_job(
                _JOB_NAME,
                (timer.clock_id, timer.kind),
                {},
                None,
                enqueued_ms,
                serializer=_dumps,
            )
            keys += [job_key_prefix + ident, result_key_prefix + ident]
            args += [ident, enqueued_ms + delay_ms, delay_ms + EXPIRES_EXTRA_S * 1000, job]
        created = await self._enqueue(keys=keys, args=args)
        return [bool(c) for c in created]

    async def cancel(self, clock_id: str, *, at: datetime, kind: TimerKind) -> None:
        """Drop a timer that is no longer needed (a closed clock); unknown ones are fine."""
        await self.cancel_all([Timer(clock_id, kind=kind, at=at)])

    async def cancel_all(self, timers: Sequence[Timer]) -> None:
        """Drop several timers in one round trip."""
        if self._pool is None:
            raise RuntimeError("timers not open")
        if not timers:
            return
        async with self._pool.pipeline(transaction=True) as pipe:
            for timer in timers:
                ident = job_id(timer.clock_id, kind=timer.kind, at=timer.at)
                pipe.zrem(self._queue_name, ident)
                pipe.delete(job_key_prefix + ident)
            await pipe.execute()

    async def pending(self) -> int:
        """How many timers wait in the queue (operations, tests)."""
        if self._pool is None:
            raise RuntimeError("timers not open")
        return int(await self._pool.zcard(self._queue_name))
