"""Event handlers: register letters, and keep what other services report on the letter.

Every handler is idempotent: registration is an insert keyed by the letter id, and every
other fact is applied once per event id (`applied_events`). An event for a letter not yet
registered (events travel on separate queues) fails with NotFound and is retried by the bus.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.routing.letters.models import (
    ArchiveInfo,
    AssessmentInfo,
    ClockInfo,
    PublicationInfo,
    ReminderInfo,
    to_document,
)
from services.routing.letters.service import LetterService, Outcome
from services.routing.letters.workflow import Action, State, system_transition
from shared.errors import NotFound
from shared.events import Event
from shared.events.catalog import (
    AssessmentRecorded,
    ClockClosed,
    ClockDueSoon,
    ClockOverdue,
    ClockScheduled,
    LetterArchived,
    LetterPublished,
    LetterReceived,
    ReminderAnswered,
    ReminderIssued,
    UploadParked,
)
from shared.logging import get_logger
from shared.mongo import Document
from shared.runtime import Dispatcher

log = get_logger(__name__)

# What a handler decides: the state the letter moves to (None: it stays), and the write.
Transition = tuple[State | None, Outcome]


def _clock_update(doc: Document, kind: str, **fields: Any) -> dict[str, Any]:
    """`$set` of some fields of a clock the letter knows (a clock it never saw is skipped)."""
    if kind not in (doc.get("clocks") or {}):
        return {}
    return {f"clocks.{kind}.{name}": value for name, value in fields.items()}


def register(dispatcher: Dispatcher, *, service: LetterService) -> None:
    """Register every handler of the routing service."""

    @dispatcher.on(LetterReceived)
    async def on_received(event: Event, data: LetterReceived) -> None:
        await service.register(event, data)

    @dispatcher.on(ClockScheduled)
    async def on_clock_scheduled(event: Event, data: ClockScheduled) -> None:
        def decide(doc: Document, now: datetime) -> Transition:
            clock = ClockInfo(
                clock_id=data.clock_id,
                kind=data.kind,
                unit_id=data.unit_id,
                due=data.due,
                state=data.state,
                provisional=data.provisional,
                working_days=data.working_days,
                change=data.change,
            )
            notices = []
            if data.unit_id:
                payload = {
                    "kind": data.kind.value,
                    "due": data.due,
                    "change": data.change,
                    "working_days": data.working_days,
                }
                notices.append((data.unit_id, "clock.scheduled", payload))
            outcome = Outcome(
                set={f"clocks.{data.kind.value}": to_document(clock)}, notices=notices
            )
            return None, outcome

        await service.apply_event(event, decide)

    @dispatcher.on(ClockClosed)
    async def on_clock_closed(event: Event, data: ClockClosed) -> None:
        def decide(doc: Document, now: datetime) -> Transition:
            changes = _clock_update(
                doc, data.kind.value, state=data.state.value, closed_at=data.closed_at
            )
            return None, Outcome(set=changes)

        await service.apply_event(event, decide)

    @dispatcher.on(ClockDueSoon)
    async def on_due_soon(event: Event, data: ClockDueSoon) -> None:
        def decide(doc: Document, now: datetime) -> Transition:
            notices = []
            if data.unit_id:
                payload = {"kind": data.kind.value, "due": data.due, "title": doc.get("title")}
                notices.append((data.unit_id, "clock.due_soon", payload))
            changes = _clock_update(doc, data.kind.value, due_soon=True)
            return None, Outcome(set=changes, notices=notices)

        await service.apply_event(event, decide)

    @dispatcher.on(ClockOverdue)
    async def on_overdue(event: Event, data: ClockOverdue) -> None:
        def decide(doc: Document, now: datetime) -> Transition:
            notices = []
            if data.unit_id:
                payload = {"kind": data.kind.value, "due": data.due, "title": doc.get("title")}
                notices.append((data.unit_id, "clock.overdue", payload))
            changes = _clock_update(doc, data.kind.value, overdue=True)
            return None, Outcome(set=changes, notices=notices)

        await service.apply_event(event, decide)

    @dispatcher.on(ReminderIssued)
    async def on_reminder(event: Event, data: ReminderIssued) -> None:
        def decide(doc: Document, now: datetime) -> Transition:
            reminder = ReminderInfo(
                reminder_id=data.reminder_id,
                clock_id=data.clock_id,
                unit_id=data.unit_id,
                answer_due=data.answer_due,
                text=data.text,
            )
            payload = {
                "reminder_id": data.reminder_id,
                "answer_due": data.answer_due,
                "text": data.text,
                "title": doc.get("title"),
            }
            return None, Outcome(
                push={"reminders": [to_document(reminder)]},
                notices=[(data.unit_id, "reminder.issued", payload)],
            )

        await service.apply_event(event, decide)

    @dispatcher.on(ReminderAnswered)
    async def on_reminder_answered(event: Event, data: ReminderAnswered) -> None:
        def decide(doc: Document, now: datetime) -> Transition:
            reminders = [dict(r) for r in doc.get("reminders") or []]
            for reminder in reminders:
                if reminder.get("reminder_id") == data.reminder_id:
                    reminder["answered_at"] = data.answered_at
            return None, Outcome(set={"reminders": reminders})

        await service.apply_event(event, decide)

    @dispatcher.on(AssessmentRecorded)
    async def on_assessment(event: Event, data: AssessmentRecorded) -> None:
        def decide(doc: Document, now: datetime) -> Transition:
            item = AssessmentInfo(
                item_id=data.item_id,
                unit_id=data.unit_id,
                kind=data.kind,
                points=data.points,
                year=data.year,
                reason=data.reason,
            )
            payload = {"item_id": data.item_id, "points": data.points, "reason": data.reason}
            return None, Outcome(
                push={"assessments": [to_document(item)]},
                notices=[(data.unit_id, "assessment.recorded", payload)],
            )

        # The item itself lives in deadlines; here it is shown on its letter. One without a
        # letter, or for a letter never registered here, has nowhere to show: retrying
        # cannot change that, so it is logged and acknowledged, not parked.
        if event.letter_id is None:
            log.warning("assessment item without a letter", item_id=data.item_id)
            return
        try:
            await service.apply_event(event, decide)
        except NotFound:
            log.warning(
                "assessment item for an unknown letter",
                item_id=data.item_id,
                letter_id=event.letter_id,
            )

    @dispatcher.on(LetterPublished)
    async def on_published(event: Event, data: LetterPublished) -> None:
        def decide(doc: Document, now: datetime) -> Transition:
            publication = PublicationInfo(
                upload_id=data.upload_id,
                platform=data.platform,
                kind=data.kind,
                visibility=data.visibility,
                mode=data.mode,
                emailed=data.emailed,
                published_at=data.published_at,
            )
            state = system_transition(State(doc["state"]), Action.publish)
            if state is None:
                log.warning(
                    "publication recorded out of order", letter_id=doc["_id"], state=doc["state"]
                )
            return state, Outcome(push={"publications": [to_document(publication)]})

        await service.apply_event(event, decide)

    @dispatcher.on(LetterArchived)
    async def on_archived(event: Event, data: LetterArchived) -> None:
        def decide(doc: Document, now: datetime) -> Transition:
            archive = ArchiveInfo(
                archive_id=data.archive_id, sha256=data.sha256, archived_at=data.archived_at
            )
            state = system_transition(State(doc["state"]), Action.archive)
            if state is None:
                log.warning(
                    "archive recorded out of order", letter_id=doc["_id"], state=doc["state"]
                )
            return state, Outcome(set={"archive": to_document(archive)})

        await service.apply_event(event, decide)

    @dispatcher.on(UploadParked)
    async def on_upload_parked(event: Event, data: UploadParked) -> None:
        def decide(doc: Document, now: datetime) -> Transition:
            problem = {
                "upload_key": data.upload_key,
                "platform": data.platform,
                "attempts": data.attempts,
                "error": data.error[:2000],
                "at": now,
            }
            return None, Outcome(push={"upload_problems": [problem]})

        await service.apply_event(event, decide)
