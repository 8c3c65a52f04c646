"""The routing domain's core: who sees a letter, how an action becomes one write, registration.

Every action goes through `LetterService.act`: the caller's role and party are checked
(403), the stale version (409), the state (409 with the allowed actions), then the
operation decides what changes; the state, the events, the audit entry and the unit
notices are one document update. The operations live in `slip/commands`, `handling/commands`
and `review/commands`, one module per desk.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from services.routing.classify.classifier import classify
from services.routing.classify.rules import RuleSet
from services.routing.classify.segmentation import tokens_for_search
from services.routing.classify.similarity import writer_key
from services.routing.classify.suggestion import LetterInput, Suggestion
from services.routing.directory.models import Directory, ExternalRecipient, Unit
from services.routing.letters.models import Notice, to_document
from services.routing.letters.repository import LetterRepository
from services.routing.letters.workflow import (
    TRANSITIONS,
    Action,
    Party,
    State,
    allowed_actions,
    authorize,
    check,
    resolve,
)
from services.routing.notify.service import NoticeRelay
from services.routing.settings import RoutingSettings
from shared.aggregate import Change
from shared.audit import Actor, AuditEntry, system_actor
from shared.auth import Principal, Role, sees_writer
from shared.clock import Clock
from shared.errors import Forbidden, Invalid, NotFound
from shared.events import Event, make_event
from shared.events.catalog import EventData, LetterClassified, LetterReceived
from shared.ids import new_id
from shared.logging import get_logger
from shared.mongo import Document

log = get_logger(__name__)

SERVICE = "routing"
# Roles that read every letter; of them the admin reads no writer's data (`sees_person`).
READ_ALL = frozenset(
    {
        Role.office_clerk,
        Role.office_head,
        Role.office_leader,
        Role.principal_leader,
        Role.admin,
        Role.service,
    }
)


def invalid(field_name: str, reason: str) -> Invalid:
    """A 422 naming the field, in the same shape as request validation errors."""
    return Invalid(
        f"{field_name}: {reason}",
        details={"errors": [{"field": field_name, "in": "body", "reason": reason}]},
    )


def actor_of(principal: Principal) -> Actor:
    """The audit actor for a caller."""
    return Actor(
        user_id=principal.user_id,
        name=principal.name,
        role=principal.role.value,
        unit_id=principal.unit_id,
    )


def party_of(principal: Principal, doc: Document) -> Party:
    """How the caller stands to this letter."""
    if principal.is_office:
        return Party.office
    if principal.is_unit and principal.unit_id:
        if principal.unit_id == doc.get("lead_unit_id"):
            return Party.lead
        if principal.unit_id in (doc.get("assisting_unit_ids") or []):
            return Party.assisting
    return Party.other


def can_see(principal: Principal, doc: Document) -> bool:
    """The office, admin and services see every letter; a unit only those assigned to it."""
    if principal.role in READ_ALL:
        return True
    return party_of(principal, doc) in (Party.lead, Party.assisting)


# What people record happened before they record it (a contact, telling the writer, sending a
# transfer); a client clock a little ahead is not a claim about the future.
CLOCK_SKEW = timedelta(minutes=5)


# What only the named handler does among unit handlers (the unit head may always).
NAMED_HANDLER_ACTIONS = frozenset(
    {
        Action.record_contact,
        Action.mark_contact_invalid,
        Action.request_assist,
        Action.draft_reply,
        Action.send_reply_for_review,
    }
)


def pending_referral(doc: Document) -> dict[str, Any] | None:
    """The Art. 23 referral waiting for the office leader's decision, if any."""
    referrals: list[dict[str, Any]] = doc.get("referrals") or []
    return next((r for r in referrals if r.get("status") == "pending"), None)


