"""The units at work (Art. 14, 19 ③, 29): handler, contact, assisting input, reply, extension."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.routing.letters.handling.schemas import (
    AssistAnswerCreate,
    AssistRequestCreate,
    ContactAttemptCreate,
    ContactInvalidCreate,
    HandlerCreate,
    ReplyDraft,
    ReplySubmit,
    WriterInformedCreate,
)
from services.routing.letters.models import (
    AssistRequest,
    ContactAttempt,
    ContactInvalid,
    Extension,
    Handler,
    Reply,
    ReplyParts,
    Review,
    WriterInformed,
    to_document,
)
from services.routing.letters.review.schemas import ExtensionCreate
from services.routing.letters.schemas import Comment, OptionalComment
from services.routing.letters.service import (
    CLOCK_SKEW,
    NAMED_HANDLER_ACTIONS,
    LetterService,
    Outcome,
    actor_of,
    invalid,
    refuse_own_draft,
)
from services.routing.letters.workflow import Action
from shared.audit import Actor
from shared.auth import Principal, Role
from shared.clock import ensure_aware
from shared.errors import Conflict, Forbidden, NotFound
from shared.events.catalog import ExtensionRequested, ReplySubmitted
from shared.events.vocabulary import PublicationMode
from shared.ids import new_id
from shared.mongo import Document


def mode_refusal(doc: Document, mode: PublicationMode) -> str | None:
    """Why `mode` may not be chosen for this letter (Art. 22, 23), or None."""
    mark = doc.get("sensitivity")
    if mark and mode is not PublicationMode.not_public:
        grounds = ", ".join(mark.get("sensitivities") or [])
        return f"the letter is marked sensitive ({grounds}: {mark.get('reason')}): not_public only"
    if doc.get("locked") and mode is PublicationMode.online:
        return "the letter is locked (Art. 23 referral): never published online"
    return None


def _the_handler(svc: LetterService, doc: Document, action: Action, principal: Principal) -> None:
    """A handler works on the letters they were named for; the unit head on any of the unit's."""
    svc.permit(doc, action, principal=principal)
    if principal.role is not Role.unit_handler or action not in NAMED_HANDLER_ACTIONS:
        return
    handler = doc.get("handler") or {}
    if handler.get("user_id") != principal.user_id:
        raise Forbidden(
            "only the named handler (or the unit head) works on this letter",
            details={"handler": handler.get("user_id")},
        )


async def name_handler(
    svc: LetterService, doc: Document, body: HandlerCreate, *, principal: Principal
) -> Document:
    """The lead unit names its handler (经办人员): an active member of the lead unit."""
    svc.permit(doc, Action.name_handler, principal=principal)
    await svc.member_of(body.user_id, unit_id=str(doc.get("lead_unit_id")), field_name="user_id")
    actor = actor_of(principal)

    def decide(current: Document, now: datetime) -> Outcome:
        handler = Handler(
            user_id=body.user_id, name=body.name, phone=body.phone, named_by=actor, named_at=now
        )
        return Outcome(set={"handler": to_document(handler)}, note=body.name)

    return await svc.act(
        doc, Action.name_handler, principal=principal, version=body.version, decide=decide
    )


async def record_contact(
    svc: LetterService, doc: Document, body: ContactAttemptCreate, *, principal: Principal
) -> Document:
    """Record an attempt to reach the writer (when, how, with what result)."""
    _the_handler(svc, doc, Action.record_contact, principal)
    if ensure_aware(body.at) > svc.clock.now() + CLOCK_SKEW:
        raise invalid("at", "a contact attempt is recorded after it happened")
    actor = actor_of(principal)

    def decide(current: Document, now: datetime) -> Outcome:
        attempt = ContactAttempt(
            id=new_id("cta"),
            at=body.at,
            channel=body.channel,
            outcome=body.outcome,
            note=body.note,
            recorded_by=actor,
            recorded_at=now,
        )
        return Outcome(push={"contact_attempts": [to_document(attempt)]})

    return await svc.act(
        doc, Action.record_contact, principal=principal, version=body.version, decide=decide
    )


async def mark_contact_invalid(
    svc: LetterService, doc: Document, body: ContactInvalidCreate, *, principal: Principal
) -> Document:
    """Art. 14 ¶3: the contact details are void; the reply is made from the letter alone."""
    _the_handler(svc, doc, Action.mark_contact_invalid, principal)
    actor = actor_of(principal)

    def decide(current: Document, now: datetime) -> Outcome:
        mark = ContactInvalid(reason=body.reason, by=actor, at=now)
        changes: dict[str, Any] = {"contact_invalid": to_document(mark)}
        if current.get("reply"):
            changes["reply.from_letter_alone"] = True
        return Outcome(set=changes, note=body.reason)

    return await svc.act(
        doc, Action.mark_contact_invalid, principal=principal, version=body.version, decide=decide
    )


