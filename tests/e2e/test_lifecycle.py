"""Every path of the regulation, end to end: final state, events and the audit trail.

The letters were driven by the scripted office and units through the public APIs of the
four services running as separate processes (see conftest); here each plan's letter is
checked against what routing shows, what the exchange carried and who did what.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from devkit.actors.script import Case, Plan
from devkit.demo.scenarios import SCENARIOS
from shared.events.vocabulary import PublicationMode, Route
from tests.e2e.conftest import Lifecycle

pytestmark = pytest.mark.timeout(900)

PLANS = [plan.name for plan, _ in SCENARIOS]
DECISIONS = ("letter.accepted", "letter.not_accepted", "letter.forwarded", "letter.escalated")


def decision_event(plan: Plan) -> str:
    """The one decision event the slip's approval emits."""
    if not plan.accepted:
        return "letter.not_accepted"
    return {
        Route.direct: "letter.accepted",
        Route.forward: "letter.forwarded",
        Route.escalate: "letter.escalated",
    }[plan.route or Route.direct]


def expected_events(plan: Plan) -> Counter[str]:
    """How many events of each type the letter's life publishes."""
    counts: Counter[str] = Counter({"letter.received": 1, "letter.classified": 1})
    counts[decision_event(plan)] = 1
    if plan.route is Route.direct and plan.accepted:
        rounds = 0 if plan.overdue else 1 + len(plan.returns)
        counts["reply.submitted"] = rounds
        counts["reply.returned"] = len(plan.returns)
        counts["reply.approved"] = 0 if plan.overdue else 1
        counts["extension.requested"] = 1 if plan.extension else 0
        counts["extension.approved"] = 1 if plan.extension == "approved" else 0
        counts["extension.refused"] = 1 if plan.extension == "refused" else 0
        counts["letter.sensitivity_marked"] = 1 if plan.sensitivity else 0
        counts["reminder.issued"] = 1 if plan.overdue else 0
        counts["reminder.answered"] = 1 if plan.overdue == "answered" else 0
        counts["assessment.recorded"] = 1 if plan.overdue == "unanswered" else 0
    counts["letter.locked"] = 1 if plan.referral else 0
    done = not plan.overdue
    counts["letter.published"] = 1 if done else 0
    counts["letter.archived"] = 1 if done else 0
    return counts


def expected_mode(plan: Plan) -> PublicationMode:
    """The publication mode the office approves."""
    if plan.sensitivity or plan.referral:
        return PublicationMode.not_public
    return plan.mode


def expected_actions(plan: Plan, *, letter: dict[str, Any]) -> list[tuple[str, str]]:
    """(action, role) of every person's step, in order, as the audit trail must show them."""
    steps: list[tuple[str, str]] = []
    if plan.referral:
        steps += [("propose_referral", "office_clerk"), ("decide_referral", "office_leader")]
    steps.append(("draft_slip", "office_clerk"))
    if plan.slip_sent_back:
        steps += [
            ("submit_slip", "office_clerk"),
            ("send_back_slip", "office_head"),
            ("draft_slip", "office_clerk"),
        ]
    steps += [("submit_slip", "office_clerk"), ("approve_slip", "office_head")]
    if plan.accepted and plan.route in (Route.forward, Route.escalate):
        # Art. 13: the clerk sends the content on and records it.
        return [*steps, ("record_transfer", "office_clerk")]
    if not (plan.accepted and plan.route is Route.direct):
        return steps
    steps.append(("name_handler", "unit_head"))
    if plan.extension:
        steps += [("request_extension", "unit_head"), ("decide_extension", "office_head")]
    steps.append(
        ("mark_contact_invalid", "unit_handler")
        if plan.contact_invalid
        else ("record_contact", "unit_handler")
    )
    for _ in letter.get("assisting_unit_ids") or []:
        steps += [("request_assist", "unit_handler"), ("answer_assist", "unit_handler")]
    if plan.overdue:
        return steps
    for round_no in range(1 + len(plan.returns)):
        steps += [
            ("draft_reply", "unit_handler"),
            ("send_reply_for_review", "unit_handler"),
            ("unit_head_approve", "unit_head"),
            ("unit_leader_approve", "unit_leader"),
            ("submit_reply", "unit_handler"),
        ]
        if plan.sensitivity and round_no == 0:
            steps.append(("mark_sensitive", "office_clerk"))
        if round_no < len(plan.returns):
            steps.append(("return_reply", "office_clerk"))
    steps += [
        ("recheck_approve", "office_clerk"),
        ("office_head_approve", "office_head"),
        ("office_leader_approve", "office_leader"),
    ]
    if plan.major:
        steps.append(("principal_approve", "principal_leader"))
    return steps


