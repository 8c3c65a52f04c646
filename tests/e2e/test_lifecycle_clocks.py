"""The statutory clocks of every path as the deadlines service keeps them, its reminders,
deductions and the monthly report, after the letters were driven end to end."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from devkit.actors.script import Case
from devkit.demo.scenarios import SCENARIOS
from shared.events.vocabulary import Route
from tests.e2e.conftest import Lifecycle
from tests.e2e.test_lifecycle import PLANS, played

pytestmark = pytest.mark.timeout(900)

Clock = dict[str, Any]


async def clocks_of(lifecycle: Lifecycle, *, letter_id: str) -> dict[str, list[Clock]]:
    """The letter's clocks by kind, oldest first."""
    page = await lifecycle.api().deadlines.get(f"/letters/{letter_id}/clocks")
    found: dict[str, list[Clock]] = {}
    for clock in sorted(page["items"], key=lambda c: c["start"]):
        found.setdefault(clock["kind"], []).append(clock)
    return found


def handled_directly(case: Case) -> bool:
    """Accepted and handed to a unit of the commission (the handling clock runs)."""
    return case.plan.accepted and case.plan.route is Route.direct


@pytest.mark.parametrize("plan_name", PLANS)
async def test_clocks_of_each_path(lifecycle: Lifecycle, plan_name: str) -> None:
    case, letter_id = played(lifecycle, plan_name=plan_name)
    clocks = await clocks_of(lifecycle, letter_id=letter_id)
    assert [c["state"] for c in clocks["acceptance"]] == ["met"]
    assert clocks["acceptance"][0]["working_days"] == 1
    if not handled_directly(case):
        assert set(clocks) == {"acceptance"}
        return
    (handling,) = clocks["handling"]
    assert case.final is not None
    assert handling["unit_id"] == case.final["lead_unit_id"]
    base = 3 if case.final["nature"] == "consultation" else 10
    extra = case.plan.extension_days if case.plan.extension == "approved" else 0
    assert handling["working_days"] == base + extra
    if case.plan.overdue:
        assert handling["state"] == "overdue"
        assert "upload" not in clocks
        return
    assert handling["state"] == "met"
    uploads = clocks["upload"]
    # A returned reply's upload clock stops; the resubmission opens the one that is met.
    assert [c["state"] for c in uploads] == ["stopped"] * len(case.plan.returns) + ["met"]


async def test_approved_extension_moves_the_due_and_a_refused_one_does_not(
    lifecycle: Lifecycle,
) -> None:
    moved: dict[str, tuple[datetime, datetime]] = {}
    for name in ("extension-approved", "extension-refused"):
        _, letter_id = played(lifecycle, plan_name=name)
        clock = await lifecycle.api().deadlines.get(
            f"/clocks/{(await clocks_of(lifecycle, letter_id=letter_id))['handling'][0]['id']}"
        )
        dues = [datetime.fromisoformat(h["due"]) for h in clock["history"]]
        moved[name] = (dues[0], datetime.fromisoformat(clock["due"]))
    opened, now_due = moved["extension-approved"]
    assert now_due > opened
    opened, now_due = moved["extension-refused"]
    assert now_due == opened


async def test_overdue_letters_get_a_reminder_and_the_unanswered_one_a_deduction(
    lifecycle: Lifecycle,
) -> None:
    api = lifecycle.api()
    for name, answered in (("overdue-answered", True), ("overdue-unanswered", False)):
        case, letter_id = played(lifecycle, plan_name=name)
        clocks = await clocks_of(lifecycle, letter_id=letter_id)
        (handling,) = clocks["handling"]
        (reminder_id,) = handling["reminders"]
        reminder = await api.deadlines.get(f"/reminders/{reminder_id}")
        assert case.final is not None
        lead = case.final["lead_unit_id"]
        assert reminder["letter_id"] == letter_id
        assert reminder["unit_id"] == lead
        assert reminder["answered"] is answered
        (answer_clock,) = clocks["reminder_answer"]
        assert answer_clock["state"] == ("met" if answered else "overdue")
        year = datetime.fromisoformat(reminder["answer_due"]).year
        items = await api.deadlines.get("/assessment", unit=lead, year=year, limit=200)
        mine = [i for i in items["items"] if i["letter_id"] == letter_id]
        if answered:
            assert reminder["answer"]["in_time"] is True
            assert mine == []
        else:
            assert [(i["kind"], i["reminder_id"]) for i in mine] == [
                ("reminder_unanswered", reminder_id)
            ]
            assert mine[0]["points"] > 0
        letter = await api.routing.get(f"/letters/{letter_id}")
        assert [r["reminder_id"] for r in letter["reminders"]] == [reminder_id]
        assert len(letter["assessments"]) == (0 if answered else 1)


async def test_monthly_reports_count_every_letter_and_decision(lifecycle: Lifecycle) -> None:
    reports = lifecycle.outcome.reports
    assert reports, "no monthly report was read"
    assert all("error" not in r for r in reports.values()), reports
    received = next(iter(reports.values()))
    letters = received["letters"]
    assert letters["total"] == len(SCENARIOS)
    refused = [p for p, _ in SCENARIOS if not p.accepted]
    assert letters["by_scope"] == {
        "accepted": len(SCENARIOS) - len(refused),
        "not_accepted": len(refused),
    }
    assert letters["not_accepted_by_reason"] == {
        p.not_accepted_reason.value: 1 for p in refused if p.not_accepted_reason
    }
    assert sum(letters["by_platform"].values()) == len(SCENARIOS)
    extensions = received["extensions"]
    assert (extensions["approved"], extensions["refused"]) == (1, 1)
    returns = sum(len(p.returns) for p, _ in SCENARIOS)
    assert received["returns"]["total"] == returns
    reminders = [r["reminders"] for r in reports.values()]
    assert sum(r["issued"] for r in reminders) == 2
    assert sum(r["unanswered"] for r in reminders) == 1
    assert sum(r["deductions"]["items"] for r in reports.values()) == 1
