"""Routes: clocks, and the operators' sweep and clock control (thin; the work is in the service)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query

from services.deadlines.calendar.working_days import WorkingCalendar, local_date
from services.deadlines.clocks.models import ClockDoc
from services.deadlines.clocks.schemas import (
    ClockControl,
    ClockControlRead,
    ClockPage,
    ClockRead,
    HistoryRead,
    SweepRead,
    TimeLeft,
)
from services.deadlines.clocks.service import SweepReport
from services.deadlines.deps import (
    ADMIN_ONLY,
    NOT_FOUND,
    Admin,
    ClockIdPath,
    Cursor,
    FactsDep,
    Limit,
    ServiceDep,
    UnitQuery,
    ViewerDep,
    VisibleLetter,
    VisibleLetterFacts,
    VisibleUnit,
    cursor_of,
    next_cursor,
)
from shared.clock import Clock, FixedClock, OffsetClock, ensure_aware, to_shanghai
from shared.errors import Conflict, Invalid, NotFound
from shared.events.vocabulary import LABELS_ZH, ClockState
from shared.mongo import Document
from shared.validation import LATEST

router = APIRouter()
# The operators' routes: the sweep (always), the clock control (only when it is enabled).
admin_router = APIRouter()
clock_router = APIRouter()


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
    responses=NOT_FOUND,
)
async def letter_clocks(
    letter_id: VisibleLetter,
    known: VisibleLetterFacts,
    service: ServiceDep,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> ClockPage:
    """Every clock of a letter, with its history."""
    submissions = known.get("submissions") or []
    docs = await service.clocks.page_for_letter(
        letter_id, submissions=submissions, cursor=cursor_of(cursor), limit=limit
    )
    return _clock_page(docs, limit=limit, sort="_id", service=service)


@router.get(
    "/units/{unit_id}/clocks",
    summary="A unit's clocks in the given states, soonest due first, with the time left.",
    tags=["clocks"],
    response_model=ClockPage,
    responses=NOT_FOUND,
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
    responses=NOT_FOUND,
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
    responses=NOT_FOUND,
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


# -- operations ---------------------------------------------------------------------------------


def sweep_read(report: SweepReport) -> SweepRead:
    """The API view of a sweep."""
    return SweepRead(**asdict(report))


@admin_router.post(
    "/admin/sweep",
    summary="Run the sweep now (it also runs by itself every `sweep_interval_s`).",
    tags=["admin"],
    response_model=SweepRead,
    responses=ADMIN_ONLY,
)
async def sweep_now(_: Admin, service: ServiceDep) -> SweepRead:
    """Run the sweep now (it also runs by itself every `sweep_interval_s`)."""
    return sweep_read(await service.sweep())


def move_clock(clock: Clock, *, body: ClockControl) -> None:
    """Set or advance a movable clock; time never goes back."""
    if (body.set_to is None) == (body.advance_s is None):
        raise Invalid("give exactly one of set_to and advance_s", details={"field": "set_to"})
    now = clock.now()
    delta = (
        timedelta(seconds=body.advance_s)
        if body.advance_s is not None
        else ensure_aware(body.set_to) - now  # type: ignore[arg-type]  # set_to given here
    )
    if delta < timedelta(0):
        raise Invalid("time only moves forward", details={"now": now.isoformat()})
    if now + delta >= LATEST:
        # Past it the calendar has no years and every clock read would fail (a 500).
        field = "advance_s" if body.advance_s is not None else "set_to"
        raise Invalid(
            f"{field}: the service's time must stay before {LATEST.isoformat()}",
            details={"field": field, "now": now.isoformat()},
        )
    if isinstance(clock, FixedClock | OffsetClock):
        clock.advance(delta)
        return
    raise Conflict("this service's clock cannot be moved")


@clock_router.post(
    "/admin/clock",
    tags=["admin"],
    response_model=ClockControlRead,
    responses={**ADMIN_ONLY, 409: {"description": "the clock cannot be moved"}},
)
async def control_clock(body: ClockControl, _: Admin, service: ServiceDep) -> ClockControlRead:
    """Move the service's time forward (demo and tests only), then sweep at once."""
    move_clock(service.clock, body=body)
    report = await service.sweep()
    return ClockControlRead(now=service.clock.now(), sweep=sweep_read(report))
