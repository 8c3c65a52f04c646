"""运维 · 单位: the directory's units; the admin adds one, changes its name, kind, topics,
keywords and other names on the version read, and deactivates or reactivates it (routing's
`/admin/directory/units`; the office reads)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, Response

from services.console.deps import CheckedForm, Current, SignedIn, UpstreamDep
from services.console.operations import service
from services.console.operations.pages import Again, Cursor, Text, attempt, page
from services.console.operations.service import plain
from services.console.upstream.service import Upstream, UpstreamError

router = APIRouter()

UnitId = Annotated[str, Path(max_length=64)]
KINDS = {"department": "处室", "affiliated": "委属单位"}
# The unit form's fields as the page names them, and what each one takes.
_FIELDS = {
    "id": "编号（小写字母、数字、连字符，2 到 63 个字符）",
    "name": "名称（1 到 64 个字）",
    "kind": "类别",
    "topics": "职责（至少一项，每行一项，每项不超过 200 字）",
    "keywords": "关键词（每个不超过 64 字）",
    "aliases": "又称（每个不超过 64 字）",
    "version": "版本",
}


def unit_words(error: UpstreamError) -> str:
    """Routing's refusal of a unit form, naming the fields as the form does."""
    if error.status != 422:
        return plain(error)
    named = [
        _FIELDS.get(str(e.get("field", "")).split(".")[0], "")
        for e in error.details.get("errors") or []
        if isinstance(e, dict)
    ]
    fields = "、".join(dict.fromkeys(n for n in named if n))
    return f"填写的内容有误：{fields}。" if fields else plain(error)


async def _units_page(
    request: Request,
    current: Current,
    upstream: Upstream,
    *,
    cursor: str | None = None,
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    units = await service.units(upstream, token=current.session.token, cursor=cursor)
    context = {"units": units, "kinds": KINDS, "errors": errors or {}, "typed": typed or {}}
    return page(request, "units.html", context, current, status)


@router.get("/units")
async def units_page(
    request: Request, current: SignedIn, upstream: UpstreamDep, cursor: Cursor = None
) -> HTMLResponse:
    """The directory's units, active or not; the admin's form to add one."""
    return await _units_page(request, current, upstream, cursor=cursor)


@router.post("/units")
async def add_unit(
    request: Request, current: SignedIn, upstream: UpstreamDep, form: CheckedForm
) -> Response:
    """Add a unit, active at once (its id is unique across units and recipients)."""

    async def again(message: str, status: int) -> HTMLResponse:
        errors = {"unit-new": message}
        return await _units_page(
            request, current, upstream, errors=errors, typed=form, status=status
        )

    return await attempt(
        service.create_unit(upstream, token=current.session.token, form=form),
        then=lambda made: f"/operations/units/{made.id}?done=created",
        again=again,
        words=unit_words,
    )


async def _unit_page(
    request: Request,
    current: Current,
    upstream: Upstream,
    unit_id: str,
    *,
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
    status: int = 200,
    done: str | None = None,
) -> HTMLResponse:
    unit = await service.unit(upstream, token=current.session.token, unit_id=unit_id)
    context = {
        "unit": unit,
        "kinds": KINDS,
        "errors": errors or {},
        "typed": typed or {},
        "done": done,
    }
    return page(request, "unit.html", context, current, status)


def _again_on_unit(
    request: Request,
    current: Current,
    upstream: Upstream,
    unit_id: str,
    form_id: str,
    typed: dict[str, str],
) -> Again:
    async def again(message: str, status: int) -> HTMLResponse:
        errors = {form_id: message}
        return await _unit_page(
            request, current, upstream, unit_id, errors=errors, typed=typed, status=status
        )

    return again


@router.get("/units/{unit_id}")
async def unit_page(
    request: Request, unit_id: UnitId, current: SignedIn, upstream: UpstreamDep, done: Text = None
) -> HTMLResponse:
    """One unit: its fields to change, and its deactivation or reactivation."""
    return await _unit_page(request, current, upstream, unit_id, done=done)


@router.post("/units/{unit_id}")
async def edit_unit(
    request: Request, unit_id: UnitId, current: SignedIn, upstream: UpstreamDep, form: CheckedForm
) -> Response:
    """Replace the unit's fields on the version read (409 when someone changed it since)."""
    return await attempt(
        service.update_unit(upstream, token=current.session.token, unit_id=unit_id, form=form),
        then=f"/operations/units/{unit_id}?done=saved",
        again=_again_on_unit(request, current, upstream, unit_id, "unit-edit", form),
        words=unit_words,
    )


@router.post("/units/{unit_id}/deactivate")
async def deactivate_unit(
    request: Request, unit_id: UnitId, current: SignedIn, upstream: UpstreamDep, form: CheckedForm
) -> Response:
    """No new letters go to it; letters of before keep naming it."""
    return await attempt(
        service.set_unit_active(
            upstream, token=current.session.token, unit_id=unit_id, form=form, active=False
        ),
        then=f"/operations/units/{unit_id}?done=deactivated",
        again=_again_on_unit(request, current, upstream, unit_id, "unit-active", form),
        words=unit_words,
    )


@router.post("/units/{unit_id}/reactivate")
async def reactivate_unit(
    request: Request, unit_id: UnitId, current: SignedIn, upstream: UpstreamDep, form: CheckedForm
) -> Response:
    """The unit receives letters again."""
    return await attempt(
        service.set_unit_active(
            upstream, token=current.session.token, unit_id=unit_id, form=form, active=True
        ),
        then=f"/operations/units/{unit_id}?done=reactivated",
        again=_again_on_unit(request, current, upstream, unit_id, "unit-active", form),
        words=unit_words,
    )
