"""How one change to a clock is recorded: its history entry, its audit entry and its events.

Every rule in `rules` returns its change through `recorded_change`, so a clock's
history, the audit log and the events it publishes always say the same thing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from services.deadlines.clocks.models import PRODUCER, ClockDoc, HistoryEntry
from shared.aggregate import Change
from shared.audit import Actor, AuditEntry
from shared.events import Event, make_event
from shared.events.catalog import ClockClosed, ClockScheduled


def history_entry(
    clock: ClockDoc,
    *,
    action: str,
    now: datetime,
    actor: Actor,
    why: str,
    event_id: str | None = None,
) -> HistoryEntry:
    """The clock's history line for one change."""
    return HistoryEntry(
        at=now,
        action=action,
        by=actor.user_id,
        role=actor.role,
        why=why,
        due=clock.due,
        provisional=clock.provisional,
        state=clock.state,
        event_id=event_id,
    )


def snapshot(clock: ClockDoc) -> dict[str, Any]:
    """What the audit log keeps of a clock before and after a change."""
    return {
        "state": clock.state.value,
        "due": clock.due.isoformat(),
        "provisional": clock.provisional,
        "working_days": clock.working_days,
    }


def audit_entry(
    before: ClockDoc | None, *, after: ClockDoc, action: str, now: datetime, actor: Actor, why: str
) -> AuditEntry:
    """The audit entry of one change to a clock."""
    return AuditEntry(
        at=now,
        actor=actor,
        action=f"clock.{action}",
        target_type="clock",
        target_id=after.id,
        letter_id=after.letter_id,
        before=None if before is None else snapshot(before),
        after=snapshot(after),
        note=why or None,
    )


def recorded_change(
    before: ClockDoc,
    *,
    after: ClockDoc,
    action: str,
    now: datetime,
    actor: Actor,
    why: str,
    fields: dict[str, Any],
    events: Sequence[Event] = (),
    extra: dict[str, Any] | None = None,
) -> Change:
    """One change as one write: its fields, its history line, its events and audit."""
    entry = history_entry(after, action=action, now=now, actor=actor, why=why)
    return Change(
        set={**fields, **(extra or {})},
        push={"history": [entry.model_dump()]},
        events=list(events),
        audit=[audit_entry(before, after=after, action=action, now=now, actor=actor, why=why)],
    )


def scheduled_event(clock: ClockDoc, *, change: str, now: datetime) -> Event:
    """`clock.scheduled`: a clock opened or its due recounted."""
    data = ClockScheduled(
        clock_id=clock.id,
        kind=clock.kind,
        unit_id=clock.unit_id,
        started_at=clock.start,
        due=clock.due,
        provisional=clock.provisional,
        state=clock.state,
        working_days=clock.working_days,
        change=change,
    )
    return make_event(data, producer=PRODUCER, occurred_at=now, letter_id=clock.letter_id)


def closed_event(clock: ClockDoc, *, now: datetime) -> Event:
    """`clock.closed`: a clock met, closed late or stopped."""
    assert clock.closed_at is not None
    data = ClockClosed(
        clock_id=clock.id,
        kind=clock.kind,
        unit_id=clock.unit_id,
        due=clock.due,
        closed_at=clock.closed_at,
        state=clock.state,
    )
    return make_event(data, producer=PRODUCER, occurred_at=now, letter_id=clock.letter_id)
