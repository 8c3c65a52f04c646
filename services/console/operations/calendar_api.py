"""运维 · 节假日 and 分类规则: a year's calendar (days added and removed, the year confirmed;
deadlines' `/calendar`) and the classifier's rule set (routing's `/admin/rules`)."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from services.console.deps import CheckedForm, Current, SignedIn, UpstreamDep
from services.console.operations import service
from services.console.operations.pages import Again, Text, attempt, page
from services.console.operations.service import BadJson
from services.console.upstream.service import Upstream

router = APIRouter()

LOCAL = ZoneInfo("Asia/Shanghai")
Year = Annotated[int, Path(ge=2001, le=2100)]


def _this_year() -> int:
    return datetime.now(LOCAL).year


async def _calendar_page(
    request: Request,
    current: Current,
    upstream: Upstream,
    year: int,
    *,
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    calendar = await service.calendar(upstream, token=current.session.token, year=year)
    context = {
        "calendar": calendar,
        "year": year,
        "errors": errors or {},
        "typed": typed or {},
        "recomputed": None,
    }
    return page(request, "calendar.html", context, current, status)


def _again_on_calendar(
    request: Request,
    current: Current,
    upstream: Upstream,
    year: int,
    form_id: str,
    typed: dict[str, str] | None = None,
) -> Again:
    async def again(message: str, status: int) -> HTMLResponse:
        errors = {form_id: message}
        return await _calendar_page(
            request, current, upstream, year, errors=errors, typed=typed, status=status
        )

    return again


@router.get("/calendar")
async def calendar_page(
    request: Request,
    current: SignedIn,
    upstream: UpstreamDep,
    year: Annotated[int | None, Query(ge=2001, le=2100)] = None,
) -> HTMLResponse:
    """A year's calendar: whether it is confirmed, its overrides and the library's days."""
    return await _calendar_page(request, current, upstream, year or _this_year())


def _form_year(form: dict[str, str]) -> int:
    value = form.get("year", "")
    return int(value) if value.isdigit() and 2001 <= int(value) <= 2100 else _this_year()


@router.post("/calendar/days")
async def add_day(
    request: Request, current: SignedIn, upstream: UpstreamDep, form: CheckedForm
) -> Response:
    """Make a date a holiday or a working day (running clocks are recounted)."""
    again = _again_on_calendar(request, current, upstream, _form_year(form), "calendar-day", form)
    try:
        day = date.fromisoformat(form.get("day", ""))
    except ValueError:
        return await again("请填写日期，如 2027-01-01。", 422)
    return await attempt(
        service.set_day(
            upstream,
            token=current.session.token,
            day=day,
            kind=form.get("kind", ""),
            note=form.get("note", "").strip(),
        ),
        then=lambda changed: f"/operations/calendar?year={changed.year}",
        again=again,
    )


@router.post("/calendar/days/{day}/delete")
async def remove_day(
    request: Request, day: date, current: SignedIn, upstream: UpstreamDep, form: CheckedForm
) -> Response:
    """Drop an override: the library's day applies again."""
    return await attempt(
        service.remove_day(upstream, token=current.session.token, day=day),
        then=f"/operations/calendar?year={day.year}",
        again=_again_on_calendar(request, current, upstream, day.year, "calendar-remove"),
    )


@router.post("/calendar/years/{year}")
async def confirm_year(
    request: Request,
    year: Year,
    current: SignedIn,
    upstream: UpstreamDep,
    form: CheckedForm,
) -> Response:
    """Confirm a year from the State Council's notice (dues stop being provisional)."""
    return await attempt(
        service.confirm_year(
            upstream,
            token=current.session.token,
            year=year,
            confirmed=form.get("confirmed", "1") == "1",
            note=form.get("note", "").strip(),
        ),
        then=f"/operations/calendar?year={year}",
        again=_again_on_calendar(request, current, upstream, year, "calendar-confirm", form),
    )


# ---- the classifier's rules --------------------------------------------------------------


async def _rules_page(
    request: Request,
    current: Current,
    upstream: Upstream,
    *,
    typed: str | None = None,
    error: str | None = None,
    status: int = 200,
    done: bool = False,
) -> HTMLResponse:
    rules = await service.rules(upstream, token=current.session.token)
    text = typed if typed is not None else json.dumps(rules.rules, ensure_ascii=False, indent=2)
    context = {
        "rules": rules,
        "text": text,
        "errors": {"rules": error} if error else {},
        "editor": current.session.role in ("office_head", "admin"),
        "done": done,
    }
    return page(request, "rules.html", context, current, status)


@router.get("/rules")
async def rules_page(
    request: Request, current: SignedIn, upstream: UpstreamDep, done: Text = None
) -> HTMLResponse:
    """The rule set in force (the office head and the admin edit it)."""
    return await _rules_page(request, current, upstream, done=bool(done))


@router.post("/rules")
async def save_rules(
    request: Request, current: SignedIn, upstream: UpstreamDep, form: CheckedForm
) -> Response:
    """Replace the rule set; routing checks every pattern (RE2) and the version."""
    typed = form.get("rules", "")

    async def again(message: str, status: int) -> HTMLResponse:
        return await _rules_page(
            request, current, upstream, typed=typed, error=message, status=status
        )

    try:
        body = service.parse_rules(typed)
    except BadJson as bad:
        return await again(str(bad), 422)
    return await attempt(
        service.save_rules(upstream, token=current.session.token, body=body),
        then="/operations/rules?done=1",
        again=again,
    )
