"""The rules of a statutory clock: when it falls due and how each happening changes it.

Pure: every function takes the stored clock and returns a `Change` (state,
history, events and audit as one write) or None when there is nothing to do.
The service reads, calls one of these, and writes conditionally on the version.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Literal

from services.deadlines.calendar.working_days import SHANGHAI, Due, WorkingCalendar, local_date
from services.deadlines.clocks.changes import (
    audit_entry,
    closed_event,
    history_entry,
    recorded_change,
    scheduled_event,
)
from services.deadlines.clocks.models import (
    PRODUCER,
    Adjustment,
    ClockDoc,
    FollowUp,
    PendingExtension,
)
from shared.aggregate import Change
from shared.audit import Actor, AuditEntry
from shared.clock import ensure_aware
from shared.events import Event, make_event
from shared.events.catalog import ClockDueSoon, ClockOverdue
from shared.events.vocabulary import ClockKind, ClockState
from shared.mongo import Document

Reschedule = Literal["extended", "due_set", "recomputed", "reopened"]
# A clock never looks further back than this for the start of its due-soon day.
_MAX_LOOKBACK_DAYS = 60


@dataclass(frozen=True)
class Computed:
    """A clock's due as the calendar counts it now."""

    due: datetime
    provisional: bool
    working_days: int


