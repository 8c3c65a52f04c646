"""The workflow table: every path of the regulation, and what it refuses."""

from __future__ import annotations

import pytest

from services.routing.letters.workflow import (
    DECISION_STATES,
    RULES,
    TRANSITIONS,
    Action,
    Party,
    State,
    allowed,
    allowed_actions,
    states_reachable,
    system_transition,
    table,
    transition,
)
from shared.auth import Role
from shared.errors import Forbidden, InvalidTransition

pytestmark = pytest.mark.unit  # needs no server

OFF = Party.office
L = Party.lead


def _walk(steps: list[tuple[Action, Role, Party]], *, start: State, **kw: object) -> State:
    state = start
    for action, role, party in steps:
        state = transition(state, action, role=role, party=party, **kw)  # type: ignore[arg-type]
    return state


def test_every_state_is_reachable_and_every_action_is_used() -> None:
    assert states_reachable() == set(State)
    used = {action for steps in TRANSITIONS.values() for action in steps}
    assert used == set(Action)
    assert set(RULES) == set(Action)


def test_the_direct_path_from_slip_to_archive() -> None:
    state = _walk(
        [
            (Action.draft_slip, Role.office_clerk, OFF),
            (Action.draft_slip, Role.office_clerk, OFF),
            (Action.submit_slip, Role.office_clerk, OFF),
        ],
        start=State.registered,
    )
    assert state is State.slip_submitted
    state = transition(
        state,
        Action.approve_slip,
        role=Role.office_head,
        party=OFF,
        slip_outcome=State.assigned,
    )
    assert state is State.assigned
    state = _walk(
        [
            (Action.name_handler, Role.unit_head, L),
            (Action.record_contact, Role.unit_handler, L),
            (Action.request_assist, Role.unit_handler, L),
            (Action.draft_reply, Role.unit_handler, L),
            (Action.send_reply_for_review, Role.unit_handler, L),
            (Action.unit_head_approve, Role.unit_head, L),
            (Action.unit_leader_approve, Role.unit_leader, L),
            (Action.submit_reply, Role.unit_handler, L),
            (Action.recheck_approve, Role.office_clerk, OFF),
            (Action.office_head_approve, Role.office_head, OFF),
            (Action.office_leader_approve, Role.office_leader, OFF),
        ],
        start=state,
    )
    assert state is State.approved
    assert system_transition(state, Action.publish) is State.published
    assert system_transition(State.published, Action.archive) is State.archived


def test_a_major_matter_goes_to_the_principal_leader() -> None:
    state = transition(
        State.office_leader_review,
        Action.office_leader_approve,
        role=Role.office_leader,
        party=OFF,
        major=True,
    )
    assert state is State.principal_review
    assert (
        transition(state, Action.principal_approve, role=Role.principal_leader, party=OFF)
        is State.approved
    )


@pytest.mark.parametrize("outcome", sorted(DECISION_STATES))
def test_slip_approval_leads_to_the_decision(outcome: State) -> None:
    got = transition(
        State.slip_submitted,
        Action.approve_slip,
        role=Role.office_head,
        party=OFF,
        slip_outcome=outcome,
    )
    assert got is outcome


def test_slip_sent_back_is_redrafted() -> None:
    state = transition(
        State.slip_submitted, Action.send_back_slip, role=Role.office_head, party=OFF
    )
    assert state is State.slip_sent_back
    assert (
        transition(state, Action.draft_slip, role=Role.office_clerk, party=OFF)
        is State.slip_drafted
    )


@pytest.mark.parametrize(
    ("state", "reviewer"),
    [
        (State.office_recheck, Role.office_clerk),
        (State.office_head_review, Role.office_head),
        (State.office_leader_review, Role.office_leader),
        (State.principal_review, Role.principal_leader),
    ],
)
def test_each_reviewer_returns_at_their_step_only(state: State, reviewer: Role) -> None:
    assert transition(state, Action.return_reply, role=reviewer, party=OFF) is State.returned
    others = {Role.office_clerk, Role.office_head, Role.office_leader, Role.principal_leader}
    for other in others - {reviewer}:
        with pytest.raises(Forbidden):
            transition(state, Action.return_reply, role=other, party=OFF)


