"""The letter workflow as a state machine: which action is allowed in which state, by whom.

Pure: no I/O. The service asks `transition(...)` before every change; an action the state
does not allow raises `InvalidTransition` (409, with the actions the state allows), an
action beyond the caller's role or party raises `Forbidden` (403).

States (Art. 10 收件→分类→受理→承办→上传→存档; Art. 13–15, 21, 26):

- `registered`: received and classified (the suggestion is stored).
- `slip_drafted` → `slip_submitted`: the clerk drafted the 处理单 and handed it to the office
  head (Art. 13 报请办公室负责人审核). The regulation has the head approve a finished opinion,
  so a submitted slip is frozen until approved or sent back (`slip_sent_back`).
- Approval decides: `not_accepted` | `forwarded` (转阅) | `escalated` (呈办) end the workflow
  here (publishing answers the writer and later archives; for the last two the office first
  records that it sent the letter's content on, `record_transfer`), or `assigned` (直办: the
  slip is handed to the lead unit).
- `assigned` → `in_handling` once the lead unit names its handler (Art. 14 明确具体承办人).
- `unit_head_review` → `unit_leader_review` → `unit_approved`: the reply and the proposed
  publication mode go past the 处室负责人 and the 分管委领导 (Art. 14, 21); either sends it back
  to `in_handling`.
- `office_recheck`: the unit submitted (`reply.submitted`); the office re-checks from the moment
  it receives the reply (Art. 15 复核; the upload clock of Art. 20 starts then), so "submitted"
  and "office re-check" are one state.
- `office_head_review` → `office_leader_review` → (`principal_review` for a major matter,
  Art. 15 ¶2: marked on the slip, or by the clerk, office head or office leader when they
  approve the reply) → `approved` (`reply.approved`).
- `returned`: a reviewer returned the reply (Art. 26); the unit works as in `in_handling` and
  the reply goes through its unit's approvals again.
- `published` on `letter.published` for an approved reply; `archived` on `letter.archived`
  (from `published` or a terminal decision).

Besides the main line some actions leave the state as it is: contact attempts, assisting
input, drafts, extensions (Art. 19 ③), sensitivity marks (Art. 22) and referrals (Art. 23).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from shared.auth import Role
from shared.errors import Forbidden, InvalidTransition


class State(StrEnum):
    """Where a letter stands in the workflow."""

    registered = "registered"
    slip_drafted = "slip_drafted"
    slip_submitted = "slip_submitted"
    slip_sent_back = "slip_sent_back"
    not_accepted = "not_accepted"
    forwarded = "forwarded"
    escalated = "escalated"
    assigned = "assigned"
    in_handling = "in_handling"
    unit_head_review = "unit_head_review"
    unit_leader_review = "unit_leader_review"
    unit_approved = "unit_approved"
    office_recheck = "office_recheck"
    office_head_review = "office_head_review"
    office_leader_review = "office_leader_review"
    principal_review = "principal_review"
    returned = "returned"
    approved = "approved"
    published = "published"
    archived = "archived"


class Action(StrEnum):
    """Everything anyone does to a letter."""

    draft_slip = "draft_slip"
    submit_slip = "submit_slip"
    approve_slip = "approve_slip"
    send_back_slip = "send_back_slip"
    name_handler = "name_handler"
    record_contact = "record_contact"
    mark_contact_invalid = "mark_contact_invalid"
    request_assist = "request_assist"
    answer_assist = "answer_assist"
    draft_reply = "draft_reply"
    send_reply_for_review = "send_reply_for_review"
    unit_head_approve = "unit_head_approve"
    unit_head_send_back = "unit_head_send_back"
    unit_leader_approve = "unit_leader_approve"
    unit_leader_send_back = "unit_leader_send_back"
    submit_reply = "submit_reply"
    request_extension = "request_extension"
    decide_extension = "decide_extension"
    recheck_approve = "recheck_approve"
    office_head_approve = "office_head_approve"
    office_leader_approve = "office_leader_approve"
    principal_approve = "principal_approve"
    return_reply = "return_reply"
    mark_sensitive = "mark_sensitive"
    propose_referral = "propose_referral"
    decide_referral = "decide_referral"
    record_transfer = "record_transfer"
    publish = "publish"
    archive = "archive"


class Party(StrEnum):
    """How the caller stands to this letter."""

    office = "office"  # the commission's office and its leaders
    lead = "lead"  # a user of the lead unit (牵头单位)
    assisting = "assisting"  # a user of an assisting unit (配合单位)
    other = "other"  # admin, service accounts, anyone else


class Branch(StrEnum):
    """A target that depends on the letter's data, resolved by `transition`."""

    stay = "stay"
    slip_decision = "slip_decision"  # approve_slip → one of DECISION_STATES
    leader_decision = "leader_decision"  # a major matter goes on to the principal leader


