"""A running deadlines service for tests: its own database, exchange and timer queue.

The service runs in-process on the real servers with a FixedClock; tests publish
the events other services would and move the clock, then sweep directly.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
from redis.asyncio import Redis

from services.deadlines.app import create_app
from services.deadlines.clocks.models import (
    ClockDoc,
)
from services.deadlines.clocks.service import DeadlinesService
from services.deadlines.settings import DeadlinesSettings
from shared.clock import FixedClock
from shared.events import Event, make_event
from shared.events.catalog import (
    EventData,
    LetterAccepted,
    LetterReceived,
    ReplySubmitted,
    SlipSubmitted,
)
from shared.events.vocabulary import LetterSource, Nature, Person, PublicationMode
from shared.ids import new_id
from tests.support import (
    REDIS_URL,
    EventProbe,
    common_settings,
    delete_exchange_and_queues,
    drop_database,
    running,
    unique_name,
)

CST = timezone(timedelta(hours=8))


def at(text: str) -> datetime:
    """An instant written in local time (+08:00) unless it has an offset."""
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=CST)


# Long enough for a machine under load (15 s failed once at load 7–11); a condition that
# holds returns at once, so only a failing test waits it out.
UNTIL_S = 45.0


async def until(
    check: Callable[[], Awaitable[bool]], *, timeout_s: float = UNTIL_S, what: str = "condition"
) -> None:
    """Poll an asynchronous condition with a bounded wait."""
    import asyncio

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not await check():
        if loop.time() > deadline:
            raise AssertionError(f"{what} not reached within {timeout_s} s")
        await asyncio.sleep(0.02)


class Harness:
    """One deadlines service with a fixed clock, and a probe on its exchange."""

    def __init__(self, *, now: datetime, redis_url: str = REDIS_URL, **overrides: Any) -> None:
        self.db_name = unique_name("deadlines")
        self.exchange = unique_name("deadlines")
        self.clock = FixedClock(now)
        base = common_settings(db=self.db_name, exchange=self.exchange)
        base["redis_url"] = redis_url
        base.update({"sweep_interval_s": 3600.0, "timer_poll_delay_s": 0.1, **overrides})
        self.settings = DeadlinesSettings(**base)
        self.app = create_app(self.settings, clock=self.clock)
        self.probe = EventProbe(self.exchange)
        self._stack = AsyncExitStack()
        self.client: httpx.AsyncClient

    async def start(self) -> Harness:
        """Start the probe, then the service."""
        await self.probe.start()
        self.client = await self._stack.enter_async_context(running(self.app))
        return self

    async def stop(self) -> None:
        """Stop the service and remove everything it made."""
        try:
            await self._stack.aclose()
        finally:
            await self.probe.close()
            await self._clear_timers()
            await drop_database(self.db_name)
            await delete_exchange_and_queues(self.exchange)

    async def _clear_timers(self) -> None:
        redis = Redis.from_url(self.settings.redis_url)
        try:
            queue = self.settings.timer_queue_name
            for member in await redis.zrange(queue, 0, -1):
                await redis.delete(b"arq:job:" + member)
            await redis.delete(queue)
        finally:
            await redis.aclose()

    @property
    def service(self) -> DeadlinesService:
        """The service object inside the app."""
        service: DeadlinesService = self.app.state.deadlines
        return service

    def letter_id(self) -> str:
        """A fresh letter id."""
        return new_id("ltr")

    async def publish(self, data: EventData, *, letter_id: str, producer: str = "routing") -> Event:
        """Publish an event as another service would."""
        event = make_event(
            data, producer=producer, occurred_at=self.clock.now(), letter_id=letter_id
        )
        await self.probe.publish(event)
        return event

    async def clock_doc(self, clock_id: str) -> ClockDoc | None:
        """A clock as stored, or None."""
        raw = await self.service.clocks.get(clock_id)
        return None if raw is None else ClockDoc.of(raw)

    async def wait_clock(
        self,
        clock_id: str,
        check: Callable[[ClockDoc], bool] = lambda _: True,
        *,
        what: str = "clock",
    ) -> ClockDoc:
        """Wait until a clock exists and satisfies `check`."""
        found: list[ClockDoc] = []

        async def ready() -> bool:
            doc = await self.clock_doc(clock_id)
            if doc is not None and check(doc):
                found.append(doc)
                return True
            return False

        await until(ready, what=f"{what} {clock_id}")
        return found[-1]

    # -- events other services send --------------------------------------------------------------

    async def received(
        self,
        letter_id: str,
        *,
        received_at: datetime,
        platform: str = "cq_gov",
        source: LetterSource = LetterSource.platform,
        submitted_at: datetime | None = None,
    ) -> Event:
        """`letter.received` from intake (sent by the writer when received, unless told)."""
        return await self.publish(
            LetterReceived(
                platform=platform,
                external_id=f"ext-{letter_id}",
                source=source,
                title="关于商场消费纠纷的投诉",
                text="来信内容",
                person=Person(name="张三"),
                submitted_at=submitted_at or received_at,
                received_at=received_at,
                raw_sha256="0" * 64,
            ),
            letter_id=letter_id,
            producer="intake",
        )

    async def accepted(
        self,
        letter_id: str,
        *,
        handed_over_at: datetime,
        unit_id: str,
        nature: Nature = Nature.complaint,
        unit_name: str | None = None,
        assisting: Sequence[str] = (),
    ) -> Event:
        """`letter.accepted` from routing."""
        return await self.publish(
            LetterAccepted(
                slip_id=f"slip-{letter_id}",
                nature=nature,
                lead_unit_id=unit_id,
                assisting_unit_ids=list(assisting),
                handed_over_at=handed_over_at,
                lead_unit_name=unit_name,
            ),
            letter_id=letter_id,
        )

    async def slip_submitted(
        self, letter_id: str, *, submitted_at: datetime, submission: int = 1
    ) -> Event:
        """`slip.submitted` from routing: the clerk handed the slip to the office head."""
        return await self.publish(
            SlipSubmitted(
                slip_id=f"slip-{letter_id}",
                submitted_at=submitted_at,
                submission=submission,
                accepted=True,
            ),
            letter_id=letter_id,
        )

    async def submitted(
        self, letter_id: str, *, submitted_at: datetime, unit_id: str, revision: int = 1
    ) -> Event:
        """`reply.submitted` from routing."""
        return await self.publish(
            ReplySubmitted(
                reply_id=f"rpl-{letter_id}",
                revision=revision,
                unit_id=unit_id,
                proposed_mode=PublicationMode.online,
                submitted_at=submitted_at,
            ),
            letter_id=letter_id,
        )


def utc(text: str) -> datetime:
    """An instant in UTC."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)
