"""The office's review (Art. 15, 19 ③, 21–23, 26): approvals, returns, extensions, referrals."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.routing.letters.handling.commands import mode_refusal
from services.routing.letters.models import (
    Extension,
    MajorMark,
    Referral,
    Reply,
    ReturnRecord,
    Review,
    SensitivityMark,
    to_document,
)
from services.routing.letters.review.schemas import (
    ExtensionApprove,
    ExtensionRefuse,
    ReferralCreate,
    ReferralDecision,
    ReviewApprove,
    ReviewReturn,
    SensitivityCreate,
)
from services.routing.letters.service import (
    LetterService,
    Outcome,
    actor_of,
    invalid,
    pending_referral,
    refuse_own_draft,
)
from services.routing.letters.workflow import TRANSITIONS, Action, State, resolve
from shared.audit import Actor
from shared.auth import Principal, Role
from shared.errors import Conflict, Forbidden, NotFound
from shared.events.catalog import (
    EventData,
    ExtensionApproved,
    ExtensionRefused,
    LetterLocked,
    LetterSensitivityMarked,
    ReplyApproved,
    ReplyReturned,
)
from shared.events.vocabulary import PublicationMode, Sensitivity
from shared.ids import new_id
from shared.mongo import Document

# Each office review step's approval (Art. 15), and the reviewer's own one.
_APPROVAL_OF_STEP = {
    State.office_recheck: Action.recheck_approve,
    State.office_head_review: Action.office_head_approve,
    State.office_leader_review: Action.office_leader_approve,
    State.principal_review: Action.principal_approve,
}
_REVIEW_ACTIONS = {
    Role.office_clerk: Action.recheck_approve,
    Role.office_head: Action.office_head_approve,
    Role.office_leader: Action.office_leader_approve,
    Role.principal_leader: Action.principal_approve,
}
_STEP_OF_STATE = {
    State.office_recheck: "office_recheck",
    State.office_head_review: "office_head",
    State.office_leader_review: "office_leader",
    State.principal_review: "principal_leader",
}
ART23_REASON = "涉及国家安全或特别敏感，已报请移交有关部门（第二十三条），不在互联网公示"


def _forced_mode(doc: Document) -> tuple[PublicationMode, str] | None:
    """The mode a mark or a lock imposes on a reply that chose otherwise."""
    mark = doc.get("sensitivity")
    if mark:
        return PublicationMode.not_public, str(mark.get("reason"))
    if doc.get("locked"):
        return PublicationMode.not_public, ART23_REASON
    return None


async def review_approve(
    svc: LetterService, doc: Document, body: ReviewApprove, *, principal: Principal
) -> Document:
    """The reviewer of the current step approves, keeping or changing the publication mode.

    The approval that would release the reply for upload is refused (409) while a referral
    awaits the office leader (Art. 23): approved, it goes to publishing before the decision.
    """
    action = _approval(State(doc["state"]), role=principal.role)
    actor = actor_of(principal)

    def decide(current: Document, now: datetime) -> Outcome:
        refuse_own_draft(current, principal=principal)
        state = State(current["state"])
        reply = Reply.model_validate(current["reply"])
        marked = _major_mark(current, body, step=_STEP_OF_STATE[state], actor=actor, now=now)
        major = bool(current.get("major")) or marked is not None
        if body.publication_mode is not None:
            refusal = mode_refusal(current, body.publication_mode)
            if refusal is not None:
                raise invalid("publication_mode", refusal)
            mode, reason = body.publication_mode, body.not_public_reason
        else:
            mode, reason = reply.mode, reply.mode_reason
            forced = _forced_mode(current)
            if forced is not None and mode_refusal(current, mode) is not None:
                mode, reason = forced
        review = Review(
            step=_STEP_OF_STATE[state],
            decision="approved",
            comment=body.comment,
            mode_before=reply.mode,
            mode_after=mode,
            by=actor,
            at=now,
        )
        changes: dict[str, Any] = {"reply.mode": mode.value, "reply.mode_reason": reason}
        note = body.comment
        if marked is not None:
            changes |= {"major": True, "major_mark": to_document(marked)}
            note = "; ".join(p for p in (f"重大事项 (Art. 15 ¶2): {marked.reason}", note) if p)
        events: list[EventData] = []
        notices: list[tuple[str, str, dict[str, Any]]] = []
        final = resolve(state, TRANSITIONS[state][action].target, major=major) is State.approved
        pending = pending_referral(current) if final else None
        if pending is not None:
            raise Conflict(
                "a referral to public or state security awaits the office leader's decision:"
                " the reply is not approved for upload until it is decided (Art. 23)",
                details={"referral_id": pending.get("id"), "agency": pending.get("agency")},
            )
        if final:
            changes["reply.approved_at"] = now
            mark = current.get("sensitivity") or {}
            sensitivities = [Sensitivity(s) for s in mark.get("sensitivities") or []]
            if current.get("locked"):
                sensitivities.append(Sensitivity.national_security)
            events.append(
                ReplyApproved(
                    reply_id=reply.id,
                    revision=reply.revision,
                    unit_id=reply.unit_id,
                    unit_name=reply.parts.unit,
                    handler_name=reply.parts.handler,
                    investigation=reply.parts.investigation,
                    policy_basis=reply.parts.policy_basis,
                    result=reply.parts.result,
                    publication_mode=mode,
                    not_public_reason=reason if mode is PublicationMode.not_public else None,
                    sensitivities=sensitivities,
                    locked=bool(current.get("locked")),
                    approved_at=now,
                )
            )
            notices.append(
                (reply.unit_id, "reply.approved", {"revision": reply.revision, "mode": mode.value})
            )
        return Outcome(
            set=changes,
            push={"reply.reviews": [to_document(review)]},
            events=events,
            notices=notices,
            note=note,
            major=major,
        )

    return await svc.act(doc, action, principal=principal, version=body.version, decide=decide)


# The reviewers who may mark a matter major on approving (Art. 15 ¶2): the office's own
# steps; the principal leader only ever sees a matter that is major already.
_MARKS_MAJOR = frozenset(
    {State.office_recheck, State.office_head_review, State.office_leader_review}
)


def _major_mark(
    doc: Document, body: ReviewApprove, *, step: str, actor: Actor, now: datetime
) -> MajorMark | None:
    """The new mark when this approval makes the matter major; None when it stays as it is.

    Once major it stays so: `major: false` is refused, `major: true` again changes nothing.
    """
    if body.major is None or bool(doc.get("major")) is body.major:
        return None
    if not body.major:
        by = (doc.get("major_mark") or {}).get("by") or {}
        who = by.get("name") or "the handling slip"
        raise invalid(
            "major",
            f"the matter was marked major ({who}): the principal leader approves it"
            " (Art. 15 ¶2); a later reviewer cannot unmark it",
        )
    if State(doc["state"]) not in _MARKS_MAJOR:
        raise invalid("major", "only the re-check, the office head and the office leader mark it")
    assert body.major_reason is not None  # the schema requires it with major
    return MajorMark(step=step, reason=body.major_reason, by=actor, at=now)


def _approval(state: State, *, role: Role) -> Action:
    """The approval the letter's step calls for (another reviewer's is then a 403).

    Off the review steps it is the caller's own, so a reviewer early or late gets the
    state's 409 and anyone who never reviews a 403.
    """
    if state in _APPROVAL_OF_STEP:
        return _APPROVAL_OF_STEP[state]
    if role in _REVIEW_ACTIONS:
        return _REVIEW_ACTIONS[role]
    raise Forbidden(
        f"role {role} approves no reply",
        details={"allowed_roles": sorted(r.value for r in _REVIEW_ACTIONS)},
    )


async def return_reply(
    svc: LetterService, doc: Document, body: ReviewReturn, *, principal: Principal
) -> Document:
    """Art. 26: return the reply to the unit (答非所问 / 敷衍了事 / 推诿扯皮)."""
    actor = actor_of(principal)

    def decide(current: Document, now: datetime) -> Outcome:
        _check_new_due(current, body, now)
        reply = Reply.model_validate(current["reply"])
        record = ReturnRecord(
            reply_id=reply.id,
            revision=reply.revision,
            reason=body.reason,
            comment=body.comment,
            new_due=body.new_due,
            by=actor,
            at=now,
        )
        review = Review(
            step=_STEP_OF_STATE[State(current["state"])],
            decision="returned",
            comment=body.comment,
            by=actor,
            at=now,
        )
        returned = reply.model_copy(
            update={"returned": record, "reviews": [*reply.reviews, review]}
        )
        redo = reply.model_copy(
            update={
                "revision": reply.revision + 1,
                "reviews": [],
                "submitted_at": None,
                "approved_at": None,
                "returned": None,
                "writer_informed": None,
            }
        )
        event = ReplyReturned(
            reply_id=reply.id,
            revision=reply.revision,
            unit_id=reply.unit_id,
            reason=body.reason,
            comment=body.comment,
            new_due=body.new_due,
            returned_at=now,
        )
        payload = {
            "revision": reply.revision,
            "reason": body.reason.value,
            "comment": body.comment,
            "new_due": body.new_due,
        }
        return Outcome(
            set={"reply": to_document(redo)},
            push={"reply_history": [to_document(returned)], "returns": [to_document(record)]},
            events=[event],
            notices=[(reply.unit_id, "reply.returned", payload)],
            note=f"{body.reason.value}: {body.comment}",
        )

    return await svc.act(
        doc, Action.return_reply, principal=principal, version=body.version, decide=decide
    )


def _check_new_due(current: Document, body: ReviewReturn, now: datetime) -> None:
    """A return's new due is in the future, and given when the handling due has passed.

    Deadlines reopens the handling clock on a return (with `new_due`, else the running due);
    reopened on a passed due it is overdue at once and a 催办 goes out, though the unit
    submitted in time and can no longer ask for an extension (Art. 26, 27).
    """
    if body.new_due is not None:
        if body.new_due <= now:
            raise invalid("new_due", "must be in the future")
        return
    due: datetime | None = ((current.get("clocks") or {}).get("handling") or {}).get("due")
    if due is not None and now > due:
        raise invalid(
            "new_due",
            f"required: the handling due {due.isoformat()} has passed, and reopened on it the"
            " unit would be overdue at once for the office's return (Art. 26, 27)",
        )


async def decide_extension(
    svc: LetterService,
    doc: Document,
    extension_id: str,
    body: ExtensionApprove | ExtensionRefuse,
    *,
    principal: Principal,
) -> Document:
    """The office head grants (as asked or changed) or refuses an extension."""
    actor = actor_of(principal)

    def decide(current: Document, now: datetime) -> Outcome:
        extensions = [Extension.model_validate(e) for e in current.get("extensions") or []]
        found = next((e for e in extensions if e.id == extension_id), None)
        if found is None:
            raise NotFound(f"extension {extension_id} not found")
        if found.status != "pending":
            raise Conflict(f"extension {extension_id} was {found.status} already")
        event: EventData
        if isinstance(body, ExtensionApprove):
            days, new_due = found.extra_working_days, found.new_due
            if body.extra_working_days is not None:
                days, new_due = body.extra_working_days, None
            elif body.new_due is not None:
                days, new_due = None, body.new_due
            if new_due is not None and new_due <= now:
                raise invalid("new_due", "must be in the future")
            decided = found.model_copy(
                update={
                    "status": "approved",
                    "granted_extra_working_days": days,
                    "granted_new_due": new_due,
                    "decision_reason": body.comment,
                    "decided_by": actor,
                    "decided_at": now,
                }
            )
            event = ExtensionApproved(
                extension_id=found.id,
                unit_id=found.unit_id,
                extra_working_days=days,
                new_due=new_due,
                decided_at=now,
            )
            payload: dict[str, Any] = {
                "extension_id": found.id,
                "extra_working_days": days,
                "new_due": new_due,
            }
            kind = "extension.approved"
        else:
            decided = found.model_copy(
                update={
                    "status": "refused",
                    "decision_reason": body.reason,
                    "decided_by": actor,
                    "decided_at": now,
                }
            )
            event = ExtensionRefused(
                extension_id=found.id, unit_id=found.unit_id, reason=body.reason, decided_at=now
            )
            payload = {"extension_id": found.id, "reason": body.reason}
            kind = "extension.refused"
        updated = [decided if e.id == extension_id else e for e in extensions]
        return Outcome(
            set={"extensions": [to_document(e) for e in updated]},
            events=[event],
            notices=[(found.unit_id, kind, payload)],
        )

    return await svc.act(
        doc, Action.decide_extension, principal=principal, version=body.version, decide=decide
    )


async def mark_sensitive(
    svc: LetterService, doc: Document, body: SensitivityCreate, *, principal: Principal
) -> Document:
    """Art. 22: mark the grounds; the answer is not public from now on."""
    actor = actor_of(principal)

    def decide(current: Document, now: datetime) -> Outcome:
        earlier = (current.get("sensitivity") or {}).get("sensitivities") or []
        merged = sorted({Sensitivity(s) for s in earlier} | set(body.sensitivities))
        mark = SensitivityMark(sensitivities=merged, reason=body.reason, by=actor, at=now)
        changes: dict[str, Any] = {"sensitivity": to_document(mark)}
        reply = current.get("reply")
        if reply and reply.get("mode") != PublicationMode.not_public.value:
            changes["reply.mode"] = PublicationMode.not_public.value
            changes["reply.mode_reason"] = body.reason
        event = LetterSensitivityMarked(sensitivities=merged, reason=body.reason, marked_at=now)
        return Outcome(set=changes, events=[event], note=body.reason)

    return await svc.act(
        doc, Action.mark_sensitive, principal=principal, version=body.version, decide=decide
    )


async def propose_referral(
    svc: LetterService, doc: Document, body: ReferralCreate, *, principal: Principal
) -> Document:
    """Art. 23: propose referring the letter to public or state security."""
    actor = actor_of(principal)

    def decide(current: Document, now: datetime) -> Outcome:
        if current.get("locked"):
            raise Conflict("the letter was referred and locked already")
        if pending_referral(current) is not None:
            raise Conflict("a referral is already waiting for the office leader")
        referral = Referral(
            id=new_id("ref"),
            agency=body.agency,
            reason=body.reason,
            proposed_by=actor,
            proposed_at=now,
        )
        return Outcome(push={"referrals": [to_document(referral)]}, note=body.reason)

    return await svc.act(
        doc, Action.propose_referral, principal=principal, version=body.version, decide=decide
    )


async def decide_referral(
    svc: LetterService, doc: Document, body: ReferralDecision, *, principal: Principal
) -> Document:
    """The office leader approves the referral (the letter is locked for good) or refuses it."""
    actor = actor_of(principal)

    def decide(current: Document, now: datetime) -> Outcome:
        referrals = [Referral.model_validate(r) for r in current.get("referrals") or []]
        pending = next((r for r in referrals if r.status == "pending"), None)
        if pending is None:
            raise Conflict("no referral is waiting for a decision")
        decided = pending.model_copy(
            update={
                "status": "approved" if body.approve else "refused",
                "comment": body.comment,
                "decided_by": actor,
                "decided_at": now,
            }
        )
        changes: dict[str, Any] = {
            "referrals": [to_document(decided if r.id == pending.id else r) for r in referrals]
        }
        if not body.approve:
            return Outcome(set=changes, note=body.comment)
        changes["locked"] = True
        reply = current.get("reply")
        if reply and reply.get("mode") == PublicationMode.online.value:
            changes["reply.mode"] = PublicationMode.not_public.value
            changes["reply.mode_reason"] = ART23_REASON
        event = LetterLocked(
            agency=pending.agency.value,
            reason=pending.reason,
            approved_by=actor.name,
            locked_at=now,
        )
        lead = current.get("lead_unit_id")
        notices = [(lead, "letter.locked", {"agency": pending.agency.value})] if lead else []
        return Outcome(set=changes, events=[event], notices=notices, note=body.comment)

    return await svc.act(
        doc, Action.decide_referral, principal=principal, version=body.version, decide=decide
    )
