"""待办, the letters' list and one letter: what routing answers the signed-in person."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.console.deps import SignedIn, UpstreamDep, render
from services.console.letters import service
from services.console.letters.labels import NATURE_LABELS, STATE_LABELS
from services.console.letters.service import LetterFilters

router = APIRouter(include_in_schema=False)

# Free text is passed on as typed (routing answers 422 naming the field); only its length
# is bounded here.
Filter = Annotated[str | None, Query(max_length=64)]


@router.get("/")
async def home() -> Response:
    """The console starts at 待办."""
    return RedirectResponse("/worklist", status_code=303)


@router.get("/worklist")
async def worklist_page(request: Request, current: SignedIn, upstream: UpstreamDep) -> HTMLResponse:
    """待办: the letters waiting for the person, overdue first."""
    work = await service.worklist(upstream, token=current.session.token)
    now = datetime.now(UTC)
    rows = [
        (item, service.due_badge(item.due, overdue=item.overdue, now=now)) for item in work.items
    ]
    return render(request, "letters/worklist.html", {"work": work, "rows": rows}, current=current)


@router.get("/letters")
async def letters_page(
    request: Request,
    current: SignedIn,
    upstream: UpstreamDep,
    state: Filter = None,
    nature: Filter = None,
    platform: Filter = None,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> HTMLResponse:
    """The letters the person may list, by state, nature and platform, a page at a time."""
    filters = LetterFilters(
        state=state or None, nature=nature or None, platform=platform or None, cursor=cursor
    )
    page = await service.letters(upstream, token=current.session.token, filters=filters)
    context = {
        "page": page,
        "filters": filters,
        "states": STATE_LABELS,
        "natures": NATURE_LABELS,
        "next_href": (
            "/letters?" + urlencode(filters.query(cursor=page.next_cursor))
            if page.next_cursor
            else None
        ),
        "first_href": "/letters?" + urlencode(filters.query(cursor=None)) if cursor else None,
    }
    # htmx asks for the table alone when the filters change.
    template = (
        "letters/_table.html"
        if request.headers.get("hx-request") == "true"
        and request.headers.get("hx-target") == "letters-table"
        else "letters/list.html"
    )
    return render(request, template, context, current=current)


@router.get("/letters/{letter_id}")
async def letter_page(
    request: Request, letter_id: str, current: SignedIn, upstream: UpstreamDep
) -> HTMLResponse:
    """One letter: its text, the suggestion with its reasons, and what the person may do."""
    letter = await service.letter(upstream, token=current.session.token, letter_id=letter_id)
    return render(request, "letters/letter.html", {"letter": letter}, current=current)
