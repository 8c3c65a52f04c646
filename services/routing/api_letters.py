"""Letters: lists, one letter, its dossier, and the handling slip (Art. 12, 13, 16)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse
from pydantic import AwareDatetime

from services.routing import service_slip
from services.routing.api import (
    ACTION_ERRORS,
    READ_ERRORS,
    Cursor,
    Limit,
    ServiceDep,
    VisibleLetter,
    next_cursor,
    page_cursor,
    read_for,
)
from services.routing.repository import LetterFilter
from services.routing.schemas import (
    Comment,
    EntryId,
    SlipApprove,
    SlipUpdate,
    TransferSent,
    VersionOnly,
)
from services.routing.schemas_read import (
    Dossier,
    LetterPage,
    LetterRead,
    WorkItemRead,
    Worklist,
    letter_summary,
)
from services.routing.service import sees_person
from services.routing.slip_html import render_slip, render_transfer
from services.routing.workflow import State
from services.routing.worklist import worklist
from shared.auth import CurrentPrincipal, Principal, Role, require_roles
from shared.errors import Forbidden, NotFound
from shared.events.vocabulary import Nature

router = APIRouter(prefix="/letters")
OfficeReader = Annotated[
    Principal,
    Depends(
        require_roles(
            Role.office_clerk, Role.office_head, Role.office_leader, Role.principal_leader
        )
    ),
]
Archivist = Annotated[
    Principal,
    Depends(
        require_roles(
            Role.office_clerk,
            Role.office_head,
            Role.office_leader,
            Role.principal_leader,
            Role.admin,
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
    received_from: Annotated[AwareDatetime | None, Query(description="inclusive")] = None,
    received_to: Annotated[AwareDatetime | None, Query(description="exclusive")] = None,
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
        items=[letter_summary(doc) for doc in docs[:limit]],
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
        service.letters.store.collection, principal, now=service.clock.now()
    )
    counts: dict[str, int] = {}
    for item in items:
        for action in item.actions:
            counts[action.value] = counts.get(action.value, 0) + 1
    return Worklist(
        items=[
            WorkItemRead(
                letter=letter_summary(item.doc),
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
    trail = await service.letters.trail(str(doc["_id"]), pending=doc.get("audit_outbox") or [])
    return Dossier(letter=read_for(principal, doc), audit=trail)


@router.get(
    "/{letter_id}/slip.html",
    tags=["slip"],
    summary="The handling slip as a printable A4 page (内部资料 注意保密).",
    response_class=HTMLResponse,
    responses={**READ_ERRORS, 403: ACTION_ERRORS[403]},
)
async def slip_html(principal: CurrentPrincipal, doc: VisibleLetter) -> HTMLResponse:
    """The 市商务委公开信箱（电话）处理单 of the letter, ready to print."""
    if not sees_person(principal, doc):
        raise Forbidden("the slip names the writer: the office and the assigned units only")
    if not doc.get("slip"):
        raise NotFound("no slip drafted for this letter yet")
    return HTMLResponse(render_slip(doc))


@router.get(
    "/{letter_id}/transfer.html",
    tags=["slip"],
    summary="The transfer letter (转办函 / 呈办函) with the letter's content, ready to send.",
    response_class=HTMLResponse,
    responses={**READ_ERRORS, 403: ACTION_ERRORS[403]},
)
async def transfer_html(principal: OfficeReader, doc: VisibleLetter) -> HTMLResponse:
    """What the office sends to the department (转阅) or the city office (呈办), Art. 13."""
    if not doc.get("transfer"):
        raise NotFound("this letter is not forwarded or escalated: nothing to transfer")
    return HTMLResponse(render_transfer(doc))


@router.post(
    "/{letter_id}/transfer/sent",
    tags=["slip"],
    summary="Record that the letter's content was sent on (转阅/呈办), how and when.",
    responses=ACTION_ERRORS,
)
async def record_transfer(
    principal: CurrentPrincipal, doc: VisibleLetter, service: ServiceDep, body: TransferSent
) -> LetterRead:
    """The office passed the content on (Art. 13); archiving the letter waits for this."""
    updated = await service_slip.record_transfer(service, doc, body, principal=principal)
    return read_for(principal, updated)


@router.put(
    "/{letter_id}/slip",
    tags=["slip"],
    summary="Draft (or redraft) the handling slip.",
    responses=ACTION_ERRORS,
)
async def put_slip(
    principal: CurrentPrincipal, doc: VisibleLetter, service: ServiceDep, body: SlipUpdate
) -> LetterRead:
    """The clerk's acceptance opinion, nature, scope, competence and units (or recipient)."""
    updated = await service_slip.draft_slip(service, doc, body, principal=principal)
    return read_for(principal, updated)


@router.post(
    "/{letter_id}/slip/submit",
    tags=["slip"],
    summary="Hand the slip to the office head.",
    responses=ACTION_ERRORS,
)
async def submit_slip(
    principal: CurrentPrincipal, doc: VisibleLetter, service: ServiceDep, body: VersionOnly
) -> LetterRead:
    """The clerk submits the drafted slip for the office head's approval (Art. 13)."""
    updated = await service_slip.submit_slip(
        service, doc, version=body.version, principal=principal
    )
    return read_for(principal, updated)


@router.post(
    "/{letter_id}/slip/approve",
    tags=["slip"],
    summary="Approve the slip: accepted, not accepted, forwarded or escalated.",
    responses=ACTION_ERRORS,
)
async def approve_slip(
    principal: CurrentPrincipal, doc: VisibleLetter, service: ServiceDep, body: SlipApprove
) -> LetterRead:
    """The office head approves; the decision's event goes out and the units are told."""
    updated = await service_slip.approve_slip(service, doc, body, principal=principal)
    return read_for(principal, updated)


@router.post(
    "/{letter_id}/slip/send-back",
    tags=["slip"],
    summary="Send the slip back to the clerk with a comment.",
    responses=ACTION_ERRORS,
)
async def send_back_slip(
    principal: CurrentPrincipal, doc: VisibleLetter, service: ServiceDep, body: Comment
) -> LetterRead:
    """The office head sends the slip back; the clerk redrafts it."""
    updated = await service_slip.send_back_slip(service, doc, body, principal=principal)
    return read_for(principal, updated)
