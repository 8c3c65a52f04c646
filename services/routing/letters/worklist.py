"""待办: the letters waiting for the caller's action, soonest statutory deadline first.

Every role's work follows from the workflow table: the states in which the role has a
main-line action (approve a slip, name the handler, send the reply on, review it), plus the
waiting items that do not move the state (an extension or a referral to decide, a transfer
to send, an assisting unit's question to answer). Optional steps (marks, referrals proposed,
extensions asked, contacts) are no work to wait on and list no letter by themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.routing.letters.service import actions_for, party_of
from services.routing.letters.workflow import (
    RULES,
    TRANSITIONS,
    Action,
    Party,
    State,
    allowed_actions,
)
from shared.auth import OFFICE_ROLES, UNIT_ROLES, Principal, Role
from shared.events.vocabulary import ClockKind
from shared.mongo import Collection, Document

# What a caller may do but never has to: no letter is waiting for it.
OPTIONAL = frozenset(
    {
        Action.mark_sensitive,
        Action.propose_referral,
        Action.request_extension,
        Action.request_assist,
        Action.record_contact,
        Action.mark_contact_invalid,
        Action.draft_reply,
        Action.return_reply,
        Action.send_back_slip,
        Action.unit_head_send_back,
        Action.unit_leader_send_back,
        Action.publish,
        Action.archive,
    }
)
# Waiting items that leave the state as it is, and where the letter shows them.
_WAITING = {
    Action.decide_extension: {"extensions.status": "pending"},
    Action.decide_referral: {"referrals.status": "pending"},
    Action.record_transfer: {"transfer.status": "to_send"},
}
# The statutory clock each state's work runs against.
_CLOCK_OF_STATE = {
    **dict.fromkeys(
        (State.registered, State.slip_drafted, State.slip_submitted, State.slip_sent_back),
        ClockKind.acceptance,
    ),
    **dict.fromkeys(
        (
            State.assigned,
            State.in_handling,
            State.returned,
            State.unit_head_review,
            State.unit_leader_review,
            State.unit_approved,
        ),
        ClockKind.handling,
    ),
    **dict.fromkeys(
        (
            State.office_recheck,
            State.office_head_review,
            State.office_leader_review,
            State.principal_review,
        ),
        ClockKind.upload,
    ),
}
# What 待办 reads of a letter: all its desk index keeps (`LetterRepository.desk`).
DESK_FIELDS = tuple(
    (
        "state version platform source external_id title nature received_at submitted_at"
        " lead_unit_id assisting_unit_ids units major locked clocks sensitivity handler"
        " transfer referrals extensions assist_requests"
    ).split()
)
# Letters read at most for one list: a desk with more waiting has a backlog to clear first.
SCAN_LIMIT = 2000


@dataclass(frozen=True)
class WorkItem:
    """One letter waiting for the caller, with what they may do and the clock it runs on."""

    doc: Document
    actions: list[Action]
    clock: ClockKind | None
    due: datetime | None
    overdue: bool


def _states_of(role: Role, parties: list[Party]) -> set[str]:
    """States in which `role` has a main-line action (standing as any of `parties`)."""
    return {
        state.value
        for state in TRANSITIONS
        for party in parties
        if set(allowed_actions(state, role=role, party=party)) - OPTIONAL - set(_WAITING)
    }


def _work_states(principal: Principal) -> list[str]:
    """States in which the caller's role has a main-line action (of any party it may be)."""
    parties = [Party.office] if principal.is_office else [Party.lead, Party.assisting]
    return sorted(_states_of(principal.role, parties))


# Every state some desk works in: a letter in none of them, with nothing waiting, is on no
# desk (archived, published, not accepted, sent on and recorded).
_ANY_DESK_STATES = frozenset(
    {s for role in OFFICE_ROLES for s in _states_of(role, [Party.office])}
    | {s for role in UNIT_ROLES for s in _states_of(role, [Party.lead, Party.assisting])}
)


def on_some_desk(doc: Document) -> bool:
    """Whether any desk's 待办 may list this letter: what its index must keep.

    The union of `_query` over every role: a work state, or a waiting item (an extension or
    referral to decide, a transfer to send, an assisting unit's question unanswered).
    """
    if doc.get("state") in _ANY_DESK_STATES:
        return True
    if any(r.get("status") == "pending" for r in doc.get("extensions") or []):
        return True
    if any(r.get("status") == "pending" for r in doc.get("referrals") or []):
        return True
    if (doc.get("transfer") or {}).get("status") == "to_send":
        return True
    return any(r.get("answer") is None for r in doc.get("assist_requests") or [])


def _query(principal: Principal) -> dict[str, Any] | None:
    """Where the caller's work can be; None when the role has none."""
    branches: list[dict[str, Any]] = []
    states = _work_states(principal)
    if states:
        branches.append({"state": {"$in": states}})
    branches.extend(
        where for action, where in _WAITING.items() if principal.role in RULES[action].roles
    )
    if principal.is_unit and principal.unit_id:
        # Asked at all (FerretDB v1 has no $elemMatch on fields): the open ones are kept below.
        branches.append({"assist_requests.unit_id": principal.unit_id})
    if not branches:
        return None
    query: dict[str, Any] = {"$or": branches}
    if principal.is_unit:
        query = {"$and": [query, {"units": principal.unit_id}]}
    return query


def _waiting_on(principal: Principal, doc: Document) -> list[Action]:
    """The caller's work on this letter (offered actions that are not optional)."""
    work: list[Action] = []
    for action in actions_for(principal, doc):
        if action in OPTIONAL:
            continue
        if action is Action.answer_assist and not any(
            r.get("unit_id") == principal.unit_id and r.get("answer") is None
            for r in doc.get("assist_requests") or []
        ):
            continue
        work.append(action)
    return work


def _clock(doc: Document) -> tuple[ClockKind | None, datetime | None]:
    kind = _CLOCK_OF_STATE.get(State(doc["state"]))
    if kind is None:
        return None, None
    clock = (doc.get("clocks") or {}).get(kind.value) or {}
    if clock.get("state") not in (None, "running"):
        return kind, None
    due = clock.get("due")
    return kind, due if isinstance(due, datetime) else None


async def worklist(
    desk: Collection, principal: Principal, *, now: datetime
) -> tuple[list[WorkItem], bool]:
    """The caller's waiting letters, overdue and soonest due first; and whether more exist.

    Reads the letters' desk index (`LetterRepository.desk`): small documents of the letters
    some desk may wait on, so the query's cost follows the open letters, not all stored.
    """
    query = _query(principal)
    if query is None:
        return [], False
    docs = await desk.find(query).limit(SCAN_LIMIT + 1).to_list(None)
    items: list[WorkItem] = []
    for doc in docs[:SCAN_LIMIT]:
        if principal.is_unit and party_of(principal, doc) is Party.other:
            continue
        actions = _waiting_on(principal, doc)
        if not actions:
            continue
        kind, due = _clock(doc)
        items.append(
            WorkItem(doc=doc, actions=actions, clock=kind, due=due, overdue=bool(due and due < now))
        )
    far = datetime.max.replace(tzinfo=now.tzinfo)
    items.sort(key=lambda i: (i.due or far, i.doc["received_at"], str(i.doc["_id"])))
    return items, len(docs) > SCAN_LIMIT
