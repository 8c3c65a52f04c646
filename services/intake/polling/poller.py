"""The polling loop: every enabled platform, continuously, one instance at a time per platform.

A poll cycle takes the platform's lease (`leases.py`), reads pages after the stored
cursor, registers each page and stores the next cursor after the page's letters
are registered (a crash in between re-fetches the page, and the unique index
drops the repeats). A cycle is bounded in pages and stops when pages bring
nothing new, so a platform whose cursor goes backwards or stands still cannot
hold the poller in a loop; the next cycle resumes from the stored cursor.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from prometheus_client import Counter, Gauge

from services.intake.letters.service import IntakeService, PageOutcome
from services.intake.polling.leases import Leases
from services.intake.polling.repository import PlatformStateRepository
from shared.aio import cancel_and_wait
from shared.clock import Clock
from shared.logging import get_logger
from shared.platforms import PlatformClient, PlatformConfig, PlatformError

log = get_logger(__name__)

# Art. 17 日积日清: a platform that stops answering must be noticed, not just listed.
POLL_CYCLES = Counter(
    "mailbox_platform_poll_cycles_total",
    "Poll cycles by platform and outcome",
    ["platform", "outcome"],
)
LETTERS_REGISTERED = Counter(
    "mailbox_platform_letters_registered_total", "Letters registered by platform", ["platform"]
)
LAST_SUCCESS = Gauge(
    "mailbox_platform_last_success_timestamp_seconds",
    "When this replica last finished a successful poll of the platform (Unix time)",
    ["platform"],
)

Outcome = Literal["caught_up", "page_limit", "no_progress", "error", "lease_lost", "busy"]
# Outcomes after which the platform counts as polled successfully.
SUCCESSFUL: frozenset[str] = frozenset({"caught_up", "page_limit"})


@dataclass
class PollSummary:
    """What one poll cycle of one platform did."""

    platform_id: str
    started_at: datetime
    finished_at: datetime | None = None
    outcome: Outcome = "caught_up"
    pages: int = 0
    fetched: int = 0
    registered: int = 0
    duplicates: int = 0
    quarantined: int = 0
    quarantine_duplicates: int = 0
    cursor_before: str | None = None
    cursor_after: str | None = None
    cursor_rewinds: int = 0
    more: bool = False
    error: str | None = None
    lease_holder: str | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)

    def add(self, page: PageOutcome) -> None:
        """Count a registered page."""
        self.fetched += page.fetched
        self.registered += page.registered
        self.duplicates += page.duplicates
        self.quarantined += page.quarantined
        self.quarantine_duplicates += page.quarantine_duplicates

    def note(self, kind: str, message: str, *, at: datetime) -> None:
        """Keep an error or warning for the platform's recent errors."""
        self.errors.append({"at": at, "kind": kind, "message": message[:1000]})

    def stored(self) -> dict[str, Any]:
        """The summary as kept in the platform state (without the error list)."""
        doc = asdict(self)
        doc.pop("errors")
        return doc