def test_a_returned_reply_goes_through_the_unit_again() -> None:
    state = transition(
        State.returned, Action.send_reply_for_review, role=Role.unit_handler, party=L
    )
    assert state is State.unit_head_review
    state = transition(state, Action.unit_head_send_back, role=Role.unit_head, party=L)
    assert state is State.in_handling


def test_an_illegal_transition_names_the_state_and_the_allowed_actions() -> None:
    with pytest.raises(InvalidTransition) as info:
        transition(State.registered, Action.approve_slip, role=Role.office_head, party=OFF)
    details = info.value.details
    assert details["state"] == "registered"
    assert details["action"] == "approve_slip"
    assert details["allowed_actions"] == sorted(a.value for a in allowed(State.registered))
    assert "draft_slip" in details["allowed_actions"]


def test_roles_beyond_their_actions_are_forbidden_before_the_state_is_looked_at() -> None:
    with pytest.raises(Forbidden):
        transition(State.slip_submitted, Action.approve_slip, role=Role.office_clerk, party=OFF)
    with pytest.raises(Forbidden):
        # Not allowed in this state either, but the role never may: 403, not 409.
        transition(State.registered, Action.approve_slip, role=Role.unit_head, party=L)
    with pytest.raises(Forbidden):
        transition(State.assigned, Action.name_handler, role=Role.unit_handler, party=L)


def test_an_assisting_unit_cannot_take_the_lead_units_actions() -> None:
    with pytest.raises(Forbidden) as info:
        transition(
            State.in_handling, Action.draft_reply, role=Role.unit_handler, party=Party.assisting
        )
    assert info.value.details["required_party"] == "lead"
    assert (
        transition(
            State.in_handling, Action.answer_assist, role=Role.unit_handler, party=Party.assisting
        )
        is State.in_handling
    )
    with pytest.raises(Forbidden):
        transition(State.in_handling, Action.answer_assist, role=Role.unit_handler, party=L)


def test_terminal_decisions_allow_only_referral_transfer_publication_and_archive() -> None:
    ending = {Action.propose_referral, Action.decide_referral, Action.publish, Action.archive}
    assert set(allowed(State.not_accepted)) == ending
    for state in (State.forwarded, State.escalated):
        # 转阅/呈办: the office still records sending the letter's content on (Art. 13).
        assert set(allowed(state)) == ending | {Action.record_transfer}
    for state in (State.not_accepted, State.forwarded, State.escalated):
        assert system_transition(state, Action.publish) is state
        assert system_transition(state, Action.archive) is State.archived
    assert allowed(State.archived) == []
    assert system_transition(State.in_handling, Action.publish) is None


def test_sensitivity_is_marked_only_before_approval() -> None:
    assert Action.mark_sensitive in allowed(State.principal_review)
    assert Action.mark_sensitive not in allowed(State.approved)
    assert Action.decide_referral in allowed(State.approved)
    assert Action.decide_referral not in allowed(State.published)


def test_allowed_actions_for_a_caller() -> None:
    assert allowed_actions(State.in_handling, role=Role.unit_head, party=L) == sorted(
        [
            Action.name_handler,
            Action.record_contact,
            Action.mark_contact_invalid,
            Action.request_assist,
            Action.draft_reply,
            Action.send_reply_for_review,
            Action.request_extension,
        ]
    )
    assert allowed_actions(State.in_handling, role=Role.unit_head, party=Party.assisting) == [
        Action.answer_assist
    ]
    assert allowed_actions(State.office_head_review, role=Role.office_clerk, party=OFF) == sorted(
        [Action.mark_sensitive, Action.propose_referral]
    )


def test_the_table_as_data_names_targets_and_roles() -> None:
    data = table()
    step = data["office_leader_review"]["office_leader_approve"]
    assert step["target"] == "leader_decision"
    assert step["roles"] == ["office_leader"]
    assert data["in_handling"]["draft_reply"]["party"] == "lead"
    assert data["office_recheck"]["return_reply"]["roles"] == ["office_clerk"]
