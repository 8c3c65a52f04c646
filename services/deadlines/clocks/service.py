"""The deadlines domain: clocks opened, moved and closed; time passing; the sweep.

What an overdue clock owes (its reminder, its deduction) is done in `follow_ups`.

MongoDB is the source of truth. Timers only wake the service; every decision is
taken here against the stored clock and `clock.now()`. After each write the
clock's timers are (re)armed; if that fails (Redis down) the sweep still finds
the clock when it falls due.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from services.deadlines.calendar.working_days import WorkingCalendar
from services.deadlines.clocks.follow_ups import issue_reminder, record_unanswered
from services.deadlines.clocks.models import PRODUCER, Adjustment, ClockDoc, Timer
from services.deadlines.clocks.repository import ClockRepository
from services.deadlines.clocks.rules import ClockRules, Reschedule
from services.deadlines.settings import DeadlinesSettings
from services.deadlines.supervision.models import ReminderDoc
from shared.audit import AuditEntry, system_actor
from shared.clock import Clock
from shared.errors import NotFound
from shared.events import Event
from shared.events.vocabulary import ClockKind, ClockState
from shared.locks import KeyedLocks
from shared.logging import get_logger
from shared.mongo import Document

log = get_logger(__name__)


class TimerPort(Protocol):
    """What the service needs from the timers (timers.Timers)."""

    async def schedule_all(self, timers: Sequence[Timer]) -> list[bool]: ...

    async def cancel_all(self, timers: Sequence[Timer]) -> None: ...


class CalendarPort(Protocol):
    """The administered calendar the clocks count on (the calendar domain's store)."""

    @property
    def rules(self) -> ClockRules: ...

    @property
    def version(self) -> int: ...

    @property
    def calendar(self) -> WorkingCalendar: ...

    async def refresh(self) -> bool: ...


class ReminderPort(Protocol):
    """What the clocks need of the reminders (supervision's ReminderRepository)."""

    async def get(self, reminder_id: str) -> Document | None: ...

    async def create(
        self, doc: Document, *, events: Sequence[Event], audit: Sequence[AuditEntry]
    ) -> bool: ...


class AssessmentPort(Protocol):
    """What the clocks need of the deduction items (supervision's AssessmentRepository)."""

    async def create(
        self, doc: Document, *, events: Sequence[Event], audit: Sequence[AuditEntry]
    ) -> bool: ...


@dataclass
class SweepReport:
    """What one sweep did."""

    recomputed: int = 0
    due_soon: int = 0
    overdue: int = 0
    follow_ups: int = 0
    calendar_reloaded: bool = False
    now: datetime | None = None
    errors: list[str] = field(default_factory=list)


class DeadlinesService:
    """Opens, moves and closes clocks; reacts to time passing."""

    def __init__(
        self,
        *,
        clocks: ClockRepository,
        reminders: ReminderPort,
        assessment: AssessmentPort,
        calendar: CalendarPort,
        settings: DeadlinesSettings,
        clock: Clock,
        timers: TimerPort | None = None,
        letter_turns: KeyedLocks | None = None,
    ) -> None:
        self.clocks = clocks
        self.reminders = reminders
        self.assessment = assessment
        self.calendar = calendar
        self.settings = settings
        self.clock = clock
        self.timers = timers
        self.actor = system_actor(PRODUCER)
        self._sweep_lock = asyncio.Lock()
        # The consumer's turns per letter (`EventBus.letter_locks`): a timer waits behind
        # the letter's events already delivered.
        self._letter_turns = letter_turns or KeyedLocks()

    def letter_turn(self, letter_id: str) -> AbstractAsyncContextManager[None]:
        """Hold the letter's turn, the one the consumer holds while it handles one of the
        letter's events (events of a letter are handled one at a time, in delivery order).

        A timer takes it too, so it acts after the events delivered before it fired: the
        receipt of a letter seen late opens its acceptance clock past the due-soon instant,
        whose timer fires at once; the decision delivered with the receipt is already
        waiting for the turn, and closes the clock before the timer looks at it.
        """
        return self._letter_turns.hold(letter_id)

    @property
    def rules(self) -> ClockRules:
        """The clock rules on the current calendar."""
        return self.calendar.rules

    # -- clocks opened and closed by events -------------------------------------------------

    async def open_clock(
        self,
        *,
        clock_id: str,
        letter_id: str,
        kind: ClockKind,
        unit_id: str | None,
        start: datetime,
        working_days: int,
        why: str,
        event_id: str | None = None,
        reminder: str | None = None,
        closed: tuple[datetime, str] | None = None,
    ) -> bool:
        """Open a clock once (a repeated event finds it there); False if it existed."""
        doc, events, audit = self.rules.open(
            clock_id=clock_id,
            letter_id=letter_id,
            kind=kind,
            unit_id=unit_id,
            start=start,
            working_days=working_days,
            now=self.clock.now(),
            actor=self.actor,
            why=why,
            event_id=event_id,
            reminder_id=reminder,
            closed=closed,
        )
        created = await self.clocks.create(doc, events=events, audit=audit)
        if created:
            await self._arm(doc)
        return created

    async def close_clock(
        self, clock_id: str, *, at: datetime, why: str, event_id: str | None = None
    ) -> Document | None:
        """Close an open clock (met or late), then follow up; None if there is no such clock."""
        now = self.clock.now()
        try:
            doc = await self.clocks.mutate(
                clock_id,
                lambda d: self.rules.close(d, at=at, now=now, actor=self.actor, why=why),
                event_id=event_id,
            )
        except NotFound:
            return None
        await self._arm(doc)
        if doc.get("follow_up"):
            # A reminder answered late owes its deduction (Art. 27). The answer is stored
            # already: if recording the deduction fails here, the flag stays on the clock
            # and the sweep records it; the answer must not fail (a retry would get a 409).
            try:
                await self.follow_up(clock_id)
            except Exception as exc:
                log.warning("follow-up left to the sweep", clock_id=clock_id, error=str(exc))
        return doc

    async def stop_clock(
        self, clock_id: str, *, at: datetime, why: str, event_id: str | None = None
    ) -> None:
        """Stop an open clock that no longer applies."""
        now = self.clock.now()
        doc = await self.clocks.mutate(
            clock_id,
            lambda d: self.rules.stop(d, at=at, now=now, actor=self.actor, why=why),
            event_id=event_id,
        )
        await self._arm(doc)

    async def reschedule(
        self,
        clock_id: str,
        *,
        change: Reschedule,
        why: str,
        adjustment: Adjustment | None = None,
        reopen: bool = False,
        extension_id: str | None = None,
        event_id: str | None = None,
    ) -> Document | None:
        """Recount a clock's due (extension, new due, reopening)."""
        now = self.clock.now()
        try:
            doc = await self.clocks.mutate(
                clock_id,
                lambda d: self.rules.reschedule(
                    d,
                    change=change,
                    now=now,
                    actor=self.actor,
                    why=why,
                    adjustment=adjustment,
                    reopen=reopen,
                    extension_id=extension_id,
                ),
                event_id=event_id,
            )
        except NotFound:
            return None
        await self._arm(doc)
        await self.check_due(clock_id)
        return doc

    async def extension_requested(
        self, clock_id: str, *, extension_id: str, requested_at: datetime, event_id: str
    ) -> None:
        """Remember a pending request on the handling clock."""
        now = self.clock.now()
        with contextlib.suppress(NotFound):
            await self.clocks.mutate(
                clock_id,
                lambda d: self.rules.extension_requested(
                    d,
                    extension_id=extension_id,
                    requested_at=requested_at,
                    now=now,
                    actor=self.actor,
                ),
                event_id=event_id,
            )

    async def extension_refused(
        self, clock_id: str, *, extension_id: str, why: str, event_id: str
    ) -> None:
        """Forget the request; overdue at once if the due passed while it waited."""
        now = self.clock.now()
        try:
            doc = await self.clocks.mutate(
                clock_id,
                lambda d: self.rules.extension_refused(
                    d, extension_id=extension_id, now=now, actor=self.actor, why=why
                ),
                event_id=event_id,
            )
        except NotFound:
            return
        await self._arm(doc)
        await self.follow_up(clock_id)

    # -- time passing -------------------------------------------------------------------------

    async def on_timer(self, clock_id: str, kind: str) -> None:
        """A timer woke the service: decide by the stored clock and the service's time,
        in the letter's turn (after the letter's events that reached this process first)."""
        raw = await self.clocks.get(clock_id)
        if raw is None:
            return
        async with self.letter_turn(str(raw["letter_id"])):
            if kind == "due_soon":
                await self.check_due_soon(clock_id)
            else:
                await self.check_due(clock_id)

    async def check_due(self, clock_id: str) -> bool:
        """Mark the clock overdue if its due passed (True if it did), then follow up."""
        raw = await self.clocks.get(clock_id)
        if raw is None:
            return False
        clock = ClockDoc.of(raw)
        if clock.kind == ClockKind.reminder_answer and clock.reminder_id and clock.is_open:
            # The answer may be stored while closing its clock was lost (a crash between).
            stored = await self.reminders.get(clock.reminder_id)
            answer = None if stored is None else ReminderDoc.of(stored).answer
            if answer is not None:
                await self.close_clock(clock_id, at=answer.answered_at, why="reminder answered")
                return False
        now = self.clock.now()
        doc = await self.clocks.mutate(
            clock_id, lambda d: self.rules.overdue(d, now=now, actor=self.actor)
        )
        became_overdue = bool(
            doc["version"] != clock.version and doc["state"] == ClockState.overdue
        )
        if doc.get("follow_up"):
            await self.follow_up(clock_id)
        return became_overdue

    async def check_due_soon(self, clock_id: str) -> bool:
        """Send the due-soon notice if its time came (True if sent now)."""
        before = await self.clocks.get(clock_id)
        if before is None:
            return False
        now = self.clock.now()
        doc = await self.clocks.mutate(
            clock_id, lambda d: self.rules.due_soon(d, now=now, actor=self.actor)
        )
        return bool(doc["version"] != before["version"])

    async def follow_up(self, clock_id: str) -> bool:
        """Issue the reminder or record the deduction an overdue clock still owes."""
        raw = await self.clocks.get(clock_id)
        if raw is None or not raw.get("follow_up"):
            return False
        clock = ClockDoc.of(raw)
        if clock.follow_up == "reminder":
            await issue_reminder(self, clock)
        elif clock.follow_up == "assessment":
            await record_unanswered(self, clock)
        return True

    # -- the sweep ------------------------------------------------------------------------------

    async def sweep(self) -> SweepReport:
        """Catch up with everything due by now: what a lost timer would have done."""
        async with self._sweep_lock:
            report = SweepReport()
            report.calendar_reloaded = await self.calendar.refresh()
            report.recomputed = await self.recompute_stale()
            report.now = self.clock.now()
            for clock_id in await self.clocks.ids_due(report.now):
                report.overdue += await self._guard(self.check_due(clock_id), report=report)
            for clock_id in await self.clocks.ids_due_soon(report.now):
                report.due_soon += await self._guard(self.check_due_soon(clock_id), report=report)
            for clock_id in await self.clocks.ids_follow_up():
                report.follow_ups += await self._guard(self.follow_up(clock_id), report=report)
            return report

    async def _guard(self, work: Awaitable[bool], *, report: SweepReport) -> int:
        try:
            done = await work
        except Exception as exc:
            # One bad clock must not stop the sweep; it is tried again next time.
            log.warning("sweep step failed", error=str(exc))
            report.errors.append(str(exc))
            return 0
        return 1 if done else 0

    async def recompute_stale(self) -> int:
        """Recount every open clock counted with an older calendar; how many moved."""
        moved = 0
        version = self.calendar.version
        while True:
            ids = await self.clocks.ids_stale(version)
            if not ids:
                return moved
            for clock_id in ids:
                before = await self.clocks.get(clock_id)
                doc = await self.reschedule(
                    clock_id, change="recomputed", why="working-day calendar changed"
                )
                if before is not None and doc is not None and doc["due"] != before["due"]:
                    moved += 1
                elif before is not None and doc is not None:
                    moved += int(doc["provisional"] != before["provisional"])

    async def rearm_timers(self) -> int:
        """Schedule the timers of every running clock again (start-up; idempotent)."""
        armed = 0
        after: str | None = None
        while True:
            batch = await self.clocks.running(after_id=after)
            if not batch:
                return armed
            for doc in batch:
                await self._arm({**doc, "state": ClockState.running.value, "closed_at": None})
                armed += 1
            after = str(batch[-1]["_id"])

    async def _arm(self, doc: Document) -> None:
        if self.timers is None:
            return
        clock_id = str(doc["_id"])
        running = doc.get("state") == ClockState.running and doc.get("closed_at") is None
        due_soon_at: datetime | None = doc.get("due_soon_at")
        timers = [Timer(clock_id, kind="due", at=doc["due"])]
        try:
            if running:
                if due_soon_at is not None and not doc.get("due_soon_sent"):
                    timers.append(Timer(clock_id, kind="due_soon", at=due_soon_at))
                await self.timers.schedule_all(timers)
            else:
                if due_soon_at is not None:
                    timers.append(Timer(clock_id, kind="due_soon", at=due_soon_at))
                await self.timers.cancel_all(timers)
        except Exception as exc:
            # The clock is stored; the sweep finds it when it falls due.
            log.warning("timer not armed", clock_id=clock_id, error=str(exc))
