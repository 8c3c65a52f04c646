"""Letters: lists, the worklist, one letter, its dossier (Art. 12, 16), and the workflow table."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from services.routing.deps import (
    ACTION_ERRORS,
    READ_ERRORS,
    Cursor,
    Limit,
    ServiceDep,
    VisibleLetter,
    read_for,
)
from services.routing.letters.models import LetterFilter
from services.routing.letters.schemas import (
    Dossier,
    EntryId,
    LetterPage,
    LetterRead,
    WorkItemRead,
    Worklist,
    letter_summary,
)
from services.routing.letters.service import sees_person
from services.routing.letters.workflow import State, table
from services.routing.letters.worklist import worklist
from shared.auth import CurrentPrincipal, Principal, Role, require_roles
from shared.errors import Forbidden
from shared.events.vocabulary import Nature
from shared.paging import next_cursor, page_cursor
from shared.validation import Instant

router = APIRouter(prefix="/letters")
# The dossier is the archive's view, whole (Art. 16): the office and the archiver's service
# account. Not the admin: it reads no writer's data, and the trail quotes the letter's work.
Archivist = Annotated[
    Principal,
    Depends(
        require_roles(
            Role.office_clerk,
            Role.office_head,
            Role.office_leader,
            Role.principal_leader,
            Role.service,
        )
    ),
]


@router.get(
    "",
    tags=["letters"],
    summary="List letters (units: only their own), newest first.",
    responses=READ_ERRORS,
)
async def list_letters(
    principal: CurrentPrincipal,
    service: ServiceDep,
    state: State | None = None,
    nature: Nature | None = None,
    unit: Annotated[EntryId | None, Query(description="lead or assisting unit")] = None,
    platform: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_.-]{1,64}$")] = None,
    received_from: Annotated[Instant | None, Query(description="inclusive")] = None,
    received_to: Annotated[Instant | None, Query(description="exclusive")] = None,
    transfer: Annotated[
        Literal["to_send", "sent"] | None,
        Query(description="转阅/呈办 letters whose content is still to send, or was sent"),
    ] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> LetterPage:
    """Letters by state, nature, unit, platform, received date and transfer; a unit sees only
    its own."""
    if principal.is_unit:
        if unit is not None and unit != principal.unit_id:
            return LetterPage(items=[])
        unit = principal.unit_id
    elif principal.role not in (
        Role.office_clerk,
        Role.office_head,
        Role.office_leader,
        Role.principal_leader,
        Role.admin,
        Role.service,
    ):
        raise Forbidden("your role lists no letters")
    where = LetterFilter(
        state=state.value if state else None,
        nature=nature.value if nature else None,
        unit_id=unit,
        platform=platform,
        received_from=received_from,
        received_to=received_to,
        transfer_status=transfer,
    )
    docs = await service.letters.page(where, after=page_cursor(cursor), limit=limit)
    return LetterPage(
        items=[letter_summary(doc, show_title=sees_person(principal, doc)) for doc in docs[:limit]],
        next_cursor=next_cursor(docs, key="received_at", limit=limit),
    )


@router.get(
    "/worklist",
    tags=["letters"],
    summary="待办: the letters waiting for your action, overdue and soonest due first.",
    responses=READ_ERRORS,
)
async def work(principal: CurrentPrincipal, service: ServiceDep) -> Worklist:
    """Per letter your work on it and the statutory clock it runs on; a unit sees its own.

    Main-line steps (approve a slip, name the handler, send the reply on, review it) and
    waiting decisions (an extension or referral to decide, a transfer to send, a question
    from the lead unit to answer); optional steps alone list no letter.
    """
    items, truncated = await worklist(
        service.letters.desk.collection, principal, now=service.clock.now()
    )
    counts: dict[str, int] = {}
    for item in items:
        for action in item.actions:
            counts[action.value] = counts.get(action.value, 0) + 1
    return Worklist(
        items=[
            WorkItemRead(
                letter=letter_summary(item.doc, show_title=sees_person(principal, item.doc)),
                actions=[a.value for a in item.actions],
                clock=item.clock,
                due=item.due,
                overdue=item.overdue,
            )
            for item in items
        ],
        counts=counts,
        overdue=sum(1 for item in items if item.overdue),
        truncated=truncated,
    )


@router.get(
    "/{letter_id}",
    tags=["letters"],
    summary="One letter, with what you may do now.",
    responses=READ_ERRORS,
)
async def get_letter(principal: CurrentPrincipal, doc: VisibleLetter) -> LetterRead:
    """The letter as you may see it; `allowed_actions` lists what you may do in its state."""
    return read_for(principal, doc)


@router.get(
    "/{letter_id}/dossier",
    tags=["letters"],
    summary="Everything about the letter for the archive, with the audit trail.",
    responses={**READ_ERRORS, 403: ACTION_ERRORS[403]},
)
async def dossier(principal: Archivist, doc: VisibleLetter, service: ServiceDep) -> Dossier:
    """Letter, suggestion, slip, replies with every revision, reviews and the audit trail."""
    trail = await service.letters.trail(doc)
    return Dossier(letter=read_for(principal, doc), audit=trail)


workflow_router = APIRouter()


@workflow_router.get(
    "/workflow",
    tags=["workflow"],
    summary="The workflow table: per state, the allowed actions with target and roles.",
)
async def workflow_table(_: CurrentPrincipal) -> dict[str, dict[str, dict[str, object]]]:
    """Per state, the allowed actions with their target state, roles and unit party."""
    return {state: dict(actions) for state, actions in table().items()}