async def request_assist(
    svc: LetterService, doc: Document, body: AssistRequestCreate, *, principal: Principal
) -> Document:
    """Ask an assisting unit for its part (the lead unit gathers, Art. 14 ¶2)."""
    _the_handler(svc, doc, Action.request_assist, principal)
    if body.unit_id not in (doc.get("assisting_unit_ids") or []):
        raise invalid("unit_id", f"{body.unit_id!r} is not an assisting unit of this letter")
    names = await svc.unit_names([body.unit_id], field_name="unit_id")
    actor = actor_of(principal)

    def decide(current: Document, now: datetime) -> Outcome:
        request = AssistRequest(
            id=new_id("ast"),
            unit_id=body.unit_id,
            unit_name=names[body.unit_id],
            question=body.question,
            requested_by=actor,
            requested_at=now,
        )
        payload = {
            "assist_request_id": request.id,
            "question": body.question,
            "title": current["title"],
        }
        return Outcome(
            push={"assist_requests": [to_document(request)]},
            notices=[(body.unit_id, "assist.requested", payload)],
        )

    return await svc.act(
        doc, Action.request_assist, principal=principal, version=body.version, decide=decide
    )


async def answer_assist(
    svc: LetterService,
    doc: Document,
    request_id: str,
    body: AssistAnswerCreate,
    *,
    principal: Principal,
) -> Document:
    """The assisting unit sends its part to the lead unit."""
    actor = actor_of(principal)

    def decide(current: Document, now: datetime) -> Outcome:
        requests = [AssistRequest.model_validate(r) for r in current.get("assist_requests") or []]
        found = next((r for r in requests if r.id == request_id), None)
        if found is None:
            raise NotFound(f"assist request {request_id} not found")
        if found.unit_id != principal.unit_id:
            raise Forbidden(f"this request is addressed to {found.unit_id}")
        if found.answer is not None:
            raise Conflict(
                "this request was answered already", details={"answered_at": str(found.answered_at)}
            )
        answered = found.model_copy(
            update={"answer": body.text, "answered_by": actor, "answered_at": now}
        )
        updated = [answered if r.id == request_id else r for r in requests]
        lead = current["lead_unit_id"]
        payload = {"assist_request_id": request_id, "unit_id": found.unit_id}
        return Outcome(
            set={"assist_requests": [to_document(r) for r in updated]},
            notices=[(lead, "assist.answered", payload)],
        )

    return await svc.act(
        doc, Action.answer_assist, principal=principal, version=body.version, decide=decide
    )


async def draft_reply(
    svc: LetterService, doc: Document, body: ReplyDraft, *, principal: Principal
) -> Document:
    """Save the reply with its five parts and the proposed publication mode."""
    _the_handler(svc, doc, Action.draft_reply, principal)
    actor = actor_of(principal)

    def decide(current: Document, now: datetime) -> Outcome:
        refusal = mode_refusal(current, body.proposed_mode)
        if refusal is not None:
            raise invalid("proposed_mode", refusal)
        existing = current.get("reply") or {}
        parts = ReplyParts(
            unit=body.unit,
            handler=body.handler,
            investigation=body.investigation,
            policy_basis=body.policy_basis,
            result=body.result,
        )
        reply = Reply(
            id=existing.get("id") or new_id("rpl"),
            revision=existing.get("revision") or 1,
            unit_id=current["lead_unit_id"],
            parts=parts,
            proposed_mode=body.proposed_mode,
            proposed_reason=body.not_public_reason,
            mode=body.proposed_mode,
            mode_reason=body.not_public_reason,
            from_letter_alone=bool(current.get("contact_invalid")),
            drafted_by=actor,
            drafted_at=now,
            reviews=existing.get("reviews") or [],
        )
        return Outcome(set={"reply": to_document(reply)})

    return await svc.act(
        doc, Action.draft_reply, principal=principal, version=body.version, decide=decide
    )


async def send_reply_for_review(
    svc: LetterService, doc: Document, *, version: int, principal: Principal
) -> Document:
    """The handler hands the reply to the unit head."""
    _the_handler(svc, doc, Action.send_reply_for_review, principal)

    def decide(current: Document, now: datetime) -> Outcome:
        if not current.get("reply"):
            raise Conflict("draft the reply first (PUT /letters/{id}/reply)")
        if not current.get("contact_attempts") and not current.get("contact_invalid"):
            raise Conflict(
                "record a contact attempt with the writer, or mark the contact details invalid"
                " (Art. 14)"
            )
        pending = [r["id"] for r in current.get("assist_requests") or [] if r.get("answer") is None]
        note = f"assist requests still open: {', '.join(pending)}" if pending else None
        return Outcome(note=note)

    return await svc.act(
        doc, Action.send_reply_for_review, principal=principal, version=version, decide=decide
    )


_UNIT_STEPS = {
    Role.unit_head: (Action.unit_head_approve, Action.unit_head_send_back, "unit_head"),
    Role.unit_leader: (Action.unit_leader_approve, Action.unit_leader_send_back, "unit_leader"),
}