Target = State | Branch

DECISION_STATES = frozenset({State.not_accepted, State.forwarded, State.escalated, State.assigned})
OFFICE = frozenset({Role.office_clerk, Role.office_head, Role.office_leader, Role.principal_leader})
UNIT_WORKERS = frozenset({Role.unit_handler, Role.unit_head})
UNIT_ALL = frozenset({Role.unit_handler, Role.unit_head, Role.unit_leader})
SYSTEM = frozenset({Role.service})


@dataclass(frozen=True)
class Rule:
    """Who may take an action by default: roles, and the party they must be."""

    roles: frozenset[Role]
    party: Party | None = None


RULES: dict[Action, Rule] = {
    Action.draft_slip: Rule(frozenset({Role.office_clerk})),
    Action.submit_slip: Rule(frozenset({Role.office_clerk})),
    Action.approve_slip: Rule(frozenset({Role.office_head})),
    Action.send_back_slip: Rule(frozenset({Role.office_head})),
    Action.name_handler: Rule(frozenset({Role.unit_head, Role.unit_leader}), Party.lead),
    Action.record_contact: Rule(UNIT_WORKERS, Party.lead),
    Action.mark_contact_invalid: Rule(UNIT_WORKERS, Party.lead),
    Action.request_assist: Rule(UNIT_WORKERS, Party.lead),
    Action.answer_assist: Rule(UNIT_ALL, Party.assisting),
    Action.draft_reply: Rule(UNIT_WORKERS, Party.lead),
    Action.send_reply_for_review: Rule(UNIT_WORKERS, Party.lead),
    Action.unit_head_approve: Rule(frozenset({Role.unit_head}), Party.lead),
    Action.unit_head_send_back: Rule(frozenset({Role.unit_head}), Party.lead),
    Action.unit_leader_approve: Rule(frozenset({Role.unit_leader}), Party.lead),
    Action.unit_leader_send_back: Rule(frozenset({Role.unit_leader}), Party.lead),
    Action.submit_reply: Rule(UNIT_ALL, Party.lead),
    Action.request_extension: Rule(UNIT_ALL, Party.lead),
    Action.decide_extension: Rule(frozenset({Role.office_head})),
    Action.recheck_approve: Rule(frozenset({Role.office_clerk})),
    Action.office_head_approve: Rule(frozenset({Role.office_head})),
    Action.office_leader_approve: Rule(frozenset({Role.office_leader})),
    Action.principal_approve: Rule(frozenset({Role.principal_leader})),
    Action.return_reply: Rule(OFFICE),
    Action.mark_sensitive: Rule(OFFICE),
    Action.propose_referral: Rule(frozenset({Role.office_clerk, Role.office_head})),
    Action.decide_referral: Rule(frozenset({Role.office_leader})),
    Action.record_transfer: Rule(frozenset({Role.office_clerk, Role.office_head})),
    Action.publish: Rule(SYSTEM),
    Action.archive: Rule(SYSTEM),
}


@dataclass(frozen=True)
class Step:
    """An action allowed in a state: where it leads and, where narrower, who takes it."""

    target: Target
    roles: frozenset[Role] | None = None  # None: the action's default roles


_STAY = Step(Branch.stay)
# Art. 23 may be found at any time until the answer is out; Art. 22 marks come before approval.
_REFERRAL = {Action.propose_referral: _STAY, Action.decide_referral: _STAY}
_OFFICE_MARKS = {Action.mark_sensitive: _STAY, **_REFERRAL}
# The lead unit's own work while it handles the letter.
_HANDLING = {
    Action.name_handler: _STAY,
    Action.record_contact: _STAY,
    Action.mark_contact_invalid: _STAY,
    Action.request_assist: _STAY,
    Action.answer_assist: _STAY,
    Action.draft_reply: _STAY,
    Action.send_reply_for_review: Step(State.unit_head_review),
    Action.request_extension: _STAY,
    Action.decide_extension: _STAY,
    **_OFFICE_MARKS,
}
# While the reply is with the unit's approvers the clock still runs and input still comes.
_UNIT_REVIEWING = {
    Action.answer_assist: _STAY,
    Action.request_extension: _STAY,
    Action.decide_extension: _STAY,
    **_OFFICE_MARKS,
}


