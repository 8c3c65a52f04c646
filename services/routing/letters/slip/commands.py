"""The handling slip (处理单) and acceptance (Art. 9, 12, 13): the clerk drafts, the head decides.

Approval emits exactly one of the four decision events. A forward (转阅) or escalate (呈办)
also leaves a transfer to send: the office passes the letter's content on and records it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.routing.letters.models import (
    Decision,
    Slip,
    SlipReview,
    Transfer,
    default_escalate_text,
    default_forward_text,
    default_not_accepted_text,
    to_document,
)
from services.routing.letters.schemas import Comment
from services.routing.letters.service import CLOCK_SKEW, LetterService, Outcome, actor_of, invalid
from services.routing.letters.slip.schemas import SlipApprove, SlipUpdate, TransferSent
from services.routing.letters.workflow import Action, State
from shared.auth import Principal
from shared.errors import Conflict
from shared.events.catalog import (
    EventData,
    LetterAccepted,
    LetterEscalated,
    LetterForwarded,
    LetterNotAccepted,
    LetterTransferred,
    SlipSubmitted,
)
from shared.events.vocabulary import Route
from shared.ids import new_id
from shared.mongo import Document


def default_summary(doc: Document, *, chars: int) -> str:
    """内容摘要 when the clerk writes none: the letter's opening."""
    text = " ".join(str(doc.get("text") or "").split())
    return text if len(text) <= chars else text[: chars - 1] + "…"


async def _routing_fields(svc: LetterService, body: SlipUpdate) -> dict[str, Any]:
    """The slip's decision fields, checked for consistency and against the directory."""
    if not body.accepted:
        if body.not_accepted_reason is None:
            raise invalid("not_accepted_reason", "a letter not accepted needs its Art. 9 reason")
        for name in ("route", "lead_unit_id", "recipient_id"):
            if getattr(body, name) is not None:
                raise invalid(name, "must be empty for a letter not accepted")
        if body.assisting_unit_ids:
            raise invalid("assisting_unit_ids", "must be empty for a letter not accepted")
        if body.major:
            raise invalid("major", "a major matter is one the commission handles (直办)")
        return {
            "not_accepted_reason": body.not_accepted_reason,
            "reply_text": body.reply_text or default_not_accepted_text(body.not_accepted_reason),
        }
    if body.not_accepted_reason is not None:
        raise invalid("not_accepted_reason", "must be empty for an accepted letter")
    if body.route is None:
        raise invalid("route", "an accepted letter needs its competence (direct/forward/escalate)")
    if body.route is Route.direct:
        return await _direct_fields(svc, body)
    if body.lead_unit_id is not None or body.assisting_unit_ids:
        field_name = "lead_unit_id" if body.lead_unit_id is not None else "assisting_unit_ids"
        raise invalid(field_name, f"units are named only for direct handling, not {body.route}")
    if body.major:
        raise invalid("major", "a major matter is one the commission handles (直办)")
    city = await svc.directory.city_office()
    if body.route is Route.escalate:
        if city is None:
            raise invalid("route", "the directory has no city mailbox office")
        if body.recipient_id is not None and body.recipient_id != city.id:
            raise invalid("recipient_id", f"escalation goes to the city mailbox office {city.id}")
        return {
            "route": Route.escalate,
            "recipient_id": city.id,
            "recipient_name": city.name,
            "notice_text": body.notice_text or default_escalate_text(city.name),
        }
    if body.recipient_id is None:
        raise invalid("recipient_id", "forwarding needs the department or district")
    recipient = await svc.directory.recipient(body.recipient_id)
    if recipient is None:
        raise invalid("recipient_id", f"unknown recipient {body.recipient_id!r}")
    if city is not None and recipient.id == city.id:
        raise invalid("recipient_id", "the city mailbox office is for escalation (呈办)")
    return {
        "route": Route.forward,
        "recipient_id": recipient.id,
        "recipient_name": recipient.name,
        "notice_text": body.notice_text or default_forward_text(recipient.name),
    }


