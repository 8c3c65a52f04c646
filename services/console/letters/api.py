"""待办, the letters' list and one letter: what routing answers the signed-in person.

Routes and the fields the pages carry (stable, for the browser tests):

- `GET /worklist` 待办: `#work-counts` (one `<li data-action="…">` per action, its count
  in `.count`), the table `#worklist`; each row's due badge is `.badge.overdue` (已超期),
  `.badge.soon` (24小时内到期) or `.badge.running` (办理中), plus `.badge.provisional`
  (时限暂定) when the due falls in a year whose holiday calendar is still provisional.
- `GET /letters` 信件, the form `#letter-filters` (GET): `q` (全文检索, accesskey s),
  `state`, `nature`, `platform`, `unit`, `received_from`, `received_to` (年-月-日,
  Beijing days, both inclusive), `overdue` (checkbox, value 1: deadlines' overdue
  clocks instead of the list); button 筛选. Paging: `cursor` and `back` (the cursors
  of the pages before); links `a[rel=next]` 下一页 (accesskey n) and `a[rel=prev]`
  上一页 (accesskey p), `#page-number`. htmx (`HX-Target: letters-table`) gets
  `#letters-table`'s content alone, focus moving to `#results-heading`. Routing
  refuses the admin's search: `#search-refused` says why, in words.
- `GET /letters/{id}`: one letter (its page belongs to the casework and replies domains).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.console.casework import service as casework
from services.console.deps import SignedIn, UpstreamDep, render
from services.console.letters import service
from services.console.letters.labels import NATURE_LABELS, STATE_LABELS
from services.console.letters.service import BadFilter, LetterFilters
from services.console.upstream.service import UpstreamError, explain

router = APIRouter(include_in_schema=False)

# Free text is passed on as typed (routing answers 422 naming the field); only its length
# is bounded here.
Filter = Annotated[str | None, Query(max_length=64)]
SEARCH_REFUSED = (
    "系统管理员不能全文检索信件：检索结果会透露某个词（如姓名、电话）是否出现在来信中，"
    "而管理员不阅读信件内容。请按状态、性质、平台或日期筛选。"
)
OFFICE_OR_ADMIN = {"office_clerk", "office_head", "office_leader", "principal_leader", "admin"}


@router.get("/")
async def home() -> Response:
    """The console starts at 待办."""
    return RedirectResponse("/worklist", status_code=303)


@router.get("/worklist")
async def worklist_page(request: Request, current: SignedIn, upstream: UpstreamDep) -> HTMLResponse:
    """待办: the letters waiting for the person, overdue first, with counts per action."""
    token = current.session.token
    now = datetime.now(UTC)
    # Most dues fall this year or next: their calendars are asked while routing answers.
    likely = {service.local_year(now), service.local_year(now) + 1}
    work, provisional = await asyncio.gather(
        service.worklist(upstream, token=token),
        service.provisional_years(upstream, token=token, years=likely),
    )
    years = {service.local_year(item.due) for item in work.items if item.due is not None}
    provisional &= years  # the notice names only years some due falls in
    if years - likely:
        provisional |= await service.provisional_years(upstream, token=token, years=years - likely)
    rows = [
        (
            item,
            service.due_badge(
                item.due,
                overdue=item.overdue,
                now=now,
                provisional=item.due is not None and service.local_year(item.due) in provisional,
            ),
        )
        for item in work.items
    ]
    counts = sorted(work.counts.items(), key=lambda kv: (-kv[1], kv[0]))
    context = {"work": work, "rows": rows, "counts": counts, "provisional": sorted(provisional)}
    return render(request, "letters/worklist.html", context, current=current)


def _href(query: dict[str, str] | None) -> str | None:
    return None if query is None else "/letters?" + urlencode(query)


@router.get("/letters")
async def letters_page(
    request: Request,
    current: SignedIn,
    upstream: UpstreamDep,
    q: Annotated[str | None, Query(max_length=200)] = None,
    state: Filter = None,
    nature: Filter = None,
    platform: Filter = None,
    unit: Filter = None,
    received_from: Filter = None,
    received_to: Filter = None,
    overdue: Filter = None,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    back: Annotated[str | None, Query(max_length=20_000)] = None,
) -> HTMLResponse:
    """The letters the person may list or search, filtered, a page at a time."""
    token = current.session.token
    context: dict[str, Any] = {
        "states": STATE_LABELS,
        "natures": NATURE_LABELS,
        "mode": "overdue" if overdue else ("search" if q else "list"),
        "page": None,
        "error": None,
        "error_field": None,
        "search_refused": False,
        "next_href": None,
        "prev_href": None,
        "first_href": None,
    }
    status = 200
    try:
        filters = LetterFilters.of(
            q=q,
            state=state,
            nature=nature,
            platform=platform,
            unit=unit,
            received_from=received_from,
            received_to=received_to,
            overdue=overdue,
            cursor=cursor,
            back=back,
        )
    except BadFilter as bad:
        filters = LetterFilters(q=q, state=state, nature=nature, platform=platform, unit=unit)
        context.update(error=bad.message, error_field=bad.field)
        status = 422
    context["filters"] = filters
    context["typed"] = {"received_from": received_from or "", "received_to": received_to or ""}
    if status == 200:
        try:
            if filters.overdue:
                context["page"] = await service.overdue(upstream, token=token, filters=filters)
            elif filters.q:
                context["page"] = await service.search(upstream, token=token, filters=filters)
            else:
                context["page"] = await service.letters(upstream, token=token, filters=filters)
        except UpstreamError as error:
            if error.status in (401,) or error.status >= 500:
                raise
            status = error.status
            if error.status == 403 and filters.q and current.session.role == "admin":
                context["search_refused"] = True
                context["error"] = SEARCH_REFUSED
            else:
                context["error"] = explain(error)
                named = [e for e in error.details.get("errors") or [] if isinstance(e, dict)]
                context["error_field"] = named[0].get("field") if named else None
    page = context["page"]
    if page is not None and page.next_cursor:
        context["next_href"] = _href(filters.next_query(page.next_cursor))
    context["prev_href"] = _href(filters.prev_query())
    if filters.cursor:
        context["first_href"] = _href(filters.without_paging().query())
    if current.session.role in OFFICE_OR_ADMIN:
        context["units"] = await service.units(upstream, token=token)
    else:
        context["units"] = []
    # htmx asks for the table alone when the filters change.
    partial = (
        request.headers.get("hx-request") == "true"
        and request.headers.get("hx-target") == "letters-table"
    )
    context["partial"] = partial
    template = "letters/_table.html" if partial else "letters/list.html"
    return render(request, template, context, current=current, status_code=status)


@router.get("/letters/{letter_id}")
async def letter_page(
    request: Request, letter_id: str, current: SignedIn, upstream: UpstreamDep
) -> HTMLResponse:
    """One letter: its text, the suggestion with its reasons, and what the person may do."""
    token = current.session.token
    letter = await service.letter(upstream, token=token, letter_id=letter_id)
    # What the casework panel reads besides the letter (the people to name as handler).
    view = await casework.page_view(upstream, token=token, letter=letter)
    context = {"letter": letter, "casework": view}
    return render(request, "letters/letter.html", context, current=current)
