"""Routes: the administered working-day calendar (thin; the work is in the store)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path

from services.deadlines.calendar.official import library_year
from services.deadlines.calendar.schemas import (
    CalendarYearRead,
    OverrideRead,
    OverrideUpdate,
    YearConfirmationRead,
    YearUpdate,
)
from services.deadlines.calendar.store import CalendarAdmin
from services.deadlines.deps import (
    ADMIN_ONLY,
    Admin,
    CalendarDep,
    ServiceDep,
)
from services.deadlines.supervision.service import actor_of
from shared.auth import CurrentPrincipal
from shared.errors import Invalid

router = APIRouter()

YearPath = Annotated[int, Path(ge=2001, le=2100)]


def calendar_year(
    calendar: CalendarAdmin, year: int, *, recomputed: int | None = None
) -> CalendarYearRead:
    """One year of the calendar as the service uses it."""
    try:
        library = library_year(year)
    except ValueError as exc:
        raise Invalid(str(exc), details={"year": year}) from exc
    overrides = [OverrideRead.model_validate(o) for o in calendar.overrides(year=year)]
    entry = calendar.year_entry(year)
    return CalendarYearRead(
        year=year,
        status=calendar.calendar.year_status(year),
        confirmation=None if entry is None else YearConfirmationRead.model_validate(entry),
        overrides=overrides,
        holidays_on_weekdays=sorted(library.weekday_holidays),
        workdays_on_weekends=sorted(library.weekend_workdays),
        recomputed_clocks=recomputed,
    )


@router.get(
    "/calendar/{year}",
    summary="A year's status (official, confirmed, provisional), its overrides and library days.",
    tags=["calendar"],
    response_model=CalendarYearRead,
)
async def get_calendar_year(
    year: YearPath, calendar: CalendarDep, _: CurrentPrincipal
) -> CalendarYearRead:
    """A year's status (official, confirmed, provisional), its overrides and library days."""
    await calendar.refresh()
    return calendar_year(calendar, year)


@router.put(
    "/calendar/overrides/{day}",
    summary="Make a date a holiday or a working day; running clocks are recounted.",
    tags=["calendar"],
    response_model=CalendarYearRead,
    responses=ADMIN_ONLY,
)
async def set_override(
    day: date, body: OverrideUpdate, principal: Admin, service: ServiceDep, calendar: CalendarDep
) -> CalendarYearRead:
    """Make a date a holiday or a working day; running clocks are recounted."""
    await calendar.set_override(day, kind=body.kind, note=body.note, actor=actor_of(principal))
    moved = await service.recompute_stale()
    return calendar_year(calendar, day.year, recomputed=moved)


@router.delete(
    "/calendar/overrides/{day}",
    summary="Drop an override (the library's day applies again); running clocks are recounted.",
    tags=["calendar"],
    response_model=CalendarYearRead,
    responses={**ADMIN_ONLY, 404: {"description": "no override on that date"}},
)
async def remove_override(
    day: date, principal: Admin, service: ServiceDep, calendar: CalendarDep
) -> CalendarYearRead:
    """Drop an override (the library's day applies again); running clocks are recounted."""
    await calendar.remove_override(day, actor=actor_of(principal))
    moved = await service.recompute_stale()
    return calendar_year(calendar, day.year, recomputed=moved)


@router.put(
    "/calendar/years/{year}",
    summary="Confirm a year from the State Council's notice (dues stop being provisional).",
    tags=["calendar"],
    response_model=CalendarYearRead,
    responses=ADMIN_ONLY,
)
async def set_year(
    year: YearPath, body: YearUpdate, principal: Admin, service: ServiceDep, calendar: CalendarDep
) -> CalendarYearRead:
    """Confirm a year from the State Council's notice (clears provisional dues), or withdraw it."""
    await calendar.set_year(
        year, confirmed=body.confirmed, note=body.note, actor=actor_of(principal)
    )
    moved = await service.recompute_stale()
    return calendar_year(calendar, year, recomputed=moved)
