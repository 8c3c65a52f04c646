"""Routes: the monthly report and the annual summary, as JSON, CSV or SVG charts."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from services.deadlines.deps import (
    OfficeReader,
    ReportsDep,
    ServiceDep,
)
from services.deadlines.reports.charts import on_time_chart
from services.deadlines.reports.service import Report, month_period, to_csv, year_period

router = APIRouter()

Month = Annotated[str, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", examples=["2026-10"])]
Format = Annotated[Literal["json", "csv"], Query(description="json or csv")]


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
