"""What every operations page does: render with the roles and the form's error, go back
after a change, and post to a service or render the page again with its refusal beside the
form (`attempt`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

from fastapi import Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.console.auth.models import ROLE_LABELS
from services.console.deps import Current, render
from services.console.operations import service
from services.console.operations.service import plain
from services.console.upstream.service import UpstreamError

Text = Annotated[str | None, Query(max_length=64)]
Cursor = Annotated[str | None, Query(max_length=512)]
T = TypeVar("T")
# Renders the page again with `message` beside the form, answering `status`.
Again = Callable[[str, int], Awaitable[HTMLResponse]]


def seen(error: UpstreamError) -> UpstreamError:
    """An error the page shows beside its form; a 401 or an outage goes to the app's pages."""
    if error.status == 401 or error.status >= 500:
        raise error
    return error


def page(
    request: Request, template: str, context: dict[str, Any], current: Current, status: int = 200
) -> HTMLResponse:
    """An operations page; `errors` (by form id) and `typed` are empty unless given."""
    base = {"roles": ROLE_LABELS, "role_ids": service.ROLES, "errors": {}, "typed": {}}
    return render(
        request, f"operations/{template}", {**base, **context}, current=current, status_code=status
    )


def back(path: str) -> Response:
    """After a change: the page again, by GET (303)."""
    return RedirectResponse(path, status_code=303)


async def attempt(
    act: Awaitable[T],
    *,
    then: str | Callable[[T], str],
    again: Again,
    words: Callable[[UpstreamError], str] = plain,
) -> Response:
    """Do `act` (a call to a service); then go to `then`, or, refused, render the page
    again (`again`) with the refusal in `words` beside the form, what was typed kept."""
    try:
        done = await act
    except UpstreamError as error:
        seen(error)
        return await again(words(error), error.status)
    return back(then if isinstance(then, str) else then(done))
