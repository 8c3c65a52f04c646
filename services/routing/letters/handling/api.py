"""The units' work on a letter (Art. 14, 19 ③, 29): handler, contact, input, reply, extension."""

from __future__ import annotations

from fastapi import APIRouter

from services.routing.deps import ACTION_ERRORS, ItemId, ServiceDep, VisibleLetter, read_for
from services.routing.letters.handling import commands
from services.routing.letters.handling.schemas import (
    AssistAnswerCreate,
    AssistRequestCreate,
    ContactAttemptCreate,
    ContactInvalidCreate,
    HandlerCreate,
    ReplyDraft,
    ReplySubmit,
)
from services.routing.letters.review.schemas import ExtensionCreate
from services.routing.letters.schemas import Comment, LetterRead, OptionalComment, VersionOnly
from shared.auth import CurrentPrincipal

router = APIRouter(prefix="/letters/{letter_id}", tags=["units"], responses=ACTION_ERRORS)


@router.post("/handler", summary="Name the handler (经办人员) of the lead unit.")
async def name_handler(
    principal: CurrentPrincipal, doc: VisibleLetter, service: ServiceDep, body: HandlerCreate
) -> LetterRead:
    """The unit head (or unit leader) of the lead unit names who handles the letter."""
    updated = await commands.name_handler(service, doc, body, principal=principal)
    return read_for(principal, updated)


@router.post("/contact-attempts", summary="Record an attempt to reach the writer.")
async def record_contact(
    principal: CurrentPrincipal,
    doc: VisibleLetter,
    service: ServiceDep,
    body: ContactAttemptCreate,
) -> LetterRead:
    """When, how and with what result the handler contacted the writer (Art. 14)."""
    updated = await commands.record_contact(service, doc, body, principal=principal)
    return read_for(principal, updated)


@router.post("/contact-invalid", summary="Mark the writer's contact details invalid.")
async def mark_contact_invalid(
    principal: CurrentPrincipal,
    doc: VisibleLetter,
    service: ServiceDep,
    body: ContactInvalidCreate,
) -> LetterRead:
    """Art. 14 ¶3: an empty or wrong number; the reply is made from the letter alone."""
    updated = await commands.mark_contact_invalid(service, doc, body, principal=principal)
    return read_for(principal, updated)


@router.post("/assist-requests", summary="Ask an assisting unit for its part.")
async def request_assist(
    principal: CurrentPrincipal,
    doc: VisibleLetter,
    service: ServiceDep,
    body: AssistRequestCreate,
) -> LetterRead:
    """The lead unit asks one of the letter's assisting units; the unit is notified."""
    updated = await commands.request_assist(service, doc, body, principal=principal)
    return read_for(principal, updated)


@router.post(
    "/assist-requests/{request_id}/answer", summary="Send an assisting unit's part to the lead."
)
async def answer_assist(
    principal: CurrentPrincipal,
    doc: VisibleLetter,
    service: ServiceDep,
    request_id: ItemId,
    body: AssistAnswerCreate,
) -> LetterRead:
    """The assisting unit answers the lead unit's request (Art. 14 ¶2)."""
    updated = await commands.answer_assist(service, doc, request_id, body, principal=principal)
    return read_for(principal, updated)


@router.put("/reply", summary="Draft the reply (five parts of Art. 29) and propose the mode.")
async def put_reply(
    principal: CurrentPrincipal, doc: VisibleLetter, service: ServiceDep, body: ReplyDraft
) -> LetterRead:
    """承办单位, 经办人员, 调查经过, 政策依据, 处理结果 (each required) and the mode."""
    updated = await commands.draft_reply(service, doc, body, principal=principal)
    return read_for(principal, updated)


@router.post("/reply/send-for-review", summary="Hand the reply to the unit head.")
async def send_reply_for_review(
    principal: CurrentPrincipal, doc: VisibleLetter, service: ServiceDep, body: VersionOnly
) -> LetterRead:
    """The handler sends the drafted reply to the unit head (the writer was contacted first)."""
    updated = await commands.send_reply_for_review(
        service, doc, version=body.version, principal=principal
    )
    return read_for(principal, updated)


@router.post("/reply/unit-approve", summary="Unit head, then unit leader, approve the reply.")
async def unit_approve(
    principal: CurrentPrincipal, doc: VisibleLetter, service: ServiceDep, body: OptionalComment
) -> LetterRead:
    """The step is the caller's: the unit head first, then the unit's leader (Art. 14, 21)."""
    updated = await commands.unit_decide(service, doc, body, approve=True, principal=principal)
    return read_for(principal, updated)


@router.post("/reply/unit-send-back", summary="Send the reply back to the handler.")
async def unit_send_back(
    principal: CurrentPrincipal, doc: VisibleLetter, service: ServiceDep, body: Comment
) -> LetterRead:
    """The unit head or leader sends the reply back to the handler with a comment."""
    updated = await commands.unit_decide(service, doc, body, approve=False, principal=principal)
    return read_for(principal, updated)


@router.post("/reply/submit", summary="Submit the approved reply to the office.")
async def submit_reply(
    principal: CurrentPrincipal, doc: VisibleLetter, service: ServiceDep, body: ReplySubmit
) -> LetterRead:
    """The unit's approved reply goes to the office (`reply.submitted`, a new revision).

    `writer_informed` (how the writer was told the result, Art. 14) is required unless the
    contact details are marked invalid (Art. 14 ¶3), when it is refused: 422 either way.
    """
    updated = await commands.submit_reply(service, doc, body, principal=principal)
    return read_for(principal, updated)


@router.post("/extensions", summary="Ask for more time (Art. 19 ③), before the due.")
async def request_extension(
    principal: CurrentPrincipal, doc: VisibleLetter, service: ServiceDep, body: ExtensionCreate
) -> LetterRead:
    """Extra working days or a new date, with the reason; too late after the due (409)."""
    updated = await commands.request_extension(service, doc, body, principal=principal)
    return read_for(principal, updated)