class Poller:
    """Runs the poll cycles of one intake instance."""

    def __init__(
        self,
        *,
        service: IntakeService,
        states: PlatformStateRepository,
        leases: Leases,
        configs: Mapping[str, PlatformConfig],
        clients: Mapping[str, PlatformClient],
        clock: Clock,
        poll_interval_s: float,
        lease_s: float,
        max_pages_per_cycle: int,
        max_idle_pages: int,
        keep_errors: int,
    ) -> None:
        self._service = service
        self._states = states
        self.leases = leases
        self.configs = dict(configs)
        self._clients = dict(clients)
        self._clock = clock
        self._interval = poll_interval_s
        self._lease_s = lease_s
        self._max_pages = max_pages_per_cycle
        self._max_idle = max_idle_pages
        self._keep_errors = keep_errors
        self._locks = {pid: asyncio.Lock() for pid in self.configs}
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def owner(self) -> str:
        """This instance's id, as written on its leases."""
        return self.leases.owner

    def start(self) -> None:
        """Poll every enabled platform continuously."""
        for config in self.configs.values():
            if config.enabled:
                self._tasks.append(asyncio.create_task(self._loop(config.id)))

    async def stop(self) -> None:
        """Stop polling (a cycle in progress ends where it is) and give the leases up."""
        await cancel_and_wait(self._tasks)
        self._tasks = []
        with contextlib.suppress(Exception):
            await self.leases.release_all()

    async def _loop(self, platform_id: str) -> None:
        # Replicas started together spread out instead of racing for the same lease.
        await asyncio.sleep(random.uniform(0, min(self._interval, 1.0)))  # noqa: S311
        while True:
            more = False
            try:
                if await self._due(platform_id):
                    summary = await self.poll(platform_id)
                    more = summary.more
            except Exception as exc:
                log.error("poll cycle failed", platform=platform_id, error=str(exc))
            if not more:
                await asyncio.sleep(self._interval)

    async def _due(self, platform_id: str) -> bool:
        """Whether the last cycle (of any instance) finished an interval ago or more."""
        state = await self._states.get(platform_id)
        finished = state.get("last_poll_finished_at")
        if finished is None:
            return True
        # A little early is fine: the sleep and the clocks of replicas never line up exactly.
        return bool(self._clock.now() - finished >= timedelta(seconds=self._interval * 0.9))

    async def poll(self, platform_id: str) -> PollSummary:
        """One poll cycle now, if this instance gets the platform's lease."""
        async with self._locks[platform_id]:
            started = self._clock.now()
            if not await self.leases.acquire(platform_id):
                holder = await self.leases.holder(platform_id)
                return PollSummary(
                    platform_id=platform_id,
                    started_at=started,
                    finished_at=started,
                    outcome="busy",
                    lease_holder=holder.owner if holder else None,
                )
            lost = asyncio.Event()
            renewer = asyncio.create_task(self._renew(platform_id, lost))
            try:
                return await self._cycle(platform_id, started=started, lost=lost)
            finally:
                renewer.cancel()
                # gather, not `suppress(CancelledError)`: a stop() that cancels this
                # task while it waits here must not be swallowed, or the loop goes on
                # polling and stop() waits for it forever.
                await asyncio.gather(renewer, return_exceptions=True)
                try:
                    await self.leases.release(platform_id)
                except Exception as exc:
                    # It expires by itself; another instance waits at most `lease_s`.
                    log.warning("lease release failed", platform=platform_id, error=str(exc))

    async def _renew(self, platform_id: str, lost: asyncio.Event) -> None:
        while True:
            await asyncio.sleep(self._lease_s / 3)
            try:
                if not await self.leases.renew(platform_id):
                    lost.set()
                    return
            except Exception as exc:
                log.warning("lease renewal failed", platform=platform_id, error=str(exc))

    async def _cycle(
        self, platform_id: str, *, started: datetime, lost: asyncio.Event
    ) -> PollSummary:
        config = self.configs[platform_id]
        client = self._clients[platform_id]
        await self._states.ensure(platform_id)
        cursor: str | None = (await self._states.get(platform_id)).get("cursor")
        summary = PollSummary(platform_id=platform_id, started_at=started, cursor_before=cursor)
        seen = {cursor}
        idle = 0
        try:
            while True:
                if lost.is_set():
                    summary.outcome = "lease_lost"
                    summary.note("lease_lost", "another instance took the lease", at=self._now())
                    break
                if summary.pages >= self._max_pages:
                    summary.outcome, summary.more = "page_limit", True
                    break
                page = await client.poll(cursor=cursor, limit=config.page_size)
                summary.pages += 1
                result = await self._service.register_page(platform_id, page)
                summary.add(result)
                next_cursor = page.next_cursor if page.next_cursor is not None else cursor
                if next_cursor != cursor or result.newest_submitted_at is not None:
                    await self._states.save_cursor(
                        platform_id,
                        cursor=next_cursor,
                        newest_submitted_at=result.newest_submitted_at,
                        now=self._now(),
                    )
                if not page.has_more:
                    cursor = next_cursor
                    summary.outcome = "caught_up"
                    break
                if next_cursor == cursor:
                    summary.outcome = "no_progress"
                    summary.note(
                        "no_progress",
                        f"the platform says there is more but gave the same cursor {cursor!r}",
                        at=self._now(),
                    )
                    break
                if next_cursor in seen:
                    summary.cursor_rewinds += 1
                    summary.note(
                        "cursor_rewind",
                        f"the cursor went back from {cursor!r} to {next_cursor!r}",
                        at=self._now(),
                    )
                seen.add(next_cursor)
                cursor = next_cursor
                idle = 0 if result.anything_new else idle + 1
                if idle >= self._max_idle:
                    summary.outcome, summary.more = "no_progress", False
                    summary.note(
                        "no_progress",
                        f"{idle} pages in a row brought nothing new; stopping at {cursor!r}",
                        at=self._now(),
                    )
                    break
        except PlatformError as exc:
            summary.outcome, summary.error = "error", str(exc)
            summary.note(type(exc).__name__, str(exc), at=self._now())
        except Exception as exc:
            log.error("poll cycle failed", platform=platform_id, error=repr(exc))
            summary.outcome, summary.error = "error", f"{type(exc).__name__}: {exc}"
            summary.note("internal", summary.error, at=self._now())
        summary.cursor_after = cursor
        summary.finished_at = self._now()
        POLL_CYCLES.labels(platform=platform_id, outcome=summary.outcome).inc()
        LETTERS_REGISTERED.labels(platform=platform_id).inc(summary.registered)
        if summary.outcome in SUCCESSFUL:
            LAST_SUCCESS.labels(platform=platform_id).set(summary.finished_at.timestamp())
        try:
            await self._states.finish_cycle(
                platform_id,
                summary=summary.stored(),
                errors=summary.errors,
                succeeded=summary.outcome in SUCCESSFUL,
                keep_errors=self._keep_errors,
            )
        except Exception as exc:
            # The letters and the cursor are stored; only the bookkeeping is lost.
            log.warning("poll state not recorded", platform=platform_id, error=str(exc))
        log.info(
            "poll cycle",
            platform=platform_id,
            outcome=summary.outcome,
            pages=summary.pages,
            registered=summary.registered,
            quarantined=summary.quarantined,
        )
        return summary

    def _now(self) -> datetime:
        return self._clock.now()
