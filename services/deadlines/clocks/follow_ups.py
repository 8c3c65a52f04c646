"""What an overdue clock owes (Art. 27): the reminder (催办) to its unit, with the clock of the
unit's answer; and, when that answer is not given by its due, the unit's deduction.

Each step is written once whatever happens in between: the reminder and the deduction have
ids derived from the clock, and the clock's `follow_up` flag is cleared only after them, so
the sweep finishes whatever a crash left half done.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from services.deadlines.clocks.models import PRODUCER, ClockDoc, answer_clock_id
from services.deadlines.supervision.models import assessment_item_id, reminder_id
from shared.aggregate import Change
from shared.audit import AuditEntry
from shared.clock import to_shanghai
from shared.events import make_event
from shared.events.catalog import AssessmentRecorded, ReminderIssued
from shared.events.vocabulary import ClockKind
from shared.mongo import Document

if TYPE_CHECKING:
    from services.deadlines.clocks.service import DeadlinesService


async def issue_reminder(service: DeadlinesService, clock: ClockDoc) -> None:
    """Issue the reminder (催办) an overdue handling clock owes, and open its answer clock."""
    assert clock.unit_id is not None
    rid = reminder_id(clock.id, number=len(clock.reminders) + 1)
    now = service.clock.now()
    days = service.settings.reminder_answer_working_days
    answer_due = service.rules.compute(start=now, base_working_days=days, adjustments=()).due
    text = (
        f"催办：来信 {clock.letter_id} 的办理已超过期限"
        f"（{to_shanghai(clock.due):%Y-%m-%d %H:%M}），"
        f"请于 {to_shanghai(answer_due):%Y-%m-%d %H:%M} 前反馈办理情况。"
    )
    doc: Document = {
        "_id": rid,
        "letter_id": clock.letter_id,
        "clock_id": clock.id,
        "unit_id": clock.unit_id,
        "issued_at": now,
        "answer_due": answer_due,
        "answer_clock_id": answer_clock_id(rid),
        "text": text,
        "answered": False,
        "answer": None,
    }
    event = make_event(
        ReminderIssued(
            reminder_id=rid,
            clock_id=clock.id,
            unit_id=clock.unit_id,
            answer_due=answer_due,
            text=text,
        ),
        producer=PRODUCER,
        occurred_at=now,
        letter_id=clock.letter_id,
    )
    audit = AuditEntry(
        at=now,
        actor=service.actor,
        action="reminder.issued",
        target_type="reminder",
        target_id=rid,
        letter_id=clock.letter_id,
        after={"unit_id": clock.unit_id, "answer_due": answer_due.isoformat()},
        note=f"clock {clock.id} overdue since {clock.due.isoformat()}",
    )
    if not await service.reminders.create(doc, events=[event], audit=[audit]):
        stored = await service.reminders.get(rid)
        assert stored is not None
        doc = stored
    await service.open_clock(
        clock_id=str(doc["answer_clock_id"]),
        letter_id=clock.letter_id,
        kind=ClockKind.reminder_answer,
        unit_id=clock.unit_id,
        start=doc["issued_at"],
        working_days=days,
        why=f"reminder {rid} issued",
        reminder=rid,
    )

    def done(d: Document) -> Change | None:
        if d.get("follow_up") != "reminder" or rid in d.get("reminders", []):
            return None
        return Change(set={"follow_up": None}, push={"reminders": [rid]})

    await service.clocks.mutate(clock.id, done)


async def record_unanswered(service: DeadlinesService, read: ClockDoc) -> None:
    """Record the deduction an unanswered (or late-answered) reminder owes (Art. 27)."""

    def commit(d: Document) -> Change | None:
        if d.get("follow_up") != "assessment" or d.get("deduction_committed"):
            return None
        return Change(set={"deduction_committed": True})

    # Committed on the clock before the item is written: an answer given by the due
    # whose closing lands first owes nothing (the flag is gone), one landing after
    # finds the deduction begun and closes late (clocks.meets).
    clock = ClockDoc.of(await service.clocks.mutate(read.id, commit))
    if clock.follow_up != "assessment":
        return
    assert clock.unit_id is not None
    assert clock.reminder_id is not None
    item_id = assessment_item_id(clock.reminder_id)
    now = service.clock.now()
    points = service.settings.weight("reminder_unanswered")
    year = to_shanghai(clock.due).year
    reason = (
        f"催办 {clock.reminder_id} 未在 "
        f"{service.settings.reminder_answer_working_days} 个工作日内反馈"
        f"（期限 {to_shanghai(clock.due):%Y-%m-%d %H:%M}）"
    )
    if clock.closed_at is not None:
        # Answered after the due: the deduction says when, for whoever disputes it.
        reason += f"，反馈于 {to_shanghai(clock.closed_at):%Y-%m-%d %H:%M}"
    doc = {
        "_id": item_id,
        "unit_id": clock.unit_id,
        "kind": "reminder_unanswered",
        "points": points,
        "year": year,
        "reason": reason,
        "letter_id": clock.letter_id,
        "reminder_id": clock.reminder_id,
        "recorded_at": now,
        "recorded_by": service.actor.user_id,
    }
    await service.assessment.create(
        doc,
        events=[
            make_event(
                AssessmentRecorded(
                    item_id=item_id,
                    unit_id=clock.unit_id,
                    kind="reminder_unanswered",
                    points=points,
                    year=year,
                    reason=reason,
                ),
                producer=PRODUCER,
                occurred_at=now,
                letter_id=clock.letter_id,
            )
        ],
        audit=[
            AuditEntry(
                at=now,
                actor=service.actor,
                action="assessment.recorded",
                target_type="assessment",
                target_id=item_id,
                letter_id=clock.letter_id,
                after={
                    "unit_id": clock.unit_id,
                    "points": points,
                    "kind": "reminder_unanswered",
                },
                note=reason,
            )
        ],
    )

    def done(d: Document) -> Change | None:
        return Change(set={"follow_up": None}) if d.get("follow_up") == "assessment" else None

    await service.clocks.mutate(clock.id, done)