class ClockRules:
    """The rules, bound to one calendar (rebuilt when the calendar changes)."""

    def __init__(
        self, calendar: WorkingCalendar, *, calendar_version: int, due_soon_working_days: int
    ) -> None:
        self.calendar = calendar
        self.calendar_version = calendar_version
        self._due_soon_working_days = due_soon_working_days

    # -- counting -------------------------------------------------------------------------

    def compute(
        self, *, start: datetime, base_working_days: int, adjustments: Sequence[Adjustment]
    ) -> Computed:
        """The due of a clock: its base count, then each adjustment in order."""
        counted: Due = self.calendar.due(start, working_days=base_working_days)
        due, provisional, working_days = counted.due, counted.provisional, base_working_days
        for adjustment in adjustments:
            if adjustment.new_due is not None:
                # A date the office chose is not a projection: nothing provisional in it.
                due, provisional = ensure_aware(adjustment.new_due), False
            elif adjustment.extra_working_days:
                counted_from = local_date(due)
                day = self.calendar.add_working_days(counted_from, adjustment.extra_working_days)
                provisional = provisional or self.calendar.any_provisional(
                    counted_from + timedelta(days=1), day
                )
                due = self.calendar.close_of_business_on(day)
                working_days += adjustment.extra_working_days
        return Computed(due=ensure_aware(due), provisional=provisional, working_days=working_days)

    def due_soon_at(self, due: datetime) -> datetime | None:
        """00:00 local of the N-th last working day up to the due (None if disabled)."""
        left = self._due_soon_working_days
        if left <= 0:
            return None
        day: date = local_date(due)
        for _ in range(_MAX_LOOKBACK_DAYS):
            if self.calendar.is_working_day(day):
                left -= 1
                if left == 0:
                    return datetime.combine(day, time(0), tzinfo=SHANGHAI)
            day -= timedelta(days=1)
        return None

    # -- opening --------------------------------------------------------------------------

    def open(
        self,
        *,
        clock_id: str,
        letter_id: str,
        kind: ClockKind,
        unit_id: str | None,
        start: datetime,
        working_days: int,
        now: datetime,
        actor: Actor,
        why: str,
        event_id: str | None = None,
        reminder_id: str | None = None,
        closed: tuple[datetime, str] | None = None,
    ) -> tuple[Document, list[Event], list[AuditEntry]]:
        """A new clock document with its `clock.scheduled` (and `clock.closed` if already met)."""
        computed = self.compute(start=start, base_working_days=working_days, adjustments=())
        doc = ClockDoc(
            _id=clock_id,
            letter_id=letter_id,
            kind=kind,
            unit_id=unit_id,
            start=ensure_aware(start),
            base_working_days=working_days,
            working_days=computed.working_days,
            due=computed.due,
            provisional=computed.provisional,
            due_soon_at=self.due_soon_at(computed.due),
            state=ClockState.running,
            reminder_id=reminder_id,
            calendar_version=self.calendar_version,
        )
        history = [
            history_entry(doc, action="opened", now=now, actor=actor, why=why, event_id=event_id)
        ]
        events = [scheduled_event(doc, change="opened", now=now)]
        audit = [audit_entry(None, after=doc, action="opened", now=now, actor=actor, why=why)]
        if closed is not None:
            # The closing happening was seen first (events can arrive out of order).
            at, closed_why = closed
            opened = doc
            doc = _closed_copy(doc, at=at)
            history.append(
                history_entry(doc, action="closed", now=now, actor=actor, why=closed_why)
            )
            events.append(closed_event(doc, now=now))
            audit.append(
                audit_entry(
                    opened, after=doc, action="closed", now=now, actor=actor, why=closed_why
                )
            )
        stored = doc.model_dump(by_alias=True, exclude={"version"})
        stored["history"] = [h.model_dump() for h in history]
        return stored, events, audit

    # -- closing --------------------------------------------------------------------------

    def close(
        self, raw: Document, *, at: datetime, now: datetime, actor: Actor, why: str
    ) -> Change | None:
        """Met if closed by its due, overdue otherwise; a closed clock stays as it is."""
        clock = ClockDoc.of(raw)
        if not clock.is_open:
            return None
        after = _closed_copy(clock, at=at)
        return recorded_change(
            clock,
            after=after,
            action="closed",
            now=now,
            actor=actor,
            why=why,
            fields={
                "state": after.state,
                "closed_at": after.closed_at,
                "overdue_at": after.overdue_at,
                "follow_up": _owed_after_closing(clock, after=after),
            },
            events=[closed_event(after, now=now)],
            extra={"awaiting_decision": False, "pending_extensions": []},
        )

    def stop(
        self, raw: Document, *, at: datetime, now: datetime, actor: Actor, why: str
    ) -> Change | None:
        """Stop an open clock that no longer applies (an upload whose reply came back)."""
        clock = ClockDoc.of(raw)
        if not clock.is_open:
            return None
        after = clock.model_copy(
            update={"state": ClockState.stopped, "closed_at": ensure_aware(at)}
        )
        return recorded_change(
            clock,
            after=after,
            action="stopped",
            now=now,
            actor=actor,
            why=why,
            fields={"state": after.state, "closed_at": after.closed_at, "follow_up": None},
            events=[closed_event(after, now=now)],
        )

    # -- time passing ---------------------------------------------------------------------

    def overdue(self, raw: Document, *, now: datetime, actor: Actor) -> Change | None:
        """Past the due and still running: overdue (or waiting, if an extension is pending)."""
        clock = ClockDoc.of(raw)
        if clock.state != ClockState.running or clock.closed_at is not None or now < clock.due:
            return None
        if clock.pending_extensions:
            if clock.awaiting_decision:
                return None
            # Art. 27 counts as overdue only a unit that asked for no extension: wait.
            waiting = clock.model_copy(update={"awaiting_decision": True})
            return recorded_change(
                clock,
                after=waiting,
                action="due_passed_extension_pending",
                now=now,
                actor=actor,
                why="due passed while an extension request waits for the office's decision",
                fields={"awaiting_decision": True},
            )
        return self._mark_overdue(clock, now=now, actor=actor, why="due passed")

    def _mark_overdue(self, clock: ClockDoc, *, now: datetime, actor: Actor, why: str) -> Change:
        after = clock.model_copy(update={"state": ClockState.overdue, "overdue_at": clock.due})
        follow_up: FollowUp | None = None
        if clock.kind == ClockKind.handling and clock.unit_id:
            follow_up = "reminder"
        elif clock.kind == ClockKind.reminder_answer:
            follow_up = "assessment"
        event = make_event(
            ClockOverdue(
                clock_id=clock.id,
                kind=clock.kind,
                unit_id=clock.unit_id,
                due=clock.due,
                extension_pending=False,
            ),
            producer=PRODUCER,
            occurred_at=now,
            letter_id=clock.letter_id,
        )
        return recorded_change(
            clock,
            after=after,
            action="overdue",
            now=now,
            actor=actor,
            why=why,
            fields={"state": after.state, "overdue_at": clock.due, "follow_up": follow_up},
            events=[event],
            extra={"awaiting_decision": False},
        )

    def due_soon(self, raw: Document, *, now: datetime, actor: Actor) -> Change | None:
        """The clock entered its last working day(s): say so once per due."""
        clock = ClockDoc.of(raw)
        if (
            clock.state != ClockState.running
            or clock.due_soon_sent
            or clock.due_soon_at is None
            or not clock.due_soon_at <= now < clock.due
        ):
            return None
        event = make_event(
            ClockDueSoon(clock_id=clock.id, kind=clock.kind, unit_id=clock.unit_id, due=clock.due),
            producer=PRODUCER,
            occurred_at=now,
            letter_id=clock.letter_id,
        )
        after = clock.model_copy(update={"due_soon_sent": True})
        return recorded_change(
            clock,
            after=after,
            action="due_soon",
            now=now,
            actor=actor,
            why="last working day begins",
            fields={"due_soon_sent": True},
            events=[event],
        )

    # -- extensions, returns, calendar changes ------------------------------------------------

    def extension_requested(
        self,
        raw: Document,
        *,
        extension_id: str,
        requested_at: datetime,
        now: datetime,
        actor: Actor,
    ) -> Change | None:
        """Remember a request made in time; one made after the due does not hold the clock."""
        clock = ClockDoc.of(raw)
        if not clock.is_open or any(
            p.extension_id == extension_id for p in clock.pending_extensions
        ):
            return None
        if ensure_aware(requested_at) > clock.due:
            return None
        pending = [
            *clock.pending_extensions,
            PendingExtension(extension_id=extension_id, requested_at=ensure_aware(requested_at)),
        ]
        return recorded_change(
            clock,
            after=clock,
            action="extension_requested",
            now=now,
            actor=actor,
            why=f"extension {extension_id} requested",
            fields={"pending_extensions": [p.model_dump() for p in pending]},
        )

    def extension_refused(
        self, raw: Document, *, extension_id: str, now: datetime, actor: Actor, why: str
    ) -> Change | None:
        """Forget the request; if the due passed meanwhile, the clock is overdue from that due."""
        clock = ClockDoc.of(raw)
        pending = [p for p in clock.pending_extensions if p.extension_id != extension_id]
        if len(pending) == len(clock.pending_extensions):
            return None
        left = {"pending_extensions": [p.model_dump() for p in pending]}
        if clock.awaiting_decision and not pending:
            change = self._mark_overdue(clock, now=now, actor=actor, why=why)
            return Change(
                set={**change.set, **left},
                push=change.push,
                events=change.events,
                audit=change.audit,
            )
        return recorded_change(
            clock,
            after=clock,
            action="extension_refused",
            now=now,
            actor=actor,
            why=why,
            fields=left,
        )

    def reschedule(
        self,
        raw: Document,
        *,
        change: Reschedule,
        now: datetime,
        actor: Actor,
        why: str,
        adjustment: Adjustment | None = None,
        reopen: bool = False,
        extension_id: str | None = None,
    ) -> Change | None:
        """Recount the due (an extension, a new due, a reopening or a calendar change)."""
        clock = ClockDoc.of(raw)
        if not reopen and not clock.is_open and change != "recomputed":
            return None
        adjustments = [*clock.adjustments, *([adjustment] if adjustment else [])]
        computed = self.compute(
            start=clock.start, base_working_days=clock.base_working_days, adjustments=adjustments
        )
        pending = [p for p in clock.pending_extensions if p.extension_id != extension_id]
        fields: dict[str, Any] = {
            "adjustments": [a.model_dump() for a in adjustments],
            "due": computed.due,
            "provisional": computed.provisional,
            "working_days": computed.working_days,
            "calendar_version": self.calendar_version,
            "pending_extensions": [p.model_dump() for p in pending],
            "awaiting_decision": clock.awaiting_decision and bool(pending),
        }
        moved = computed.due != clock.due or computed.provisional != clock.provisional
        if moved or reopen:
            fields["due_soon_at"] = self.due_soon_at(computed.due)
            fields["due_soon_sent"] = False
        if reopen or (clock.state == ClockState.overdue and clock.closed_at is None and moved):
            # Running again until the sweep finds the (possibly old) due passed.
            fields.update(state=ClockState.running, closed_at=None, overdue_at=None)
            fields["follow_up"] = None if clock.follow_up == "reminder" else clock.follow_up
        if not moved and not reopen and adjustment is None:
            if clock.calendar_version == self.calendar_version:
                return None
            return Change(set={"calendar_version": self.calendar_version})
        after = clock.model_copy(update=fields)
        after = after.model_copy(update={"adjustments": adjustments, "pending_extensions": pending})
        event = scheduled_event(after, change=change, now=now)
        return recorded_change(
            clock,
            after=after,
            action=change,
            now=now,
            actor=actor,
            why=why,
            fields=fields,
            events=[event],
        )