async def _direct_fields(svc: LetterService, body: SlipUpdate) -> dict[str, Any]:
    if body.lead_unit_id is None:
        raise invalid("lead_unit_id", "direct handling needs a lead unit (牵头单位)")
    if body.recipient_id is not None:
        raise invalid("recipient_id", "a letter handled directly has no external recipient")
    assisting = body.assisting_unit_ids
    if len(set(assisting)) != len(assisting):
        raise invalid("assisting_unit_ids", "each unit once")
    if body.lead_unit_id in assisting:
        raise invalid("assisting_unit_ids", "the lead unit cannot also assist")
    lead = await svc.unit_names([body.lead_unit_id], field_name="lead_unit_id")
    names = await svc.unit_names(assisting, field_name="assisting_unit_ids")
    return {
        "route": Route.direct,
        "lead_unit_id": body.lead_unit_id,
        "lead_unit_name": lead[body.lead_unit_id],
        "assisting_unit_ids": list(assisting),
        "assisting_unit_names": [names[u] for u in assisting],
    }


async def draft_slip(
    svc: LetterService, doc: Document, body: SlipUpdate, *, principal: Principal
) -> Document:
    """Save the clerk's slip (as often as needed before it is submitted)."""
    svc.permit(doc, Action.draft_slip, principal=principal)
    fields = await _routing_fields(svc, body)
    actor = actor_of(principal)

    def decide(current: Document, now: datetime) -> Outcome:
        existing = current.get("slip") or {}
        slip = Slip(
            id=existing.get("id") or new_id("slp"),
            status="draft",
            summary=body.summary or default_summary(current, chars=svc.settings.summary_chars),
            opinion=body.opinion,
            nature=body.nature,
            accepted=body.accepted,
            notes=body.notes,
            major=body.major,
            drafted_by=actor,
            drafted_at=now,
            reviews=existing.get("reviews") or [],
            **fields,
        )
        return Outcome(
            set={"slip": to_document(slip), "nature": body.nature.value, "major": body.major},
            note=body.opinion[:500],
        )

    return await svc.act(
        doc, Action.draft_slip, principal=principal, version=body.version, decide=decide
    )


async def submit_slip(
    svc: LetterService, doc: Document, *, version: int, principal: Principal
) -> Document:
    """Hand the slip to the office head (Art. 13 报请办公室负责人审核).

    Proposing the acceptance opinion is the office's Art. 18 duty, so `slip.submitted`
    goes out with the state change: the first submission stops the acceptance clock.
    """

    def decide(current: Document, now: datetime) -> Outcome:
        slip = Slip.model_validate(current["slip"])
        sent_back = sum(1 for review in slip.reviews if review.decision == "sent_back")
        event = SlipSubmitted(
            slip_id=slip.id,
            submitted_at=now,
            submission=sent_back + 1,
            accepted=slip.accepted,
            route=slip.route,
        )
        return Outcome(set={"slip.status": "submitted", "slip.submitted_at": now}, events=[event])

    return await svc.act(
        doc, Action.submit_slip, principal=principal, version=version, decide=decide
    )


async def send_back_slip(
    svc: LetterService, doc: Document, body: Comment, *, principal: Principal
) -> Document:
    """The office head sends the slip back to the clerk with a comment."""
    actor = actor_of(principal)

    def decide(current: Document, now: datetime) -> Outcome:
        review = SlipReview(decision="sent_back", comment=body.comment, by=actor, at=now)
        return Outcome(
            set={"slip.status": "sent_back"},
            push={"slip.reviews": [to_document(review)]},
            note=body.comment,
        )

    return await svc.act(
        doc, Action.send_back_slip, principal=principal, version=body.version, decide=decide
    )


async def approve_slip(
    svc: LetterService, doc: Document, body: SlipApprove, *, principal: Principal
) -> Document:
    """The office head approves: exactly one of accepted / not_accepted / forwarded / escalated."""
    svc.permit(doc, Action.approve_slip, principal=principal)
    read = doc.get("slip")
    if read is not None and read.get("route") == Route.direct.value:
        # Units may have left the directory since the slip was drafted.
        await svc.unit_names([read["lead_unit_id"]], field_name="lead_unit_id")
        await svc.unit_names(read.get("assisting_unit_ids") or [], field_name="assisting_unit_ids")
    actor = actor_of(principal)

    def decide(current: Document, now: datetime) -> Outcome:
        slip = Slip.model_validate(current["slip"])
        review = SlipReview(decision="approved", comment=body.comment, by=actor, at=now)
        outcome_state, event = _decision(current, slip, now=now)
        decision = Decision(outcome=outcome_state.value, slip_id=slip.id, at=now, by=actor)
        changes: dict[str, Any] = {
            "slip.status": "approved",
            "decision": to_document(decision),
            "nature": slip.nature.value,
        }
        notices: list[tuple[str, str, dict[str, Any]]] = []
        if outcome_state is State.assigned:
            assert slip.lead_unit_id is not None
            changes |= {
                "lead_unit_id": slip.lead_unit_id,
                "assisting_unit_ids": slip.assisting_unit_ids,
                "units": [slip.lead_unit_id, *slip.assisting_unit_ids],
                "major": slip.major,
            }
            about = {"title": current["title"], "nature": slip.nature.value, "slip_id": slip.id}
            notices.append((slip.lead_unit_id, "letter.assigned", {"role": "lead", **about}))
            notices.extend(
                (unit, "letter.assigned", {"role": "assisting", **about})
                for unit in slip.assisting_unit_ids
            )
        elif outcome_state in (State.forwarded, State.escalated):
            assert slip.route is not None
            assert slip.recipient_id
            assert slip.recipient_name
            transfer = Transfer(
                route=slip.route,
                recipient_id=slip.recipient_id,
                recipient_name=slip.recipient_name,
                decided_at=now,
            )
            changes["transfer"] = to_document(transfer)
        return Outcome(
            set=changes,
            push={"slip.reviews": [to_document(review)]},
            events=[event],
            notices=notices,
            note=body.comment,
            slip_outcome=outcome_state,
            major=slip.major,
        )

    return await svc.act(
        doc, Action.approve_slip, principal=principal, version=body.version, decide=decide
    )