def held_back(action: Action, doc: Document) -> bool:
    """An action the state allows that the letter's data refuses now (the service answers 409).

    Not offered, so clients show no button that can only fail: a transfer already recorded,
    an extension or referral decision with none pending, a second extension request or
    referral while one waits, and the approval that would release the reply for upload while
    a referral waits (Art. 23).
    """
    if action is Action.record_transfer:
        return (doc.get("transfer") or {}).get("status") != "to_send"
    if action in (Action.decide_extension, Action.request_extension):
        waiting = any(e.get("status") == "pending" for e in doc.get("extensions") or [])
        return waiting if action is Action.request_extension else not waiting
    pending = pending_referral(doc) is not None
    if action is Action.decide_referral:
        return not pending
    if action is Action.propose_referral:
        return pending or bool(doc.get("locked"))
    if pending:
        state = State(doc["state"])
        step = TRANSITIONS[state].get(action)
        major = bool(doc.get("major"))
        return step is not None and resolve(state, step.target, major=major) is State.approved
    return False


def actions_for(principal: Principal, doc: Document) -> list[Action]:
    """What the caller may do now (shown with the letter so clients offer only that)."""
    actions = allowed_actions(
        State(doc["state"]), role=principal.role, party=party_of(principal, doc)
    )
    if principal.role is Role.unit_handler:
        named = (doc.get("handler") or {}).get("user_id") == principal.user_id
        if not named:
            actions = [a for a in actions if a not in NAMED_HANDLER_ACTIONS]
    if drafted_by(doc, principal=principal):
        actions = [a for a in actions if a not in APPROVALS]
    return [a for a in actions if not held_back(a, doc)]


def sees_person(principal: Principal, doc: Document) -> bool:
    """Art. 3 严格保密: the writer's data for the office, the assigned units and the archive."""
    # `units` (lead and assisting) is what a list's projection carries; a full read has both.
    units = [
        doc.get("lead_unit_id"),
        *(doc.get("assisting_unit_ids") or []),
        *(doc.get("units") or []),
    ]
    return sees_writer(principal, assigned_units=units)


# The approvals of a reply: whoever drafted it never gives one (four eyes).
APPROVALS = frozenset(
    {
        Action.unit_head_approve,
        Action.unit_leader_approve,
        Action.recheck_approve,
        Action.office_head_approve,
        Action.office_leader_approve,
        Action.principal_approve,
    }
)


def drafted_by(doc: Document, *, principal: Principal) -> bool:
    """Whether the caller drafted the letter's current reply."""
    author = ((doc.get("reply") or {}).get("drafted_by") or {}).get("user_id")
    return author is not None and author == principal.user_id


def refuse_own_draft(doc: Document, *, principal: Principal) -> None:
    """403 for an approval by the person who drafted the reply (whatever their role)."""
    if drafted_by(doc, principal=principal):
        raise Forbidden(
            "you drafted this reply: another person approves it (four eyes); send it back"
            " to the handler or let another approver decide",
            details={"reason": "own_draft", "drafted_by": principal.user_id},
        )


@dataclass
class Outcome:
    """What an operation decided: fields, appended items, events, notices, audit note."""

    set: dict[str, Any] = field(default_factory=dict)
    push: dict[str, list[Any]] = field(default_factory=dict)
    events: list[EventData] = field(default_factory=list)
    notices: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    note: str | None = None
    slip_outcome: State | None = None
    major: bool = False


Decide = Callable[[Document, datetime], Outcome]


def _get(doc: Document, dotted: str) -> Any:
    value: Any = doc
    for part in dotted.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


class DirectoryReader(Protocol):
    """What letters read of the directory (the directory domain's store provides it)."""

    async def units(self, unit_ids: list[str]) -> dict[str, Unit]: ...

    async def directory(self) -> Directory: ...

    async def city_office(self) -> ExternalRecipient | None: ...

    async def recipient(self, recipient_id: str) -> ExternalRecipient | None: ...


class PeopleReader(Protocol):
    """Who works where (the users domain's store provides it)."""

    async def get(self, user_id: str) -> Document:
        """The user, or NotFound."""
        ...


class RulesReader(Protocol):
    """The classifier's rule set in force (the classify domain's store provides it)."""

    async def current(self) -> RuleSet: ...