# -- helpers ------------------------------------------------------------------------------


def meets(clock: ClockDoc, *, at: datetime) -> bool:
    """Whether closing the clock at `at` meets it (for an answer to a reminder: in time).

    By its due as it stands (a calendar change moves it), unless the clock went overdue
    for good. A handling clock marked overdue stays so (its reminder may be out). An
    answer clock marked overdue by a timer that read the reminder before an answer given
    by the due was stored (a slow write) is met, unless recording the deduction began:
    a deduction recorded stands, and so does the lateness it is for.
    """
    if ensure_aware(at) > clock.due or clock.deduction_committed:
        return False
    return clock.state != ClockState.overdue or clock.kind == ClockKind.reminder_answer


def _closed_copy(clock: ClockDoc, *, at: datetime) -> ClockDoc:
    at = ensure_aware(at)
    if meets(clock, at=at):
        return clock.model_copy(
            update={"state": ClockState.met, "closed_at": at, "overdue_at": None}
        )
    return clock.model_copy(update={"state": ClockState.overdue, "closed_at": at})


def _owed_after_closing(clock: ClockDoc, *, after: ClockDoc) -> FollowUp | None:
    """The follow-up a clock still owes once closed.

    A reminder not yet sent is moot once the unit has replied; a deduction is not, unless
    the answer turned out in time (a timer overtook its write). An answer to a reminder
    given after its due is no answer in time (Art. 27): it owes the deduction the timer
    or the sweep would have set had they seen the due pass first.
    """
    if after.state == ClockState.met:
        return None
    if clock.follow_up == "assessment":
        return "assessment"
    newly_late = clock.state == ClockState.running and after.state == ClockState.overdue
    if clock.kind == ClockKind.reminder_answer and newly_late:
        return "assessment"
    return None
