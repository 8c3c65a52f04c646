"""Supervision (Art. 25–28): units answer reminders; the office records deductions; scores."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from services.deadlines.clocks.models import (
    PRODUCER,
    ClockDoc,
    handling_clock_id,
)
from services.deadlines.clocks.rules import meets
from services.deadlines.clocks.service import DeadlinesService
from services.deadlines.settings import DeadlinesSettings
from services.deadlines.supervision.models import (
    Annulment,
    AssessmentDoc,
    AssessmentKind,
    AssessmentTrigger,
    ReminderAnswer,
    ReminderDoc,
)
from services.deadlines.supervision.repository import (
    AssessmentRepository,
    ReminderRepository,
)
from shared.aggregate import Change
from shared.audit import Actor, AuditEntry
from shared.auth import Principal
from shared.clock import Clock, to_shanghai
from shared.errors import Conflict, Invalid, NotFound
from shared.events import make_event
from shared.events.catalog import AssessmentRecorded, ReminderAnswered
from shared.ids import new_id
from shared.mongo import Document


class LetterFacts(Protocol):
    """What supervision reads of a letter's facts (the reports' FactsRepository)."""

    async def get(self, letter_id: str) -> Document | None: ...

    async def update(self, letter_id: str, *, add: dict[str, Any] | None = None) -> None: ...


@dataclass(frozen=True)
class UnitScore:
    """A unit's assessment score for a year."""

    unit_id: str
    score: float
    deducted: float
    items: int


def actor_of(principal: Principal) -> Actor:
    """The audit actor for a person."""
    return Actor(
        user_id=principal.user_id,
        name=principal.name,
        role=principal.role.value,
        unit_id=principal.unit_id,
    )


