"""Routes: clocks, reminders and assessment (thin; the work is in the services)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query

from services.deadlines.calendar import WorkingCalendar, local_date
from services.deadlines.deps import (
    AnswerableReminder,
    ClockDep,
    ClockIdPath,
    FactsDep,
    ServiceDep,
    SupervisionDep,
    ViewerDep,
    VisibleLetter,
    VisibleReminder,
    VisibleUnit,
    cursor_of,
    next_cursor,
)
from services.deadlines.models import ID_PATTERN, UNIT_PATTERN, ClockDoc, ReminderDoc
from services.deadlines.schemas import (
    AssessmentAnnul,
    AssessmentCreate,
    AssessmentItemRead,
    AssessmentPage,
    ClockPage,
    ClockRead,
    HistoryRead,
    LetterSupervisionRead,
    ReminderAnswerCreate,
    ReminderPage,
    ReminderRead,
    ScoresRead,
    TimeLeft,
    UnitScoreRead,
)
from shared.auth import Principal, Role, require_roles
from shared.clock import to_shanghai
from shared.errors import NotFound
from shared.events.vocabulary import LABELS_ZH, ClockState
from shared.mongo import Document
from shared.paging import MAX_PAGE_SIZE

router = APIRouter()

_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "not found, or outside the caller's unit"}
}
_FORBIDDEN: dict[int | str, dict[str, Any]] = {
    403: {"description": "the caller's role may not do this"}
}
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="page size")]
Cursor = Annotated[str | None, Query(max_length=512, description="from the previous page")]
UnitQuery = Annotated[str | None, Query(pattern=UNIT_PATTERN, description="unit id")]
Year = Annotated[int | None, Query(ge=2001, le=2100, description="default: this year")]
OfficeHead = Annotated[Principal, Depends(require_roles(Role.office_head, Role.office_leader))]


def clock_read(
    doc: Document, *, now: datetime, calendar: WorkingCalendar, history: bool = True
) -> ClockRead:
    """The API view of a stored clock, with the time left if it is open."""
    clock = ClockDoc.of(doc)
    left = None
    if clock.is_open:
        left = TimeLeft(
            working_days=calendar.working_days_between(local_date(now), local_date(clock.due)),
            hours=round((clock.due - now).total_seconds() / 3600, 2),
        )
    return ClockRead(
        id=clock.id,
        letter_id=clock.letter_id,
        kind=clock.kind,
        kind_zh=LABELS_ZH.get(clock.kind, clock.kind.value),
        unit_id=clock.unit_id,
        start=clock.start,
        working_days=clock.working_days,
        due=to_shanghai(clock.due),
        provisional=clock.provisional,
        state=clock.state,
        closed_at=clock.closed_at,
        overdue_at=clock.overdue_at,
        due_soon_at=clock.due_soon_at,
        awaiting_extension_decision=clock.awaiting_decision,
        pending_extensions=[p.extension_id for p in clock.pending_extensions],
        reminders=clock.reminders,
        reminder_id=clock.reminder_id,
        time_left=left,
        history=[HistoryRead(**h.model_dump()) for h in clock.history] if history else [],
    )


def _clock_page(docs: list[Document], *, limit: int, sort: str, service: ServiceDep) -> ClockPage:
    now = service.clock.now()
    calendar = service.calendar.calendar
    items = [clock_read(d, now=now, calendar=calendar) for d in docs[:limit]]
    more = len(docs) > limit
    last = docs[limit - 1] if more else None
    cursor = None if last is None else next_cursor(last[sort], last_id=str(last["_id"]))
    return ClockPage(items=items, next_cursor=cursor)


@router.get(
    "/letters/{letter_id}/clocks",
    summary="Every clock of a letter, with its history.",
    tags=["clocks"],
    response_model=ClockPage,
    responses=_NOT_FOUND,
)
async def letter_clocks(
    letter_id: VisibleLetter, service: ServiceDep, limit: Limit = 50, cursor: Cursor = None
) -> ClockPage:
    """Every clock of a letter, with its history."""
    docs = await service.clocks.page_for_letter(letter_id, cursor=cursor_of(cursor), limit=limit)
    return _clock_page(docs, limit=limit, sort="_id", service=service)


@router.get(
    "/units/{unit_id}/clocks",
    summary="A unit's clocks in the given states, soonest due first, with the time left.",
    tags=["clocks"],
    response_model=ClockPage,
    responses=_NOT_FOUND,
)
async def unit_clocks(
    unit_id: VisibleUnit,
    service: ServiceDep,
    state: Annotated[list[ClockState] | None, Query(description="default: running")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> ClockPage:
    """A unit's clocks in the given states, soonest due first, with the time left."""
    states = [s.value for s in state or [ClockState.running]]
    docs = await service.clocks.page_for_unit(
        unit_id, states=states, cursor=cursor_of(cursor), limit=limit
    )
    return _clock_page(docs, limit=limit, sort="due", service=service)


