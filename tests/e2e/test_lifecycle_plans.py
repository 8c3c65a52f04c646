"""The demo's letters and plans, without servers: which letter each path gets, the
fallback to generated letters, and the slip the clerk writes for each plan."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from devkit.actors.script import DEFAULT_LEAD, Plan, slip_for
from devkit.demo.scenarios import (
    DEV_LETTERS,
    ORDINARY,
    PLATFORMS,
    SCENARIOS,
    WRITTEN,
    build_cases,
    load_dev_letters,
    simulator_payloads,
)
from shared.events.vocabulary import NotAcceptedReason, Route

pytestmark = pytest.mark.unit  # needs no server


def suggested(route: str, *, target: str, accepted: bool = True) -> dict[str, Any]:
    """A letter as routing shows it, with a classifier suggestion."""
    competence: dict[str, Any] = {"route": route}
    competence["lead_unit_id" if route == "direct" else "recipient_id"] = target
    return {
        "suggestion": {
            "nature": {"value": "complaint"},
            "scope": {"accepted": accepted, "reason": None if accepted else "advertising"},
            "competence": competence,
        }
    }


def test_every_scenario_gets_a_letter_with_unique_ids_on_all_platforms() -> None:
    cases = build_cases(extra=5)
    assert [c.plan for c in cases[: len(SCENARIOS)]] == [p for p, _ in SCENARIOS]
    assert all(c.plan is ORDINARY for c in cases[len(SCENARIOS) :])
    keys = [(c.letter.platform, c.letter.external_id) for c in cases]
    assert len(set(keys)) == len(keys)
    assert {c.letter.platform for c in cases} == set(PLATFORMS)
    times = [c.letter.submitted_at for c in cases]
    assert times == sorted(times)
    payloads = simulator_payloads(cases)
    assert sum(len(v) for v in payloads.values()) == len(cases)


def test_development_letters_are_chosen_by_their_labels() -> None:
    rows = {r["id"]: r for r in load_dev_letters()}
    if not rows:
        assert not DEV_LETTERS.is_file()
        return
    cases = {c.plan.name: c for c in build_cases()}
    advertising = rows[cases["not-accepted-advertising"].letter.external_id]["labels"]
    assert advertising["not_accepted_reason"] == "advertising"
    forward = rows[cases["forward"].letter.external_id]["labels"]
    assert (forward["accepted"], forward["route"]) == (True, "forward")
    written = {c.letter.source for c in cases.values() if c.letter.external_id.startswith("demo-")}
    assert written == {"written"}
    assert len([c for c in cases.values() if c.letter.source == "written"]) == len(WRITTEN)


def test_without_the_development_letters_generated_ones_stand_in(tmp_path: Path) -> None:
    cases = build_cases(extra=3, dev_path=tmp_path / "absent.jsonl")
    sources = {c.letter.source for c in cases}
    assert sources == {"generated", "written"}
    for case in cases:
        assert case.letter.title
        assert case.letter.text
        if case.letter.source == "generated":
            assert case.letter.person.get("name")
    assert len({c.letter.external_id for c in cases}) == len(cases)


def test_the_plan_decides_over_the_suggestion() -> None:
    plan = Plan(
        "not-accepted",
        "refused",
        accepted=False,
        not_accepted_reason=NotAcceptedReason.malicious,
        route=None,
    )
    slip = slip_for(plan, letter=suggested("direct", target="market-order"))
    assert slip["accepted"] is False
    assert slip["not_accepted_reason"] == "malicious"
    assert "lead_unit_id" not in slip


def test_open_choices_follow_the_suggestion_where_the_route_matches() -> None:
    direct = Plan("direct", "direct", assisting_unit_ids=("consumption", "port"))
    slip = slip_for(direct, letter=suggested("direct", target="port"))
    assert (slip["route"], slip["lead_unit_id"]) == ("direct", "port")
    assert slip["assisting_unit_ids"] == ["consumption"]
    # The suggestion forwards, the plan handles directly: the fallback lead unit.
    slip = slip_for(direct, letter=suggested("forward", target="housing"))
    assert slip["lead_unit_id"] == DEFAULT_LEAD
    forward = Plan("forward", "forward", route=Route.forward)
    slip = slip_for(forward, letter=suggested("forward", target="housing"))
    assert (slip["route"], slip["recipient_id"]) == ("forward", "housing")
    escalate = Plan("escalate", "up", route=Route.escalate)
    slip = slip_for(escalate, letter=suggested("direct", target="x"))
    assert slip["route"] == "escalate"
    assert "recipient_id" not in slip


def test_an_ordinary_letter_takes_the_whole_suggestion() -> None:
    refused = slip_for(ORDINARY, letter=suggested("direct", target="port", accepted=False))
    assert (refused["accepted"], refused["not_accepted_reason"]) == (False, "advertising")
    taken = slip_for(ORDINARY, letter=suggested("forward", target="district-yubei"))
    assert (taken["route"], taken["recipient_id"]) == ("forward", "district-yubei")