class LetterService:
    """Letters: visibility, registration and the one way every action is written."""

    def __init__(
        self,
        *,
        letters: LetterRepository,
        directory: DirectoryReader,
        people: PeopleReader,
        rules: RulesReader,
        notices: NoticeRelay,
        clock: Clock,
        settings: RoutingSettings,
    ) -> None:
        self.letters = letters
        self.directory = directory
        self.people = people
        self.rules = rules
        self.notices = notices
        self.clock = clock
        self.settings = settings

    async def get_for(self, principal: Principal, letter_id: str) -> Document:
        """The letter if the caller may see it; 404 otherwise (ids cannot be probed)."""
        doc = await self.letters.get(letter_id)
        if doc is None or not can_see(principal, doc):
            raise NotFound(f"letter {letter_id} not found")
        return doc

    def permit(self, doc: Document, action: Action, *, principal: Principal) -> None:
        """403 unless the caller's role and party may take `action` (before other checks)."""
        authorize(action, role=principal.role, party=party_of(principal, doc))

    async def act(
        self,
        doc: Document,
        action: Action,
        *,
        principal: Principal,
        version: int,
        decide: Decide,
    ) -> Document:
        """Check and apply one action on a letter the caller can see; one write."""
        letter_id = str(doc["_id"])
        authorize(action, role=principal.role, party=party_of(principal, doc))
        now = self.clock.now()
        actor = actor_of(principal)

        def apply(current: Document) -> Change:
            state = State(current["state"])
            step = check(state, action, role=principal.role, party=party_of(principal, current))
            outcome = decide(current, now)
            target = resolve(
                state, step.target, slip_outcome=outcome.slip_outcome, major=outcome.major
            )
            return self._change(
                current, outcome, action=action.value, actor=actor, now=now, state=target
            )

        updated = await self.letters.store.mutate(
            letter_id, apply, expected_version=version, read=doc
        )
        await self._deliver(updated)
        return updated

    async def apply_event(
        self, event: Event, decide: Callable[[Document, datetime], tuple[State | None, Outcome]]
    ) -> Document:
        """Apply a fact another service reports (once per event id); retried until stored."""
        letter_id = event.letter_id
        if letter_id is None:
            raise ValueError(f"{event.type} without a letter id")
        now = self.clock.now()
        actor = system_actor(SERVICE)

        def apply(current: Document) -> Change:
            state, outcome = decide(current, now)
            target = state or State(current["state"])
            return self._change(
                current, outcome, action=event.type, actor=actor, now=now, state=target
            )

        updated = await self.letters.store.mutate(letter_id, apply, event_id=event.id)
        await self._deliver(updated)
        return updated

    def _change(
        self,
        doc: Document,
        outcome: Outcome,
        *,
        action: str,
        actor: Actor,
        now: datetime,
        state: State,
    ) -> Change:
        letter_id = str(doc["_id"])
        changes = dict(outcome.set)
        if state.value != doc["state"]:
            changes["state"] = state.value
        # Audit keys are stored as field names: a dotted path would read as nesting.
        before = {key.replace(".", "/"): _get(doc, key) for key in changes}
        after = {key.replace(".", "/"): value for key, value in {**changes, **outcome.push}.items()}
        notices = [
            to_document(Notice(id=new_id("ntc"), unit_id=unit, kind=kind, payload=payload, at=now))
            for unit, kind, payload in outcome.notices
        ]
        push = dict(outcome.push)
        if notices:
            push["notices_outbox"] = notices
            changes["has_notices"] = True
        audit = AuditEntry(
            at=now,
            actor=actor,
            action=action,
            target_type="letter",
            target_id=letter_id,
            letter_id=letter_id,
            before=before,
            after=after,
            note=outcome.note,
        )
        events = [
            make_event(data, producer=SERVICE, occurred_at=now, letter_id=letter_id)
            for data in outcome.events
        ]
        return Change(set=changes, push=push, events=events, audit=[audit])

    async def _deliver(self, doc: Document) -> None:
        await self.letters.desk.sync_or_retry(doc)
        try:
            await self.notices.deliver(doc)
        except Exception as exc:
            # The notices stay in the letter's outbox; the relay's sweep delivers them later.
            log.warning("notice delivery failed", letter_id=doc["_id"], error=str(exc))

    async def unit_names(self, unit_ids: Iterable[str], *, field_name: str) -> dict[str, str]:
        """Names of commission units, or 422 naming the field with the unknown id."""
        ids = list(unit_ids)
        found = await self.directory.units(ids)
        for unit_id in ids:
            if unit_id not in found:
                raise invalid(field_name, f"unknown unit {unit_id!r}")
        return {unit_id: unit.name for unit_id, unit in found.items()}

    async def member_of(self, user_id: str, *, unit_id: str, field_name: str) -> Document:
        """An active user of `unit_id`, or 422 naming the field (unknown, inactive, elsewhere)."""
        try:
            user = await self.people.get(user_id)
        except NotFound:
            raise invalid(field_name, f"no user {user_id!r}") from None
        if not user.get("active", False):
            raise invalid(field_name, f"user {user_id!r} is deactivated")
        if user.get("unit_id") != unit_id:
            raise invalid(field_name, f"user {user_id!r} is not a member of unit {unit_id!r}")
        return user

    async def register(self, event: Event, data: LetterReceived) -> bool:
        """Store a received letter with its suggestion and emit `letter.classified` (once)."""
        letter_id = event.letter_id
        if letter_id is None:
            log.warning("letter.received without letter id ignored", event_id=event.id)
            return False
        if await self.letters.exists(letter_id):
            return False
        rules = await self.rules.current()
        directory = await self.directory.directory()
        writer = writer_key(data.person)
        recent = await self.letters.recent(
            around=data.received_at,
            window=timedelta(days=rules.repeats.window_days),
            writer_parts=writer.split("|") if writer else [],
            exclude_id=letter_id,
            limit=self.settings.repeat_candidates_max,
        )
        letter = LetterInput(
            title=data.title[:1000],
            text=data.text[:100_000],
            person=data.person,
            received_at=data.received_at,
        )
        # jieba and rapidfuzz are CPU work: off the event loop.
        suggestion = await asyncio.to_thread(
            classify, letter, rules=rules, directory=directory, recent=recent
        )
        tokens = await asyncio.to_thread(tokens_for_search, f"{data.title}\n{data.text}")
        classified = _classified(suggestion)
        now = self.clock.now()
        doc: Document = {
            "_id": letter_id,
            "state": State.registered.value,
            "platform": data.platform,
            "external_id": data.external_id,
            "source": data.source.value,
            "title": data.title,
            "text": data.text,
            "person": data.person.model_dump(mode="python"),
            "submitted_at": data.submitted_at,
            "received_at": data.received_at,
            "taken_by": data.taken_by,
            "raw_sha256": data.raw_sha256,
            "writer_key": writer,
            "writer_keys": writer.split("|") if writer else [],
            "search_tokens": tokens,
            "suggestion": suggestion.model_dump(mode="python"),
            "why": classified.why,
            "nature": suggestion.nature.value.value,
            "units": [],
            "assisting_unit_ids": [],
            "locked": False,
        }
        audit = AuditEntry(
            at=now,
            actor=system_actor(SERVICE),
            action="letter.registered",
            target_type="letter",
            target_id=letter_id,
            letter_id=letter_id,
            after={"state": State.registered.value, "suggestion": classified.model_dump()},
            note=classified.why[:1000],
        )
        # Before the letter: a crash in between leaves a candidate whose letter the
        # redelivered event stores, never a letter that repeat detection cannot see.
        await self.letters.remember_candidate(doc)
        return await self.letters.create(
            doc,
            events=[make_event(classified, producer=SERVICE, occurred_at=now, letter_id=letter_id)],
            audit=[audit],
            applied_event_id=event.id,
        )


def _classified(suggestion: Suggestion) -> LetterClassified:
    accepted = suggestion.scope.accepted
    return LetterClassified(
        nature=suggestion.nature.value,
        accepted=accepted,
        not_accepted_reason=suggestion.scope.reason,
        route=suggestion.competence.route if accepted else None,
        unit_id=suggestion.competence.target_id if accepted else None,
        why=suggestion.why()[:2000],
        repeated_of=[s.letter_id for s in suggestion.similar_letters if s.repeat],
    )