async def unit_decide(
    svc: LetterService,
    doc: Document,
    body: OptionalComment | Comment,
    *,
    approve: bool,
    principal: Principal,
) -> Document:
    """The unit head, then the unit leader, approve the reply or send it back to the handler."""
    approve_action, send_back_action, step = _UNIT_STEPS.get(
        principal.role, (Action.unit_head_approve, Action.unit_head_send_back, "unit_head")
    )
    action = approve_action if approve else send_back_action
    actor = actor_of(principal)

    def decide(current: Document, now: datetime) -> Outcome:
        if approve:
            refuse_own_draft(current, principal=principal)
        review = Review(
            step=step,
            decision="approved" if approve else "sent_back",
            comment=body.comment,
            by=actor,
            at=now,
        )
        return Outcome(push={"reply.reviews": [to_document(review)]}, note=body.comment)

    return await svc.act(doc, action, principal=principal, version=body.version, decide=decide)


async def submit_reply(
    svc: LetterService, doc: Document, body: ReplySubmit, *, principal: Principal
) -> Document:
    """The approved reply goes to the office (`reply.submitted`) with how the writer was told."""
    actor = actor_of(principal)

    def decide(current: Document, now: datetime) -> Outcome:
        reply = Reply.model_validate(current["reply"])
        informed = _writer_informed(current, body.writer_informed, now=now, actor=actor)
        event = ReplySubmitted(
            reply_id=reply.id,
            revision=reply.revision,
            unit_id=reply.unit_id,
            proposed_mode=reply.proposed_mode,
            submitted_at=now,
        )
        changes: dict[str, Any] = {
            "reply.submitted_at": now,
            "reply.writer_informed": to_document(informed) if informed else None,
        }
        note = f"writer informed by {informed.channel.value}" if informed else None
        return Outcome(set=changes, events=[event], note=note)

    return await svc.act(
        doc, Action.submit_reply, principal=principal, version=body.version, decide=decide
    )


def _writer_informed(
    doc: Document, given: WriterInformedCreate | None, *, now: datetime, actor: Actor
) -> WriterInformed | None:
    """Art. 14 ¶1: the unit tells the writer the result as it reports to the office.

    Not when the contact details are void (Art. 14 ¶3): there is no one to tell, and a claim
    that someone was told would contradict the mark.
    """
    if doc.get("contact_invalid"):
        if given is not None:
            raise invalid(
                "writer_informed",
                "the writer's contact details are marked invalid (Art. 14 ¶3 空号或错误信息):"
                " the reply rests on the letter alone and the writer cannot have been told",
            )
        return None
    if given is None:
        raise invalid(
            "writer_informed",
            "required: the unit tells the writer how the letter was handled when it reports to"
            " the office (Art. 14 同时将有关办理情况回复来信人), or marks the contact details"
            " invalid (Art. 14 ¶3)",
        )
    at = ensure_aware(given.at)
    if at > now + CLOCK_SKEW:
        raise invalid("writer_informed.at", "the writer is told before the reply is submitted")
    handed_over: datetime | None = (doc.get("decision") or {}).get("at")
    if handed_over is not None and at < ensure_aware(handed_over):
        raise invalid(
            "writer_informed.at",
            f"before the letter was handed to the unit ({ensure_aware(handed_over).isoformat()})",
        )
    return WriterInformed(
        channel=given.channel, at=at, note=given.note, recorded_by=actor, recorded_at=now
    )


async def request_extension(
    svc: LetterService, doc: Document, body: ExtensionCreate, *, principal: Principal
) -> Document:
    """Art. 19 ③: ask the office for more time, before the handling clock is due."""
    actor = actor_of(principal)

    def decide(current: Document, now: datetime) -> Outcome:
        if any(e.get("status") == "pending" for e in current.get("extensions") or []):
            raise Conflict("an extension request is already waiting for the office")
        clock = (current.get("clocks") or {}).get("handling") or {}
        due: datetime | None = clock.get("due")
        if due is not None and now > due:
            raise Conflict(
                f"the handling clock was due at {due.isoformat()}: too late to ask for an"
                " extension",
                details={"due": due.isoformat()},
            )
        if body.new_due is not None and due is not None and body.new_due <= due:
            raise invalid("new_due", f"must be later than the current due {due.isoformat()}")
        if body.new_due is not None and body.new_due <= now:
            raise invalid("new_due", "must be in the future")
        extension = Extension(
            id=new_id("ext"),
            unit_id=current["lead_unit_id"],
            reason=body.reason,
            extra_working_days=body.extra_working_days,
            new_due=body.new_due,
            requested_by=actor,
            requested_at=now,
            due_at_request=due,
        )
        event = ExtensionRequested(
            extension_id=extension.id,
            unit_id=extension.unit_id,
            reason=body.reason,
            extra_working_days=body.extra_working_days,
            new_due=body.new_due,
            requested_at=now,
        )
        return Outcome(
            push={"extensions": [to_document(extension)]}, events=[event], note=body.reason
        )

    return await svc.act(
        doc, Action.request_extension, principal=principal, version=body.version, decide=decide
    )
