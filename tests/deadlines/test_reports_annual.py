"""The annual summary assesses each unit (Art. 25): its score, the letters it led and assisted,
its on-time handling rate and its deductions, in JSON, CSV and the chart."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from typing import Any

import pytest

from services.deadlines.clocks.models import (
    handling_clock_id,
)
from services.deadlines.supervision.models import (
    reminder_id,
)
from shared.auth import Role
from shared.events.vocabulary import ClockState
from tests.deadlines.harness import Harness, at
from tests.support import auth

OFFICE = auth(Role.office_clerk)
HEAD = auth(Role.office_head)
LEAD, HELP, OTHER = "unit_lead", "unit_help", "unit_other"


@pytest.fixture(scope="module")
async def year() -> AsyncIterator[Harness]:
    """March 2026: LEAD leads two letters (one met, one overdue), OTHER one (met); HELP
    assists two and leads none. Three deductions, one of them annulled."""
    h = Harness(now=at("2026-03-02T09:00:00"))
    await h.start()
    l1, l2, l3 = (h.letter_id() for _ in range(3))
    for letter in (l1, l2, l3):
        await h.received(letter, received_at=at("2026-03-01T10:00:00"))
    handed = at("2026-03-02T09:00:00")
    await h.accepted(l1, handed_over_at=handed, unit_id=LEAD, unit_name="综合处", assisting=[HELP])
    await h.accepted(l2, handed_over_at=handed, unit_id=LEAD, unit_name="综合处")
    await h.accepted(l3, handed_over_at=handed, unit_id=OTHER, unit_name="规划处", assisting=[HELP])
    for letter in (l1, l2, l3):
        await h.wait_clock(handling_clock_id(letter))

    h.clock.set(at("2026-03-04T15:00:00"))
    await h.submitted(l3, submitted_at=at("2026-03-04T15:00:00"), unit_id=OTHER)
    h.clock.set(at("2026-03-05T15:00:00"))
    await h.submitted(l1, submitted_at=at("2026-03-05T15:00:00"), unit_id=LEAD)
    for letter in (l1, l3):
        await h.wait_clock(handling_clock_id(letter), lambda c: c.state == ClockState.met)

    h.clock.set(at("2026-03-17T08:00:00"))  # L2 was due 03-16 at night
    await h.service.sweep()
    h.clock.set(at("2026-03-17T10:00:00"))
    answered = await h.client.post(
        f"/reminders/{reminder_id(handling_clock_id(l2), number=1)}/answer",
        json={"text": "正在协调，明日答复。"},
        headers=auth(Role.unit_handler, unit_id=LEAD),
    )
    assert answered.status_code == 200, answered.text

    h.clock.set(at("2026-03-20T10:00:00"))
    items: list[dict[str, Any]] = [
        {
            "unit_id": LEAD,
            "kind": "wrong_publication_mode",
            "trigger": "superior_criticism",
            "reason": "应不公开的答复网上公开，被市政府通报批评",
            "letter_id": l1,
        },
        {"unit_id": HELP, "kind": "manual", "reason": "协办意见未按时反馈", "letter_id": l3},
        {"unit_id": LEAD, "kind": "manual", "reason": "误记", "letter_id": l2},
    ]
    ids = []
    for item in items:
        recorded = await h.client.post("/assessment", json=item, headers=HEAD)
        assert recorded.status_code == 201, recorded.text
        ids.append(recorded.json()["id"])
    annulled = await h.client.post(
        f"/assessment/{ids[2]}/annul", json={"reason": "记错单位"}, headers=HEAD
    )
    assert annulled.status_code == 200, annulled.text
    yield h
    await h.stop()


async def _annual(h: Harness) -> dict[str, Any]:
    response = await h.client.get("/reports/annual", params={"year": 2026}, headers=OFFICE)
    assert response.status_code == 200, response.text
    report: dict[str, Any] = response.json()
    return report


async def test_each_unit_has_its_score_letters_handling_rate_and_deductions(
    year: Harness,
) -> None:
    report = await _annual(year)
    base = year.settings.assessment_base_points
    assert report["base_points"] == base
    units = {u["unit_id"]: u for u in report["units"]}
    assert set(units) == {LEAD, HELP, OTHER}
    wrong_mode, manual = (year.settings.weight(k) for k in ("wrong_publication_mode", "manual"))

    lead = units[LEAD]
    assert (lead["letters_led"], lead["letters_assisted"]) == (2, 0)
    assert (lead["handling"]["met"], lead["handling"]["overdue"]) == (1, 1)
    assert lead["handling"]["on_time_rate"] == 0.5
    assert lead["clocks"]["met"] == 2  # its reminder answer too: not the handling rate
    assert (lead["deduction_items"], lead["deduction_points"]) == (1, wrong_mode)  # one annulled
    assert lead["score"] == base - wrong_mode

    helper = units[HELP]  # only assisted: counted all the same
    assert (helper["letters_led"], helper["letters_assisted"]) == (0, 2)
    assert helper["handling"]["on_time_rate"] is None
    assert (helper["deduction_items"], helper["deduction_points"]) == (1, manual)
    assert helper["score"] == base - manual

    other = units[OTHER]
    assert (other["letters_led"], other["letters_assisted"]) == (1, 0)
    assert other["handling"]["on_time_rate"] == 1.0
    assert (other["deduction_items"], other["score"]) == (0, base)

    # The same scores as the assessment's own endpoint gives.
    scores = await year.client.get("/assessment/scores", params={"year": 2026}, headers=HEAD)
    by_unit = {u["unit_id"]: u["score"] for u in scores.json()["units"]}
    assert {u: by_unit[u] for u in units} == {u: row["score"] for u, row in units.items()}


async def test_the_monthly_report_counts_led_and_assisted_letters_without_a_score(
    year: Harness,
) -> None:
    response = await year.client.get(
        "/reports/monthly", params={"month": "2026-03"}, headers=OFFICE
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["base_points"] is None
    units = {u["unit_id"]: u for u in report["units"]}
    assert units[HELP]["letters_assisted"] == 2
    assert units[LEAD]["handling"]["on_time_rate"] == 0.5
    assert all(u["score"] is None for u in units.values())
    assert report["deductions"]["items"] == 2  # the annulled one left out


async def test_annual_csv_and_chart_carry_the_assessment(year: Harness) -> None:
    response = await year.client.get(
        "/reports/annual", params={"year": 2026, "format": "csv"}, headers=OFFICE
    )
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    base = year.settings.assessment_base_points
    score = base - year.settings.weight("wrong_publication_mode")
    assert ["assessment", "total", "base_points", "", str(base)] in rows
    assert ["units", LEAD, "score", "综合处", str(score)] in rows
    assert ["units", LEAD, "letters_led", "综合处", "2"] in rows
    assert ["units", LEAD, "handling_on_time_rate", "综合处", "0.5"] in rows
    assert ["units", HELP, "letters_assisted", HELP, "2"] in rows
    assert ["units", HELP, "deduction_items", HELP, "1"] in rows

    chart = await year.client.get(
        "/reports/annual/chart.svg", params={"year": 2026}, headers=OFFICE
    )
    assert chart.status_code == 200
    assert f"综合处（考核得分 {score:g}）" in chart.content.decode("utf-8")