def _decision(doc: Document, slip: Slip, *, now: datetime) -> tuple[State, EventData]:
    if not slip.accepted:
        assert slip.not_accepted_reason is not None
        assert slip.reply_text is not None
        return State.not_accepted, LetterNotAccepted(
            slip_id=slip.id,
            reason=slip.not_accepted_reason,
            reply_text=slip.reply_text,
            decided_at=now,
        )
    if slip.route is Route.direct:
        assert slip.lead_unit_id is not None
        return State.assigned, LetterAccepted(
            slip_id=slip.id,
            nature=slip.nature,
            lead_unit_id=slip.lead_unit_id,
            assisting_unit_ids=slip.assisting_unit_ids,
            major=slip.major,
            handed_over_at=now,
            lead_unit_name=slip.lead_unit_name,
        )
    assert slip.recipient_id
    assert slip.recipient_name
    assert slip.notice_text
    passed = {
        "slip_id": slip.id,
        "recipient_id": slip.recipient_id,
        "recipient_name": slip.recipient_name,
        "notice_text": slip.notice_text,
        "decided_at": now,
    }
    if slip.route is Route.forward:
        return State.forwarded, LetterForwarded(**passed)
    return State.escalated, LetterEscalated(**passed)


async def record_transfer(
    svc: LetterService, doc: Document, body: TransferSent, *, principal: Principal
) -> Document:
    """Art. 13: the office sent the letter's content to the department or the city office.

    The same channel and reference again is a retried request: answered with the letter as
    it is. A different one, once the transfer is recorded, is a conflict.
    """
    stored = doc.get("transfer") or {}
    if (
        stored.get("status") == "sent"
        and stored.get("channel") == body.channel.value
        and stored.get("reference") == body.reference
    ):
        svc.permit(doc, Action.record_transfer, principal=principal)
        return doc
    actor = actor_of(principal)

    def decide(current: Document, now: datetime) -> Outcome:
        stored = current.get("transfer")
        if stored is None:
            raise Conflict("this letter has no transfer to send")
        transfer = Transfer.model_validate(stored)
        if transfer.status == "sent":
            raise Conflict(
                f"the transfer to {transfer.recipient_name} was recorded as sent already"
                f" ({transfer.sent_at:%Y-%m-%d %H:%M})"
            )
        sent_at = body.sent_at or now
        if sent_at > now + CLOCK_SKEW:
            raise invalid("sent_at", "must not be in the future")
        sent_at = min(sent_at, now)
        if sent_at < transfer.decided_at:
            raise invalid("sent_at", "must not be before the office head approved the slip")
        sent = transfer.model_copy(
            update={
                "status": "sent",
                "channel": body.channel,
                "reference": body.reference,
                "note": body.note,
                "sent_by": actor,
                "sent_at": sent_at,
            }
        )
        event = LetterTransferred(
            route=transfer.route,
            recipient_id=transfer.recipient_id,
            recipient_name=transfer.recipient_name,
            channel=body.channel.value,
            reference=body.reference,
            sent_at=sent_at,
        )
        return Outcome(
            set={"transfer": to_document(sent)},
            events=[event],
            note=body.note or body.reference,
        )

    return await svc.act(
        doc, Action.record_transfer, principal=principal, version=body.version, decide=decide
    )
