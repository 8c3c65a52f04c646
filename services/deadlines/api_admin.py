"""Routes: the administered calendar, reports, and the operators' sweep and clock control."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response

from services.deadlines.calendar_admin import CalendarAdmin
from services.deadlines.calendar_data import library_year
from services.deadlines.charts import on_time_chart
from services.deadlines.deps import CalendarDep, OfficeReader, ReportsDep, ServiceDep
from services.deadlines.reports import Report, month_period, to_csv, year_period
from services.deadlines.schemas import (
    CalendarYearRead,
    ClockControl,
    ClockControlRead,
    OverrideRead,
    OverrideUpdate,
    SweepRead,
    YearConfirmationRead,
    YearUpdate,
)
from services.deadlines.service import SweepReport
from services.deadlines.supervision import actor_of
from shared.auth import CurrentPrincipal, Principal, Role, require_roles
from shared.clock import Clock, FixedClock, OffsetClock, ensure_aware
from shared.errors import Conflict, Invalid

router = APIRouter()
clock_router = APIRouter()

Admin = Annotated[Principal, Depends(require_roles(Role.admin))]
YearPath = Annotated[int, Path(ge=2001, le=2100)]
Month = Annotated[str, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", examples=["2026-10"])]
Format = Annotated[Literal["json", "csv"], Query(description="json or csv")]
_ADMIN: dict[int | str, dict[str, Any]] = {403: {"description": "administrators only"}}


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
    responses=_ADMIN,
)
async def set_override(
    day: date, body: OverrideUpdate, principal: Admin, service: ServiceDep
) -> CalendarYearRead:
    """Make a date a holiday or a working day; running clocks are recounted."""
    await service.calendar.set_override(
        day, kind=body.kind, note=body.note, actor=actor_of(principal)
    )
    moved = await service.recompute_stale()
    return calendar_year(service.calendar, day.year, recomputed=moved)


@router.delete(
    "/calendar/overrides/{day}",
    summary="Drop an override (the library's day applies again); running clocks are recounted.",
    tags=["calendar"],
    response_model=CalendarYearRead,
    responses={**_ADMIN, 404: {"description": "no override on that date"}},
)
async def remove_override(day: date, principal: Admin, service: ServiceDep) -> CalendarYearRead:
    """Drop an override (the library's day applies again); running clocks are recounted."""
    await service.calendar.remove_override(day, actor=actor_of(principal))
    moved = await service.recompute_stale()
    return calendar_year(service.calendar, day.year, recomputed=moved)


@router.put(
    "/calendar/years/{year}",
    summary="Confirm a year from the State Council's notice (dues stop being provisional).",
    tags=["calendar"],
    response_model=CalendarYearRead,
    responses=_ADMIN,
)
async def set_year(
    year: YearPath, body: YearUpdate, principal: Admin, service: ServiceDep
) -> CalendarYearRead:
    """Confirm a year from the State Council's notice (clears provisional dues), or withdraw it."""
    await service.calendar.set_year(
        year, confirmed=body.confirmed, note=body.note, actor=actor_of(principal)
    )
    moved = await service.recompute_stale()
    return calendar_year(service.calendar, year, recomputed=moved)


# -- reports ------------------------------------------------------------------------------------


def _render(report: Report, *, fmt: str) -> Response:
    if fmt == "csv":
        name = f"report-{report.period.label}.csv"
        return Response(
            to_csv(report).encode("utf-8-sig"),  # the BOM lets spreadsheet programs read Chinese
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    return Response(report.model_dump_json(), media_type="application/json")


_REPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/json": {}, "text/csv": {}}},
    403: {"description": "office roles, admin and service accounts only"},
}


@router.get(
    "/reports/monthly",
    summary="The monthly report: letters, on-time rates, extensions, reminders, deductions.",
    tags=["reports"],
    responses=_REPORT_RESPONSES,
)
async def monthly_report(
    month: Month, _: OfficeReader, reports: ReportsDep, service: ServiceDep, format: Format = "json"
) -> Response:
    """The monthly report: letters, on-time rates, extensions, reminders, returns, deductions."""
    report = await reports.build(month_period(month), now=service.clock.now())
    return _render(report, fmt=format)


@router.get(
    "/reports/annual",
    summary="The annual summary: the monthly report's figures over a whole year.",
    tags=["reports"],
    responses=_REPORT_RESPONSES,
)
async def annual_report(
    year: Annotated[int, Query(ge=2001, le=2100)],
    _: OfficeReader,
    reports: ReportsDep,
    service: ServiceDep,
    format: Format = "json",
) -> Response:
    """The annual summary: the monthly report's figures over a whole year."""
    report = await reports.build(year_period(year), now=service.clock.now())
    return _render(report, fmt=format)


@router.get(
    "/reports/monthly/chart.svg",
    summary="On-time rate by unit for a month, as an SVG bar chart.",
    tags=["reports"],
    responses={
        200: {"content": {"image/svg+xml": {}}},
        403: {"description": "office roles, admin and service accounts only"},
    },
)
async def monthly_chart(
    month: Month, _: OfficeReader, reports: ReportsDep, service: ServiceDep
) -> Response:
    """On-time rate by unit for a month, as an SVG bar chart."""
    report = await reports.build(month_period(month), now=service.clock.now())
    return Response(on_time_chart(report), media_type="image/svg+xml")


@router.get(
    "/reports/annual/chart.svg",
    summary="On-time rate by unit for a year, as an SVG bar chart.",
    tags=["reports"],
    responses={
        200: {"content": {"image/svg+xml": {}}},
        403: {"description": "office roles, admin and service accounts only"},
    },
)
async def annual_chart(
    year: Annotated[int, Query(ge=2001, le=2100)],
    _: OfficeReader,
    reports: ReportsDep,
    service: ServiceDep,
) -> Response:
    """On-time rate by unit for a year, as an SVG bar chart."""
    report = await reports.build(year_period(year), now=service.clock.now())
    return Response(on_time_chart(report), media_type="image/svg+xml")


# -- operations ---------------------------------------------------------------------------------


def sweep_read(report: SweepReport) -> SweepRead:
    """The API view of a sweep."""
    return SweepRead(**asdict(report))


@router.post(
    "/admin/sweep",
    summary="Run the sweep now (it also runs by itself every `sweep_interval_s`).",
    tags=["admin"],
    response_model=SweepRead,
    responses=_ADMIN,
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
    if isinstance(clock, FixedClock | OffsetClock):
        clock.advance(delta)
        return
    raise Conflict("this service's clock cannot be moved")


@clock_router.post(
    "/admin/clock",
    tags=["admin"],
    response_model=ClockControlRead,
    responses={**_ADMIN, 409: {"description": "the clock cannot be moved"}},
)
async def control_clock(body: ClockControl, _: Admin, service: ServiceDep) -> ClockControlRead:
    """Move the service's time forward (demo and tests only), then sweep at once."""
    move_clock(service.clock, body=body)
    report = await service.sweep()
    return ClockControlRead(now=service.clock.now(), sweep=sweep_read(report))