# 转阅/呈办: the office sends the letter's content on (Art. 13) and records that it did.
_PASSED_ON = {
    **_REFERRAL,
    Action.record_transfer: _STAY,
    Action.publish: _STAY,
    Action.archive: Step(State.archived),
}


def _review(reviewer: Role, approve: Action, target: Target) -> dict[Action, Step]:
    """An office review step: its reviewer approves or returns the reply (Art. 26)."""
    return {
        approve: Step(target),
        Action.return_reply: Step(State.returned, roles=frozenset({reviewer})),
        Action.decide_extension: _STAY,
        **_OFFICE_MARKS,
    }


TRANSITIONS: dict[State, dict[Action, Step]] = {
    State.registered: {Action.draft_slip: Step(State.slip_drafted), **_OFFICE_MARKS},
    State.slip_drafted: {
        Action.draft_slip: _STAY,
        Action.submit_slip: Step(State.slip_submitted),
        **_OFFICE_MARKS,
    },
    State.slip_submitted: {
        Action.approve_slip: Step(Branch.slip_decision),
        Action.send_back_slip: Step(State.slip_sent_back),
        **_OFFICE_MARKS,
    },
    State.slip_sent_back: {
        Action.draft_slip: Step(State.slip_drafted),
        Action.submit_slip: Step(State.slip_submitted),
        **_OFFICE_MARKS,
    },
    State.not_accepted: {**_REFERRAL, Action.publish: _STAY, Action.archive: Step(State.archived)},
    State.forwarded: _PASSED_ON,
    State.escalated: _PASSED_ON,
    State.assigned: {
        Action.name_handler: Step(State.in_handling),
        Action.answer_assist: _STAY,
        Action.request_extension: _STAY,
        Action.decide_extension: _STAY,
        **_OFFICE_MARKS,
    },
    State.in_handling: _HANDLING,
    State.returned: _HANDLING,
    State.unit_head_review: {
        Action.unit_head_approve: Step(State.unit_leader_review),
        Action.unit_head_send_back: Step(State.in_handling),
        **_UNIT_REVIEWING,
    },
    State.unit_leader_review: {
        Action.unit_leader_approve: Step(State.unit_approved),
        Action.unit_leader_send_back: Step(State.in_handling),
        **_UNIT_REVIEWING,
    },
    State.unit_approved: {Action.submit_reply: Step(State.office_recheck), **_UNIT_REVIEWING},
    State.office_recheck: _review(
        Role.office_clerk, Action.recheck_approve, State.office_head_review
    ),
    State.office_head_review: _review(
        Role.office_head, Action.office_head_approve, State.office_leader_review
    ),
    State.office_leader_review: _review(
        Role.office_leader, Action.office_leader_approve, Branch.leader_decision
    ),
    State.principal_review: _review(
        Role.principal_leader, Action.principal_approve, State.approved
    ),
    State.approved: {**_REFERRAL, Action.publish: Step(State.published)},
    State.published: {Action.publish: _STAY, Action.archive: Step(State.archived)},
    State.archived: {},
}

# Actions of the unit while the handling clock runs: an extension may be asked for then.
HANDLING_STATES = frozenset(
    {
        State.assigned,
        State.in_handling,
        State.returned,
        State.unit_head_review,
        State.unit_leader_review,
        State.unit_approved,
    }
)
OFFICE_REVIEW_STATES = frozenset(
    {
        State.office_recheck,
        State.office_head_review,
        State.office_leader_review,
        State.principal_review,
    }
)


def _roles(step: Step, action: Action) -> frozenset[Role]:
    return step.roles if step.roles is not None else RULES[action].roles


def _roles_ever(action: Action) -> frozenset[Role]:
    roles: set[Role] = set(RULES[action].roles)
    for steps in TRANSITIONS.values():
        step = steps.get(action)
        if step is not None and step.roles is not None:
            roles |= step.roles
    return frozenset(roles)