class SupervisionService:
    """Answers to reminders, deduction items and scores."""

    def __init__(
        self,
        *,
        deadlines: DeadlinesService,
        reminders: ReminderRepository,
        assessment: AssessmentRepository,
        facts: LetterFacts,
        settings: DeadlinesSettings,
        clock: Clock,
    ) -> None:
        self._deadlines = deadlines
        self._reminders = reminders
        self._assessment = assessment
        self._facts = facts
        self._settings = settings
        self._clock = clock

    async def answer_reminder(
        self, reminder: ReminderDoc, *, text: str, principal: Principal
    ) -> Document:
        """Store the unit's answer once, then close its answer clock (late: with its deduction)."""
        now = self._clock.now()
        actor = actor_of(principal)
        # In time by the answer clock, whose due a calendar change may have moved since
        # the reminder was issued: the clock closes by the same rule (clocks.meets).
        clock = await self._deadlines.clocks.get(reminder.answer_clock_id)
        in_time = now <= reminder.answer_due if clock is None else meets(ClockDoc.of(clock), at=now)

        def decide(doc: Document) -> Change:
            current = ReminderDoc.of(doc)
            if current.answered:
                raise Conflict(
                    f"reminder {current.id} was answered already",
                    details={
                        "answered_at": current.answer and current.answer.answered_at.isoformat()
                    },
                )
            answer = ReminderAnswer(
                text=text,
                answered_at=now,
                by=principal.user_id,
                by_name=principal.name,
                in_time=in_time,
            )
            event = make_event(
                ReminderAnswered(
                    reminder_id=current.id, unit_id=current.unit_id, answered_at=now, text=text
                ),
                producer=PRODUCER,
                occurred_at=now,
                letter_id=current.letter_id,
            )
            audit = AuditEntry(
                at=now,
                actor=actor,
                action="reminder.answered",
                target_type="reminder",
                target_id=current.id,
                letter_id=current.letter_id,
                before={"answered": False},
                after={"answered": True, "in_time": answer.in_time},
                note=text[:500],
            )
            return Change(
                set={"answered": True, "answer": answer.model_dump()}, events=[event], audit=[audit]
            )

        doc = await self._reminders.mutate(reminder.id, decide)
        await self._deadlines.close_clock(
            reminder.answer_clock_id, at=now, why=f"answered by {principal.name}"
        )
        return doc

    async def record(
        self,
        *,
        unit_id: str,
        kind: AssessmentKind,
        reason: str,
        principal: Principal,
        letter_id: str,
        points: float | None = None,
        trigger: AssessmentTrigger | None = None,
    ) -> Document:
        """Record a deduction item (wrong publication mode, Art. 28, or a manual one)."""
        if kind == "wrong_publication_mode":
            if trigger is None:
                raise _invalid(
                    "trigger",
                    "Art. 28 deducts a wrongly confirmed publication mode only once it drew"
                    " a superior's criticism (superior_criticism) or had a negative social"
                    " impact (negative_social_impact): name which",
                )
            await self._check_handled_by(letter_id, unit_id=unit_id, lead_only=True)
        else:
            if trigger is not None:
                raise _invalid("trigger", "only a wrong_publication_mode deduction has a trigger")
            await self._check_handled_by(letter_id, unit_id=unit_id)
        now = self._clock.now()
        item_id = new_id("asm")
        value = self._settings.weight(kind) if points is None else points
        year = to_shanghai(now).year
        doc: Document = {
            "_id": item_id,
            "unit_id": unit_id,
            "kind": kind,
            "points": value,
            "year": year,
            "reason": reason,
            "trigger": trigger,
            "letter_id": letter_id,
            "reminder_id": None,
            "recorded_at": now,
            "recorded_by": principal.user_id,
            "annulled": None,
        }
        event = make_event(
            AssessmentRecorded(
                item_id=item_id, unit_id=unit_id, kind=kind, points=value, year=year, reason=reason
            ),
            producer=PRODUCER,
            occurred_at=now,
            letter_id=letter_id,
        )
        audit = AuditEntry(
            at=now,
            actor=actor_of(principal),
            action="assessment.recorded",
            target_type="assessment",
            target_id=item_id,
            letter_id=letter_id,
            after={
                "unit_id": unit_id,
                "kind": kind,
                "points": value,
                "year": year,
                "trigger": trigger,
            },
            note=reason,
        )
        # Listed under the letter first, so the letter's items are read by id (`for_letter`).
        await self._facts.update(letter_id, add={"assessment_ids": [item_id]})
        await self._assessment.create(doc, events=[event], audit=[audit])
        return doc

    async def annul(self, item_id: str, *, reason: str, principal: Principal) -> Document:
        """Annul a deduction item once: it stays, marked, and counts in no score or report.

        The same annulment again (a retried request) changes nothing; another reason for
        an item annulled already is a conflict, not a second annulment.
        """
        now = self._clock.now()

        def decide(doc: Document) -> Change | None:
            item = AssessmentDoc.of(doc)
            if item.annulled is not None:
                if item.annulled.reason == reason:
                    return None
                raise Conflict(
                    f"assessment item {item.id} was annulled already, for another reason",
                    details={"annulled": item.annulled.model_dump(mode="json")},
                )
            annulment = Annulment(
                by=principal.user_id, by_name=principal.name, at=now, reason=reason
            )
            audit = AuditEntry(
                at=now,
                actor=actor_of(principal),
                action="assessment.annulled",
                target_type="assessment",
                target_id=item.id,
                letter_id=item.letter_id,
                before={"annulled": None, "unit_id": item.unit_id, "points": item.points},
                after={"annulled": True},
                note=reason,
            )
            return Change(set={"annulled": annulment.model_dump()}, audit=[audit])

        if await self._assessment.get(item_id) is None:
            raise NotFound(f"assessment item {item_id} not found")
        return await self._assessment.mutate(item_id, decide)

    async def _check_handled_by(
        self, letter_id: str, *, unit_id: str, lead_only: bool = False
    ) -> None:
        """422 unless the letter was handed to units here and `unit_id` is one of them
        (`lead_only`: its lead unit).

        The regulation's deductions are about a unit's handling of a letter: an unanswered
        reminder on an overdue letter (Art. 27), a publication mode wrongly confirmed for a
        letter (Art. 28) — which only the lead unit proposes, with its reply.
        """
        clock = await self._deadlines.clocks.get(handling_clock_id(letter_id))
        if clock is None:
            raise _invalid(
                "letter_id",
                f"letter {letter_id} was never handed to a unit here (it has no handling"
                " clock): a deduction is for a unit's handling of a letter (Art. 27, 28)",
            )
        lead = clock.get("unit_id")
        if lead_only and unit_id != lead:
            raise _invalid(
                "unit_id",
                f"unit {unit_id} is not the lead unit of letter {letter_id} ({lead}): only"
                " the lead unit proposes the publication mode (Art. 28)",
            )
        known = await self._facts.get(letter_id) or {}
        units = [u for u in (lead, *known.get("assisting_unit_ids", [])) if u]
        if unit_id not in units:
            raise _invalid(
                "unit_id",
                f"unit {unit_id} did not handle letter {letter_id} (its units: {', '.join(units)})",
            )

    @property
    def base_points(self) -> float:
        """The score of a unit without deductions."""
        return self._settings.assessment_base_points

    async def scores(
        self, year: int, *, unit_id: str | None = None, units: Iterable[str] = ()
    ) -> list[UnitScore]:
        """Each unit's score for a year: the base minus its deductions (never below zero),
        annulled items left out; every one of `units` too (the base, if nothing deducted)."""
        deducted: dict[str, float] = defaultdict(float)
        items: dict[str, int] = defaultdict(int)
        for doc in await self._assessment.for_year(year, unit_id=unit_id):
            deducted[doc["unit_id"]] += float(doc["points"])
            items[doc["unit_id"]] += 1
        base = self.base_points
        return [
            UnitScore(
                unit_id=unit,
                score=round(max(base - deducted[unit], 0.0), 2),
                deducted=round(deducted[unit], 2),
                items=items[unit],
            )
            for unit in sorted(set(deducted) | set(units))
        ]


def _invalid(field: str, reason: str) -> Invalid:
    """A 422 naming the body field, in the shape request validation uses."""
    return Invalid(
        f"{field}: {reason}", details={"errors": [{"field": field, "in": "body", "reason": reason}]}
    )
