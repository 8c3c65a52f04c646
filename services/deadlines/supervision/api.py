"""Routes: reminders and their answers, deductions and scores (thin; the work is in the service)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query

from services.deadlines.clocks.models import ID_PATTERN
from services.deadlines.deps import (
    FORBIDDEN,
    NOT_FOUND,
    AnswerableReminder,
    AssessmentDep,
    ClockDep,
    Cursor,
    FactsDep,
    Limit,
    RemindersDep,
    ServiceDep,
    SupervisionDep,
    UnitQuery,
    ViewerDep,
    VisibleLetter,
    VisibleLetterFacts,
    VisibleReminder,
    cursor_of,
    next_cursor,
)
from services.deadlines.supervision.models import ReminderDoc, assessment_item_id
from services.deadlines.supervision.schemas import (
    AssessmentAnnul,
    AssessmentCreate,
    AssessmentItemRead,
    AssessmentPage,
    LetterSupervisionRead,
    ReminderAnswerCreate,
    ReminderPage,
    ReminderRead,
    ScoresRead,
    UnitScoreRead,
)
from shared.auth import Principal, Role, require_roles
from shared.clock import to_shanghai
from shared.mongo import Document

router = APIRouter()

Year = Annotated[int | None, Query(ge=2001, le=2100, description="default: this year")]
OfficeHead = Annotated[Principal, Depends(require_roles(Role.office_head, Role.office_leader))]


def reminder_read(doc: Document | ReminderDoc) -> ReminderRead:
    """The API view of a stored reminder."""
    reminder = doc if isinstance(doc, ReminderDoc) else ReminderDoc.of(doc)
    data: dict[str, Any] = reminder.model_dump(exclude={"version"})
    data["answer_due"] = to_shanghai(reminder.answer_due)
    return ReminderRead.model_validate(data)


@router.get(
    "/reminders",
    summary="Reminders with their answers, oldest first (a unit's users: their unit's).",
    tags=["reminders"],
    response_model=ReminderPage,
    responses=NOT_FOUND,
)
async def list_reminders(
    viewer: ViewerDep,
    reminders: RemindersDep,
    unit: UnitQuery = None,
    answered: bool | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> ReminderPage:
    """Reminders with their answers, oldest first (a unit's users: their unit's)."""
    docs = await reminders.page(
        unit_id=viewer.narrow(unit), answered=answered, cursor=cursor_of(cursor), limit=limit
    )
    more = len(docs) > limit
    last = docs[limit - 1] if more else None
    return ReminderPage(
        items=[reminder_read(d) for d in docs[:limit]],
        next_cursor=None
        if last is None
        else next_cursor(last["issued_at"], last_id=str(last["_id"])),
    )


@router.get(
    "/reminders/{reminder_id}",
    summary="One reminder and its answer.",
    tags=["reminders"],
    response_model=ReminderRead,
    responses=NOT_FOUND,
)
async def get_reminder(reminder: VisibleReminder) -> ReminderRead:
    """One reminder and its answer."""
    return reminder_read(reminder)


@router.post(
    "/reminders/{reminder_id}/answer",
    summary="The reminded unit answers (within one working day, or the unit loses points).",
    tags=["reminders"],
    response_model=ReminderRead,
    responses={**NOT_FOUND, **FORBIDDEN, 409: {"description": "answered already"}},
)
async def answer_reminder(
    reminder: AnswerableReminder,
    body: ReminderAnswerCreate,
    viewer: ViewerDep,
    supervision: SupervisionDep,
) -> ReminderRead:
    """The reminded unit answers (within one working day, or the unit loses points)."""
    doc = await supervision.answer_reminder(reminder, text=body.text, principal=viewer.principal)
    return reminder_read(doc)


@router.get(
    "/letters/{letter_id}/supervision",
    summary="A letter's reminders with their answers, and its deduction items (for the archive).",
    tags=["reminders", "assessment"],
    response_model=LetterSupervisionRead,
    responses=NOT_FOUND,
)
async def letter_supervision(
    letter_id: VisibleLetter,
    viewer: ViewerDep,
    reminders: RemindersDep,
    assessment: AssessmentDep,
    service: ServiceDep,
    known: VisibleLetterFacts,
) -> LetterSupervisionRead:
    """Every reminder (催办) of a letter with its answer, and every deduction item of the letter,
    of any year, oldest first (a unit's users: their unit's)."""
    unit_id = viewer.narrow(None)
    # By id: the reminders the letter's clocks raised, a deduction per reminder, and the
    # items the office recorded (listed in the letter's facts).
    clocks = await service.clocks.of_letter(
        letter_id, submissions=known.get("submissions") or [], fields={"_id": 1}
    )
    reminder_ids = [str(r) for c in clocks for r in c.get("reminders") or []]
    found = await reminders.for_letter(reminder_ids, unit_id=unit_id)
    item_ids = [assessment_item_id(r) for r in reminder_ids]
    item_ids += [str(i) for i in known.get("assessment_ids") or []]
    items = await assessment.for_letter(item_ids, unit_id=unit_id)
    return LetterSupervisionRead(
        letter_id=letter_id,
        reminders=[reminder_read(d) for d in found],
        assessment_items=[AssessmentItemRead.model_validate({**d, "id": d["_id"]}) for d in items],
    )


# -- assessment ----------------------------------------------------------------------------------


def _year(year: int | None, *, clock: ClockDep) -> int:
    return year if year is not None else to_shanghai(clock.now()).year


@router.get(
    "/assessment",
    summary="Deduction items of a year, annulled ones too (a unit's users: their unit's).",
    tags=["assessment"],
    response_model=AssessmentPage,
    responses=NOT_FOUND,
)
async def list_assessment(
    viewer: ViewerDep,
    assessment: AssessmentDep,
    clock: ClockDep,
    year: Year = None,
    unit: UnitQuery = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> AssessmentPage:
    """Deduction items of a year, oldest first, annulled ones marked (a unit's users: theirs)."""
    docs = await assessment.page(
        year=_year(year, clock=clock),
        unit_id=viewer.narrow(unit),
        cursor=cursor_of(cursor),
        limit=limit,
    )
    more = len(docs) > limit
    last = docs[limit - 1] if more else None
    return AssessmentPage(
        items=[AssessmentItemRead.model_validate({**d, "id": d["_id"]}) for d in docs[:limit]],
        next_cursor=None
        if last is None
        else next_cursor(last["recorded_at"], last_id=str(last["_id"])),
    )


@router.get(
    "/assessment/scores",
    summary="Each unit's score for a year: the base minus its deductions (none annulled).",
    tags=["assessment"],
    response_model=ScoresRead,
    responses=NOT_FOUND,
)
async def assessment_scores(
    viewer: ViewerDep,
    supervision: SupervisionDep,
    facts: FactsDep,
    clock: ClockDep,
    year: Year = None,
    unit: UnitQuery = None,
) -> ScoresRead:
    """Each unit's score for a year: the base minus its deductions (none annulled)."""
    the_year = _year(year, clock=clock)
    narrowed = viewer.narrow(unit)
    names = await facts.unit_names()
    scores = await supervision.scores(
        the_year, unit_id=narrowed, units=[narrowed] if narrowed is not None else names
    )
    rows = [UnitScoreRead(**s.__dict__, unit_name=names.get(s.unit_id)) for s in scores]
    return ScoresRead(year=the_year, base_points=supervision.base_points, units=rows)


@router.post(
    "/assessment",
    summary="Record a deduction (Art. 28 wrong publication mode, or manual), with its reason.",
    tags=["assessment"],
    status_code=201,
    response_model=AssessmentItemRead,
    responses={
        **FORBIDDEN,
        422: {
            "description": "no letter, a letter never handed to a unit here, or a unit that"
            " did not handle it (the field and the reason are named)"
        },
    },
)
async def record_assessment(
    body: AssessmentCreate, principal: OfficeHead, supervision: SupervisionDep
) -> AssessmentItemRead:
    """Record a deduction for a unit's handling of a letter (Art. 28, or manual)."""
    doc = await supervision.record(
        unit_id=body.unit_id,
        kind=body.kind,
        reason=body.reason,
        principal=principal,
        letter_id=body.letter_id,
        points=body.points,
        trigger=body.trigger,
    )
    return AssessmentItemRead.model_validate({**doc, "id": doc["_id"]})


@router.post(
    "/assessment/{item_id}/annul",
    summary="Annul a deduction item (wrongly recorded, or its basis gone), with the reason.",
    tags=["assessment"],
    response_model=AssessmentItemRead,
    responses={
        **NOT_FOUND,
        **FORBIDDEN,
        409: {"description": "annulled already, for another reason"},
    },
)
async def annul_assessment(
    item_id: Annotated[str, Path(pattern=ID_PATTERN, description="assessment item id")],
    body: AssessmentAnnul,
    principal: OfficeHead,
    supervision: SupervisionDep,
) -> AssessmentItemRead:
    """Annul a deduction item: it stays, marked annulled, and counts in no score or report.

    Annulling it again for the same reason changes nothing."""
    doc = await supervision.annul(item_id, reason=body.reason, principal=principal)
    return AssessmentItemRead.model_validate({**doc, "id": doc["_id"]})
