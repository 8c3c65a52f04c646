"""The office's review of a letter (Art. 15, 19 ③, 21–23, 26)."""

from __future__ import annotations

from fastapi import APIRouter

from services.routing.deps import ACTION_ERRORS, ItemId, ServiceDep, VisibleLetter, read_for
from services.routing.letters.review import commands
from services.routing.letters.review.schemas import (
    ExtensionApprove,
    ExtensionRefuse,
    ReferralCreate,
    ReferralDecision,
    ReviewApprove,
    ReviewReturn,
    SensitivityCreate,
)
from services.routing.letters.schemas import LetterRead
from shared.auth import CurrentPrincipal

router = APIRouter(prefix="/letters/{letter_id}", tags=["review"], responses=ACTION_ERRORS)


@router.post(
    "/reply/review/approve",
    summary="Approve the reply at your step: re-check, office head, office leader, principal.",
)
async def review_approve(
    principal: CurrentPrincipal, doc: VisibleLetter, service: ServiceDep, body: ReviewApprove
) -> LetterRead:
    """The letter's step's reviewer approves (anyone else: 403), keeping or changing the mode.

    The approval that releases the reply for upload waits (409) while a referral awaits the
    office leader's decision (Art. 23).
    """
    updated = await commands.review_approve(service, doc, body, principal=principal)
    return read_for(principal, updated)


@router.post("/reply/review/return", summary="Return the reply to the unit (Art. 26).")
async def review_return(
    principal: CurrentPrincipal, doc: VisibleLetter, service: ServiceDep, body: ReviewReturn
) -> LetterRead:
    """Off-topic, perfunctory or buck-passing: the unit redoes it (a new revision).

    Past the handling due, `new_due` is required (422 without): the unit gets time to redo it.
    """
    updated = await commands.return_reply(service, doc, body, principal=principal)
    return read_for(principal, updated)


@router.post("/extensions/{extension_id}/approve", summary="Grant an extension.")
async def approve_extension(
    principal: CurrentPrincipal,
    doc: VisibleLetter,
    service: ServiceDep,
    extension_id: ItemId,
    body: ExtensionApprove,
) -> LetterRead:
    """The office head grants the extension as asked, or with other days or another date."""
    updated = await commands.decide_extension(service, doc, extension_id, body, principal=principal)
    return read_for(principal, updated)


@router.post("/extensions/{extension_id}/refuse", summary="Refuse an extension.")
async def refuse_extension(
    principal: CurrentPrincipal,
    doc: VisibleLetter,
    service: ServiceDep,
    extension_id: ItemId,
    body: ExtensionRefuse,
) -> LetterRead:
    """The office head refuses the extension with the reason; the unit is told."""
    updated = await commands.decide_extension(service, doc, extension_id, body, principal=principal)
    return read_for(principal, updated)


@router.post("/sensitivity", summary="Mark the letter sensitive (Art. 22): not public.")
async def mark_sensitive(
    principal: CurrentPrincipal, doc: VisibleLetter, service: ServiceDep, body: SensitivityCreate
) -> LetterRead:
    """State/trade secret, privacy, sensitive, public-opinion risk: not public from now on."""
    updated = await commands.mark_sensitive(service, doc, body, principal=principal)
    return read_for(principal, updated)


@router.post("/referral", summary="Propose a referral to public/state security (Art. 23).")
async def propose_referral(
    principal: CurrentPrincipal, doc: VisibleLetter, service: ServiceDep, body: ReferralCreate
) -> LetterRead:
    """A clerk or the office head proposes; the office leader decides."""
    updated = await commands.propose_referral(service, doc, body, principal=principal)
    return read_for(principal, updated)


@router.post("/referral/decision", summary="The office leader approves or refuses the referral.")
async def decide_referral(
    principal: CurrentPrincipal, doc: VisibleLetter, service: ServiceDep, body: ReferralDecision
) -> LetterRead:
    """Approval locks the letter out of online publication for good (`letter.locked`)."""
    updated = await commands.decide_referral(service, doc, body, principal=principal)
    return read_for(principal, updated)
