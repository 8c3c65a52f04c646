"""The handling slip (处理单) and the transfer letter on the API (Art. 9, 12, 13)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse

from services.routing.deps import (
    ACTION_ERRORS,
    READ_ERRORS,
    ServiceDep,
    VisibleLetter,
    read_for,
)
from services.routing.letters.schemas import Comment, LetterRead, VersionOnly
from services.routing.letters.service import sees_person
from services.routing.letters.slip import commands
from services.routing.letters.slip.html import render_slip, render_transfer
from services.routing.letters.slip.schemas import SlipApprove, SlipUpdate, TransferSent
from shared.auth import CurrentPrincipal, Principal, Role, require_roles
from shared.errors import Forbidden, NotFound

router = APIRouter(prefix="/letters")
OfficeReader = Annotated[
    Principal,
    Depends(
        require_roles(
            Role.office_clerk, Role.office_head, Role.office_leader, Role.principal_leader
        )
    ),
]


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
    updated = await commands.record_transfer(service, doc, body, principal=principal)
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
    updated = await commands.draft_slip(service, doc, body, principal=principal)
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
    updated = await commands.submit_slip(service, doc, version=body.version, principal=principal)
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
    updated = await commands.approve_slip(service, doc, body, principal=principal)
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
    updated = await commands.send_back_slip(service, doc, body, principal=principal)
    return read_for(principal, updated)