@router.get(
    "/clocks/overdue",
    summary="Every open overdue clock (a unit's users: their unit's), oldest due first.",
    tags=["clocks"],
    response_model=ClockPage,
    responses=_NOT_FOUND,
)
async def overdue_clocks(
    viewer: ViewerDep,
    service: ServiceDep,
    unit: UnitQuery = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> ClockPage:
    """Every open overdue clock (a unit's users: their unit's), oldest due first."""
    docs = await service.clocks.page_overdue(
        unit_id=viewer.narrow(unit), cursor=cursor_of(cursor), limit=limit
    )
    return _clock_page(docs, limit=limit, sort="due", service=service)


@router.get(
    "/clocks/{clock_id}",
    summary="One clock with its history.",
    tags=["clocks"],
    response_model=ClockRead,
    responses=_NOT_FOUND,
)
async def get_clock(
    clock_id: ClockIdPath, viewer: ViewerDep, service: ServiceDep, facts: FactsDep
) -> ClockRead:
    """One clock with its history."""
    doc = await service.clocks.get(clock_id)
    if doc is None:
        raise NotFound(f"clock {clock_id} not found")
    if viewer.unit_id is not None and doc.get("unit_id") != viewer.unit_id:
        known = await facts.get(str(doc["letter_id"])) or {}
        if viewer.unit_id not in {known.get("lead_unit_id"), *known.get("assisting_unit_ids", [])}:
            raise NotFound(f"clock {clock_id} not found")
    return clock_read(doc, now=service.clock.now(), calendar=service.calendar.calendar)


# -- reminders ----------------------------------------------------------------------------------


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
    responses=_NOT_FOUND,
)
async def list_reminders(
    viewer: ViewerDep,
    service: ServiceDep,
    unit: UnitQuery = None,
    answered: bool | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> ReminderPage:
    """Reminders with their answers, oldest first (a unit's users: their unit's)."""
    docs = await service.reminders.page(
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
    responses=_NOT_FOUND,
)
async def get_reminder(reminder: VisibleReminder) -> ReminderRead:
    """One reminder and its answer."""
    return reminder_read(reminder)


@router.post(
    "/reminders/{reminder_id}/answer",
    summary="The reminded unit answers (within one working day, or the unit loses points).",
    tags=["reminders"],
    response_model=ReminderRead,
    responses={**_NOT_FOUND, **_FORBIDDEN, 409: {"description": "answered already"}},
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
    responses=_NOT_FOUND,
)
async def letter_supervision(
    letter_id: VisibleLetter, viewer: ViewerDep, service: ServiceDep
) -> LetterSupervisionRead:
    """Every reminder (催办) of a letter with its answer, and every deduction item of the letter,
    of any year, oldest first (a unit's users: their unit's)."""
    unit_id = viewer.narrow(None)
    reminders = await service.reminders.for_letter(letter_id, unit_id=unit_id)
    items = await service.assessment.for_letter(letter_id, unit_id=unit_id)
    return LetterSupervisionRead(
        letter_id=letter_id,
        reminders=[reminder_read(d) for d in reminders],
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
    responses=_NOT_FOUND,
)
async def list_assessment(
    viewer: ViewerDep,
    service: ServiceDep,
    clock: ClockDep,
    year: Year = None,
    unit: UnitQuery = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> AssessmentPage:
    """Deduction items of a year, oldest first, annulled ones marked (a unit's users: theirs)."""
    docs = await service.assessment.page(
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
    responses=_NOT_FOUND,
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
        **_FORBIDDEN,
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
        **_NOT_FOUND,
        **_FORBIDDEN,
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
