"""运维: users and their roles, the units directory, the holiday calendar, the classifier's
rules, quarantine, parked and refused uploads, dead letters, and each service's health.

Every service decides who may do what (the admin and the office roles, as each API
allows); a refusal, a stale version or a 422 is shown beside the form it came from, in
plain Chinese, with what was typed kept. Every POST form carries `csrf_token`.

Routes, forms (id), fields and buttons (stable, for the browser tests):

- `GET /operations`: links, and `#health` (per service `tr[data-service]`, 正常 / 未就绪 /
  无法连接, and each readiness check).
- `GET /operations/users?role=&unit_id=&cursor=`: `#users` (`tr[data-user]`);
  `form#user-new` POST `/operations/users`: `id` `name` `role` `unit_id` — 添加用户.
- `GET /operations/users/{id}`: `form#user-edit` POST `/operations/users/{id}`: `name`
  `role` `unit_id` `version` — 保存修改; `form#user-password` POST
  `/operations/users/{id}/password`: `password` `password_again` — 设置临时密码 (the person
  changes it at the next sign-in); `form#user-unlock` POST `/operations/users/{id}/unlock`
  — 解除锁定 (shown while locked).
- `GET /operations/units`: `#units` (`tr[data-unit]`), the directory's units.
- `GET /operations/calendar?year=YYYY`: `#calendar-status` (已确认 / 官方数据 / 暂定);
  `form#calendar-day` POST `/operations/calendar/days`: `year` `day` `kind`
  (holiday 放假 / workday 调休上班) `note` — 添加; per override `form.calendar-remove` POST
  `/operations/calendar/days/{day}/delete` — 删除; `form#calendar-confirm` POST
  `/operations/calendar/years/{year}`: `note` `confirmed` (1 / 0) — 确认本年安排 / 撤销确认.
- `GET /operations/rules`: `form#rules` POST `/operations/rules`: `rules` (the whole rule
  set as JSON, with its `version`) — 保存规则; a bad RE2 pattern comes back as routing's 422.
- `GET /operations/quarantine?status=open|resolved`: `#quarantine` (`tr[data-item]`).
- `GET /operations/uploads?state=parked|refused`: `#uploads` (`tr[data-upload]`); per row
  `form.upload-retry` POST `/operations/uploads/{id}/retry` — 重新发送 / 重新检查.
- `GET /operations/dead-letters`: where the dead letters are read and requeued.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.console.auth.models import ROLE_LABELS
from services.console.deps import CheckedForm, Current, SignedIn, UpstreamDep, render
from services.console.operations import service
from services.console.operations.service import BadJson, plain
from services.console.upstream.service import Upstream, UpstreamError

router = APIRouter(prefix="/operations", include_in_schema=False)

Text = Annotated[str | None, Query(max_length=64)]
Cursor = Annotated[str | None, Query(max_length=512)]
LOCAL = ZoneInfo("Asia/Shanghai")
NOT_WAITING = "这条上传已不在暂停或被拒绝状态（可能已被他人重试并发出），无需再试。请刷新后查看。"
Year = Annotated[int, Path(ge=2001, le=2100)]


def _seen(error: UpstreamError) -> UpstreamError:
    """An error the page shows beside its form; a 401 or an outage goes to the app's pages."""
    if error.status == 401 or error.status >= 500:
        raise error
    return error


def _page(
    request: Request, template: str, context: dict[str, Any], current: Current, status: int = 200
) -> HTMLResponse:
    base = {"roles": ROLE_LABELS, "role_ids": service.ROLES, "errors": {}, "typed": {}}
    return render(
        request, f"operations/{template}", {**base, **context}, current=current, status_code=status
    )


def _back(path: str) -> Response:
    return RedirectResponse(path, status_code=303)


@router.get("")
async def index(request: Request, current: SignedIn, upstream: UpstreamDep) -> HTMLResponse:
    """The operations' pages, and each service's health."""
    health = await service.health(upstream)
    return _page(request, "index.html", {"health": health}, current)


# ---- users ------------------------------------------------------------------------------


