"""报表: the monthly report and the annual summary (deadlines builds both), their charts,
per-unit on-time rates and assessment deductions, and the CSV download.

Routes and the fields the pages carry (stable, for the browser tests):

- `GET /reports?month=YYYY-MM` (this month by default) or `GET /reports?year=YYYY`: the form
  `#report-month` (field `month`, button 查看月报) and `#report-year` (field `year`, button
  查看年度汇总); a wrong value is shown in `#report-error` beside its form, as typed.
  The page: `#report-summary` (totals), the charts `svg#chart-on-time`,
  `svg#chart-nature` and `svg#chart-deductions` (inline SVG, shapes only), the table
  `#report-units` (per unit: letters led, clocks due / met / overdue, on-time rate, handling
  on-time rate, extensions, reminders, returns, deduction items and points, annual score),
  and the link `a#report-csv` 下载 CSV.
- `GET /reports/monthly.csv?month=YYYY-MM`, `GET /reports/annual.csv?year=YYYY`: deadlines'
  CSV passed on byte for byte (UTF-8 with BOM; cells that would start a spreadsheet
  formula arrive quoted with `'`), as an attachment `report-<period>.csv`.

Deadlines decides who reads them: the office roles and the admin; a unit's people get
its 403, in words.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from services.console.deps import NO_STORE, SignedIn, UpstreamDep, render
from services.console.reports import service
from services.console.reports.service import BadPeriod, Period
from shared.events.vocabulary import LABELS_ZH

router = APIRouter(include_in_schema=False)

Typed = Annotated[str | None, Query(max_length=16)]
NATURE_NAMES = {**LABELS_ZH, "unclassified": "尚未分类"}


@router.get("/reports")
async def reports_page(
    request: Request,
    current: SignedIn,
    upstream: UpstreamDep,
    month: Typed = None,
    year: Typed = None,
) -> HTMLResponse:
    """The report of a month or a year, with its charts and per-unit table."""
    now = datetime.now(UTC)
    context: dict[str, Any] = {
        "typed": {"month": month or "", "year": year or ""},
        "error": None,
        "report": None,
        "charts": [],
    }
    try:
        period = service.period_of(month, year, now=now)
    except BadPeriod as bad:
        context["error"] = str(bad)
        return render(request, "reports/report.html", context, current=current, status_code=422)
    data = await service.report(upstream, token=current.session.token, period=period)
    if not context["typed"]["month"] and period.kind == "monthly":
        context["typed"]["month"] = period.label
    context.update(
        period=period,
        report=data,
        csv_href=f"/reports/{period.kind}.csv?"
        + "&".join(f"{k}={v}" for k, v in period.query.items()),
        charts=[
            ("chart-on-time", service.on_time_chart(data)),
            (
                "chart-nature",
                service.count_chart("来信性质", data.letters.by_nature, NATURE_NAMES),
            ),
            ("chart-deductions", service.deductions_chart(data)),
        ],
        names=NATURE_NAMES,
    )
    return render(request, "reports/report.html", context, current=current)


async def _csv(
    request: Request, current: SignedIn, upstream: UpstreamDep, period: Period
) -> Response:
    answer = await service.report_csv(upstream, token=current.session.token, period=period)
    return Response(
        answer.content,
        media_type="text/csv; charset=utf-8",
        headers={
            **NO_STORE,
            "Content-Disposition": f'attachment; filename="report-{period.label}.csv"',
        },
    )


@router.get("/reports/monthly.csv")
async def monthly_csv(
    request: Request,
    current: SignedIn,
    upstream: UpstreamDep,
    month: Annotated[str, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")],
) -> Response:
    """The monthly report as deadlines writes its CSV."""
    return await _csv(request, current, upstream, Period("monthly", month))


@router.get("/reports/annual.csv")
async def annual_csv(
    request: Request,
    current: SignedIn,
    upstream: UpstreamDep,
    year: Annotated[int, Query(ge=service.MIN_YEAR, le=service.MAX_YEAR)],
) -> Response:
    """The annual summary as deadlines writes its CSV."""
    return await _csv(request, current, upstream, Period("annual", str(year)))