def played(lifecycle: Lifecycle, *, plan_name: str) -> tuple[Case, str]:
    """The plan's case and its letter id; the case must have run without an actor error."""
    case = lifecycle.case(plan_name)
    assert case.error is None, case.error
    assert case.letter_id is not None
    return case, case.letter_id


@pytest.mark.parametrize("plan_name", PLANS)
async def test_letter_reaches_its_final_state(lifecycle: Lifecycle, plan_name: str) -> None:
    case, letter_id = played(lifecycle, plan_name=plan_name)
    letter = await lifecycle.api().routing.get(f"/letters/{letter_id}")
    assert letter["state"] == case.plan.final_state
    assert letter["platform"] == case.letter.platform
    assert letter["external_id"] == case.letter.external_id
    assert letter["title"] == case.letter.title
    assert letter["text"] == case.letter.text
    assert letter["locked"] is bool(case.plan.referral)
    assert letter["not_public"] is bool(case.plan.sensitivity)
    assert letter["major"] is case.plan.major
    if case.plan.accepted and case.plan.route is Route.direct:
        assert letter["lead_unit_id"] == letter["slip"]["lead_unit_id"]
        if not case.plan.overdue:
            assert letter["reply"]["mode"] == expected_mode(case.plan).value
            assert len(letter["reply_history"]) == len(case.plan.returns)
            assert [r["reason"] for r in letter["returns"]] == [r.value for r in case.plan.returns]
    if case.plan.final_state == "archived":
        assert letter["archive"]["sha256"]
        assert len(letter["publications"]) == 1


@pytest.mark.parametrize("plan_name", PLANS)
async def test_letter_events(lifecycle: Lifecycle, plan_name: str) -> None:
    case, letter_id = played(lifecycle, plan_name=plan_name)
    expected = expected_events(case.plan)
    probe = lifecycle.probe
    last = "letter.archived" if expected["letter.archived"] else "letter.received"
    await probe.wait_for(last, letter_id=letter_id, timeout_s=30)
    seen = Counter(e.type for e in probe.events if e.letter_id == letter_id)
    for event_type, count in expected.items():
        assert seen[event_type] == count, f"{event_type}: {seen[event_type]} ≠ {count}"
    assert sum(seen[t] for t in DECISIONS) == 1
    received = probe.of_type("letter.received", letter_id=letter_id)[0]
    assert received.data["external_id"] == case.letter.external_id
    assert received.data["platform"] == case.letter.platform
    approved = probe.of_type("reply.approved", letter_id=letter_id)
    if approved:
        assert approved[0].data["publication_mode"] == expected_mode(case.plan).value
        assert approved[0].data["locked"] is bool(case.plan.referral)
        assert approved[0].data["revision"] == 1 + len(case.plan.returns)


async def test_accepted_letter_names_its_units(lifecycle: Lifecycle) -> None:
    case, letter_id = played(lifecycle, plan_name="direct-online")
    accepted = lifecycle.probe.of_type("letter.accepted", letter_id=letter_id)
    assert accepted[0].data["lead_unit_id"] == case.plan.lead_unit_id
    assert accepted[0].data["assisting_unit_ids"] == list(case.plan.assisting_unit_ids)


async def test_events_of_a_letter_come_in_lifecycle_order(lifecycle: Lifecycle) -> None:
    _, letter_id = played(lifecycle, plan_name="returned-resubmitted")
    await lifecycle.probe.wait_for("letter.archived", letter_id=letter_id, timeout_s=30)
    order = [e.type for e in lifecycle.probe.events if e.letter_id == letter_id]
    milestones = [
        "letter.received",
        "letter.accepted",
        "reply.submitted",
        "reply.returned",
        "reply.approved",
        "letter.published",
        "letter.archived",
    ]
    positions = [order.index(m) for m in milestones]
    assert positions == sorted(positions)
    assert order.index("reply.returned") < len(order) - 1 - order[::-1].index("reply.submitted")


@pytest.mark.parametrize("plan_name", PLANS)
async def test_audit_trail_names_every_step_and_who_took_it(
    lifecycle: Lifecycle, plan_name: str
) -> None:
    case, letter_id = played(lifecycle, plan_name=plan_name)
    dossier = await lifecycle.api().routing.get(f"/letters/{letter_id}/dossier")
    people = [e for e in dossier["audit"] if e["actor"]["role"] != "system"]
    taken = [(e["action"], e["actor"]["role"]) for e in people]
    assert taken == expected_actions(case.plan, letter=dossier["letter"])
    cast = lifecycle.outcome.cast.people
    for entry in people:
        person = cast[entry["actor"]["user_id"]]
        assert entry["actor"]["unit_id"] == person.unit_id
        assert entry["letter_id"] == letter_id
    system = {e["action"] for e in dossier["audit"] if e["actor"]["role"] == "system"}
    assert "letter.registered" in system
    if case.plan.final_state == "archived":
        assert {"letter.published", "letter.archived"} <= system