async def _users_page(
    request: Request,
    current: Current,
    upstream: Upstream,
    *,
    params: dict[str, str | None],
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    token = current.session.token
    users = await service.users(upstream, token=token, params=params)
    units = await service.units(upstream, token=token)
    context = {
        "users": users,
        "units": units.items,
        "filters": params,
        "errors": errors or {},
        "typed": typed or {},
    }
    return _page(request, "users.html", context, current, status)


@router.get("/users")
async def users_page(
    request: Request,
    current: SignedIn,
    upstream: UpstreamDep,
    role: Text = None,
    unit_id: Text = None,
    cursor: Cursor = None,
) -> HTMLResponse:
    """Users by role and unit (office and admin read; the admin changes)."""
    params = {"role": role or None, "unit_id": unit_id or None, "cursor": cursor}
    return await _users_page(request, current, upstream, params=params)


@router.post("/users")
async def add_user(
    request: Request, current: SignedIn, upstream: UpstreamDep, form: CheckedForm
) -> Response:
    """Add a user; a temporary password is then set on their page."""
    try:
        made = await service.create_user(upstream, token=current.session.token, form=form)
    except UpstreamError as error:
        _seen(error)
        return await _users_page(
            request,
            current,
            upstream,
            params={},
            errors={"user-new": plain(error)},
            typed=form,
            status=error.status,
        )
    return _back(f"/operations/users/{made.id}?done=created")


async def _user_page(
    request: Request,
    current: Current,
    upstream: Upstream,
    user_id: str,
    *,
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
    status: int = 200,
    done: str | None = None,
) -> HTMLResponse:
    token = current.session.token
    person = await service.user(upstream, token=token, user_id=user_id)
    units = await service.units(upstream, token=token)
    context = {
        "person": person,
        "units": units.items,
        "errors": errors or {},
        "typed": typed or {},
        "done": done,
    }
    return _page(request, "user.html", context, current, status)


@router.get("/users/{user_id}")
async def user_page(
    request: Request, user_id: str, current: SignedIn, upstream: UpstreamDep, done: Text = None
) -> HTMLResponse:
    """One user: edit the name, role and unit; set a password; lift a lock."""
    return await _user_page(request, current, upstream, user_id, done=done)


@router.post("/users/{user_id}")
async def edit_user(
    request: Request, user_id: str, current: SignedIn, upstream: UpstreamDep, form: CheckedForm
) -> Response:
    """Change the name, role or unit on the version read (a new role revokes tokens)."""
    try:
        await service.update_user(upstream, token=current.session.token, user_id=user_id, form=form)
    except UpstreamError as error:
        _seen(error)
        errors = {"user-edit": plain(error)}
        return await _user_page(
            request, current, upstream, user_id, errors=errors, typed=form, status=error.status
        )
    return _back(f"/operations/users/{user_id}?done=saved")


@router.post("/users/{user_id}/password")
async def password(
    request: Request, user_id: str, current: SignedIn, upstream: UpstreamDep, form: CheckedForm
) -> Response:
    """Set or reset a temporary password: the person changes it at the next sign-in."""
    new, again = form.get("password", ""), form.get("password_again", "")
    if new != again:
        errors = {"user-password": "两次输入的密码不一致。"}
        return await _user_page(request, current, upstream, user_id, errors=errors, status=422)
    try:
        await service.set_password(
            upstream, token=current.session.token, user_id=user_id, password=new
        )
    except UpstreamError as error:
        _seen(error)
        errors = {"user-password": plain(error)}
        return await _user_page(
            request, current, upstream, user_id, errors=errors, status=error.status
        )
    return _back(f"/operations/users/{user_id}?done=password")


@router.post("/users/{user_id}/unlock")
async def unlock(
    request: Request, user_id: str, current: SignedIn, upstream: UpstreamDep, form: CheckedForm
) -> Response:
    """Lift a lock left by failed sign-ins."""
    try:
        await service.unlock(upstream, token=current.session.token, user_id=user_id)
    except UpstreamError as error:
        _seen(error)
        errors = {"user-unlock": plain(error)}
        return await _user_page(
            request, current, upstream, user_id, errors=errors, status=error.status
        )
    return _back(f"/operations/users/{user_id}?done=unlocked")


# ---- the directory ----------------------------------------------------------------------


@router.get("/units")
async def units_page(
    request: Request, current: SignedIn, upstream: UpstreamDep, cursor: Cursor = None
) -> HTMLResponse:
    """The directory's units, active or not."""
    units = await service.units(upstream, token=current.session.token, cursor=cursor)
    return _page(request, "units.html", {"units": units}, current)


# ---- the holiday calendar ---------------------------------------------------------------


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
    recomputed: int | None = None,
) -> HTMLResponse:
    calendar = await service.calendar(upstream, token=current.session.token, year=year)
    context = {
        "calendar": calendar,
        "year": year,
        "errors": errors or {},
        "typed": typed or {},
        "recomputed": recomputed,
    }
    return _page(request, "calendar.html", context, current, status)


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
    year = _form_year(form)
    try:
        day = date.fromisoformat(form.get("day", ""))
    except ValueError:
        errors = {"calendar-day": "请填写日期，如 2027-01-01。"}
        return await _calendar_page(
            request, current, upstream, year, errors=errors, typed=form, status=422
        )
    try:
        changed = await service.set_day(
            upstream,
            token=current.session.token,
            day=day,
            kind=form.get("kind", ""),
            note=form.get("note", "").strip(),
        )
    except UpstreamError as error:
        _seen(error)
        errors = {"calendar-day": plain(error)}
        return await _calendar_page(
            request, current, upstream, year, errors=errors, typed=form, status=error.status
        )
    return _back(f"/operations/calendar?year={changed.year}")