def allowed_actions(
    state: State, *, role: Role | None = None, party: Party | None = None
) -> list[Action]:
    """Actions the state allows; only those `role` (as `party`) may take when given."""
    found = []
    for action, step in TRANSITIONS[state].items():
        if role is not None and role not in _roles(step, action):
            continue
        needed = RULES[action].party
        if role is not None and needed is not None and party is not needed:
            continue
        found.append(action)
    return sorted(found)


def authorize(action: Action, *, role: Role, party: Party) -> None:
    """403 unless `role`, standing as `party`, may ever take `action`."""
    rule = RULES[action]
    if role not in _roles_ever(action):
        raise Forbidden(
            f"role {role} may not {action}",
            details={"action": action.value, "allowed_roles": sorted(_roles_ever(action))},
        )
    if rule.party is not None and party is not rule.party:
        raise Forbidden(
            f"only the {rule.party} unit may {action}",
            details={"action": action.value, "required_party": rule.party.value},
        )


def transition(
    state: State,
    action: Action,
    *,
    role: Role,
    party: Party,
    slip_outcome: State | None = None,
    major: bool = False,
) -> State:
    """The state after `action`, or Forbidden (403) / InvalidTransition (409)."""
    step = check(state, action, role=role, party=party)
    return resolve(state, step.target, slip_outcome=slip_outcome, major=major)


def check(state: State, action: Action, *, role: Role, party: Party) -> Step:
    """The step `action` takes from `state`, or Forbidden (403) / InvalidTransition (409)."""
    authorize(action, role=role, party=party)
    step = TRANSITIONS[state].get(action)
    if step is None:
        raise InvalidTransition(
            action=action.value, state=state.value, allowed=[a.value for a in allowed(state)]
        )
    roles = _roles(step, action)
    if role not in roles:
        raise Forbidden(
            f"while the letter is '{state}', only {', '.join(sorted(roles))} may {action}",
            details={"action": action.value, "state": state.value, "allowed_roles": sorted(roles)},
        )
    return step


def resolve(
    state: State, target: Target, *, slip_outcome: State | None = None, major: bool = False
) -> State:
    """The concrete state a step's target names for this letter."""
    if target is Branch.stay:
        return state
    if target is Branch.slip_decision:
        if slip_outcome not in DECISION_STATES:
            raise ValueError(f"approving a slip needs a decision state, got {slip_outcome}")
        assert slip_outcome is not None
        return slip_outcome
    if target is Branch.leader_decision:
        return State.principal_review if major else State.approved
    assert isinstance(target, State)
    return target


def system_transition(state: State, action: Action) -> State | None:
    """The state after a system action (publish, archive), or None where it does not apply.

    Consumers apply facts that already happened elsewhere: they record them whatever the
    state, and move the state only where the table allows it.
    """
    step = TRANSITIONS[state].get(action)
    if step is None:
        return None
    return resolve(state, step.target)


def allowed(state: State) -> list[Action]:
    """Every action the state allows, for anybody."""
    return sorted(TRANSITIONS[state])


def table() -> Mapping[str, Mapping[str, dict[str, object]]]:
    """The whole machine as data (served to clients so they can render buttons)."""
    return {
        state.value: {
            action.value: {
                "target": step.target.value,
                "roles": sorted(_roles(step, action)),
                "party": _party_value(action),
            }
            for action, step in sorted(steps.items())
        }
        for state, steps in TRANSITIONS.items()
    }


def _party_value(action: Action) -> str | None:
    party = RULES[action].party
    return None if party is None else party.value


def states_reachable(start: State = State.registered) -> set[State]:
    """States reachable from `start` through the table (a check the table is connected)."""
    seen = {start}
    frontier: list[State] = [start]
    while frontier:
        state = frontier.pop()
        for step in TRANSITIONS[state].values():
            for target in _targets(state, step.target):
                if target not in seen:
                    seen.add(target)
                    frontier.append(target)
    return seen


def _targets(state: State, target: Target) -> Iterable[State]:
    if target is Branch.stay:
        return (state,)
    if target is Branch.slip_decision:
        return DECISION_STATES
    if target is Branch.leader_decision:
        return (State.principal_review, State.approved)
    assert isinstance(target, State)
    return (target,)
