"""Shared pieces of the routing API (dependencies, error docs) and the workflow/inbox routes.

The letter routes live by desk: `api_letters` (lists, slip, dossier), `api_units` (the units'
work), `api_review` (the office's review).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request

from services.routing.repository import InboxRepository
from services.routing.schemas import EntryId
from services.routing.schemas_read import InboxItem, InboxPage, LetterRead, letter_read
from services.routing.service import LetterService, actions_for, sees_person
from services.routing.workflow import table
from shared.auth import CurrentPrincipal, Principal
from shared.errors import Forbidden, Invalid
from shared.mongo import Document
from shared.paging import decode_cursor, encode_cursor
from shared.web import error_doc

LETTER_ID_PATTERN = r"^[A-Za-z0-9_.:-]{1,64}$"
ITEM_ID_PATTERN = r"^[a-z]{2,4}_[0-9A-Z]{26}$"


READ_ERRORS: dict[int | str, dict[str, Any]] = {
    401: error_doc("no valid bearer token"),
    404: error_doc("no such letter, or not one of your unit's letters"),
}
ACTION_ERRORS: dict[int | str, dict[str, Any]] = {
    **READ_ERRORS,
    403: error_doc("your role (or unit) may not take this action"),
    409: error_doc(
        "not allowed in the letter's state (with the allowed actions), or stale version"
    ),
    422: error_doc("a field is missing or wrong (the field and the reason are named)"),
}


def get_service(request: Request) -> LetterService:
    """The letter service built in the lifespan."""
    service: LetterService = request.app.state.letters
    return service


ServiceDep = Annotated[LetterService, Depends(get_service)]
LetterId = Annotated[str, Path(pattern=LETTER_ID_PATTERN, description="the letter's id")]
ItemId = Annotated[str, Path(pattern=ITEM_ID_PATTERN)]


async def visible_letter(
    letter_id: LetterId, principal: CurrentPrincipal, service: ServiceDep
) -> Document:
    """The letter, if the caller may see it; 404 otherwise (also for other units' letters)."""
    return await service.get_for(principal, letter_id)


VisibleLetter = Annotated[Document, Depends(visible_letter)]


def read_for(principal: Principal, doc: Document) -> LetterRead:
    """The letter as this caller may see it, with what they may do now."""
    actions = actions_for(principal, doc)
    return letter_read(
        doc, allowed_actions=[a.value for a in actions], show_person=sees_person(principal, doc)
    )


def page_cursor(cursor: str | None) -> tuple[datetime, str] | None:
    """A list cursor back to its sort key (a 422 for anything we did not make)."""
    if cursor is None:
        return None
    values = decode_cursor(cursor)
    try:
        at, last_id = values
        return datetime.fromisoformat(str(at)), str(last_id)
    except ValueError as exc:
        raise Invalid("invalid cursor", details={"field": "cursor"}) from exc


def next_cursor(docs: list[Document], *, key: str, limit: int) -> str | None:
    """The cursor after the last item shown, if there are more."""
    if len(docs) <= limit:
        return None
    last = docs[limit - 1]
    return encode_cursor([last[key].isoformat(), str(last["_id"])])


router = APIRouter()


@router.get(
    "/workflow",
    tags=["workflow"],
    summary="The workflow table: per state, the allowed actions with target and roles.",
)
async def workflow_table(_: CurrentPrincipal) -> dict[str, dict[str, dict[str, object]]]:
    """Per state, the allowed actions with their target state, roles and unit party."""
    return {state: dict(actions) for state, actions in table().items()}


Cursor = Annotated[str | None, Query(max_length=512, description="from the previous page")]
Limit = Annotated[int, Query(ge=1, le=200)]


@router.get(
    "/inbox",
    tags=["units"],
    summary="A unit's inbox: assignments, returns, reminders, decisions (newest first).",
    responses={401: error_doc("no valid bearer token"), 403: error_doc("not a unit user")},
)
async def inbox(
    request: Request,
    principal: CurrentPrincipal,
    unit_id: Annotated[EntryId | None, Query(description="office and admin: whose inbox")] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> InboxPage:
    """Your unit's notices; the office and admin name the unit."""
    if principal.is_unit:
        unit = principal.unit_id
        if unit_id is not None and unit_id != unit:
            raise Forbidden("a unit reads only its own inbox")
    elif principal.is_office or principal.role.value == "admin":
        if unit_id is None:
            raise Invalid(
                "unit_id: required for the office",
                details={"errors": [{"field": "unit_id", "in": "query", "reason": "required"}]},
            )
        unit = unit_id
    else:
        raise Forbidden("only units, the office and admin read inboxes")
    assert unit is not None
    repository: InboxRepository = request.app.state.inbox
    docs = await repository.page(unit, after=page_cursor(cursor), limit=limit)
    items = [InboxItem.model_validate({**doc, "id": doc["_id"]}) for doc in docs[:limit]]
    return InboxPage(items=items, next_cursor=next_cursor(docs, key="at", limit=limit))