@router.post("/calendar/days/{day}/delete")
async def remove_day(
    request: Request, day: date, current: SignedIn, upstream: UpstreamDep, form: CheckedForm
) -> Response:
    """Drop an override: the library's day applies again."""
    try:
        await service.remove_day(upstream, token=current.session.token, day=day)
    except UpstreamError as error:
        _seen(error)
        errors = {"calendar-remove": plain(error)}
        return await _calendar_page(
            request, current, upstream, day.year, errors=errors, status=error.status
        )
    return _back(f"/operations/calendar?year={day.year}")


@router.post("/calendar/years/{year}")
async def confirm_year(
    request: Request,
    year: Year,
    current: SignedIn,
    upstream: UpstreamDep,
    form: CheckedForm,
) -> Response:
    """Confirm a year from the State Council's notice (dues stop being provisional)."""
    try:
        await service.confirm_year(
            upstream,
            token=current.session.token,
            year=year,
            confirmed=form.get("confirmed", "1") == "1",
            note=form.get("note", "").strip(),
        )
    except UpstreamError as error:
        _seen(error)
        errors = {"calendar-confirm": plain(error)}
        return await _calendar_page(
            request, current, upstream, year, errors=errors, typed=form, status=error.status
        )
    return _back(f"/operations/calendar?year={year}")


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
    return _page(request, "rules.html", context, current, status)


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
    try:
        body = service.parse_rules(typed)
        await service.save_rules(upstream, token=current.session.token, body=body)
    except BadJson as bad:
        return await _rules_page(
            request, current, upstream, typed=typed, error=str(bad), status=422
        )
    except UpstreamError as error:
        _seen(error)
        return await _rules_page(
            request, current, upstream, typed=typed, error=plain(error), status=error.status
        )
    return _back("/operations/rules?done=1")


# ---- quarantine, uploads, dead letters, health ------------------------------------------


@router.get("/quarantine")
async def quarantine_page(
    request: Request,
    current: SignedIn,
    upstream: UpstreamDep,
    status: Annotated[str | None, Query(pattern=r"^(open|resolved)?$")] = "open",
    cursor: Cursor = None,
) -> HTMLResponse:
    """Records intake could not read (office and admin), newest first."""
    page = await service.quarantine(
        upstream, token=current.session.token, status=status or None, cursor=cursor
    )
    context = {"page": page, "status": status or ""}
    return _page(request, "quarantine.html", context, current)


async def _uploads_page(
    request: Request,
    current: Current,
    upstream: Upstream,
    *,
    state: str,
    cursor: str | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    page = await service.uploads(upstream, token=current.session.token, state=state, cursor=cursor)
    context = {"page": page, "state": state, "errors": errors or {}}
    return _page(request, "uploads.html", context, current, status)


@router.get("/uploads")
async def uploads_page(
    request: Request,
    current: SignedIn,
    upstream: UpstreamDep,
    state: Annotated[str, Query(pattern=r"^(parked|refused)$")] = "parked",
    cursor: Cursor = None,
) -> HTMLResponse:
    """Uploads waiting for an operator (parked) or stopped by the leak scan (refused)."""
    return await _uploads_page(request, current, upstream, state=state, cursor=cursor)


@router.post("/uploads/{upload_id}/retry")
async def retry_upload(
    request: Request, upload_id: str, current: SignedIn, upstream: UpstreamDep, form: CheckedForm
) -> Response:
    """A parked upload is sent again; a refused one re-checked with today's redaction."""
    state = "refused" if form.get("state") == "refused" else "parked"
    try:
        await service.retry_upload(upstream, token=current.session.token, upload_id=upload_id)
    except UpstreamError as error:
        _seen(error)
        message = NOT_WAITING if error.status == 409 else plain(error)
        errors = {upload_id: message}
        return await _uploads_page(
            request, current, upstream, state=state, errors=errors, status=error.status
        )
    return _back(f"/operations/uploads?state={state}")


@router.get("/dead-letters")
async def dead_letters_page(request: Request, current: SignedIn) -> HTMLResponse:
    """Where parked events are read and sent back (the broker's, not the console's)."""
    return _page(request, "dead_letters.html", {}, current)
