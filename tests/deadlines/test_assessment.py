"""Deductions (Art. 28) and their annulment: who may be deducted for what, and what counts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from services.deadlines.clocks.models import (
    handling_clock_id,
)
from shared.auth import Role
from tests.deadlines.harness import Harness, at, until
from tests.support import auth

LEAD = "unit_lead"
HELPER = "unit_helper"
HEAD = auth(Role.office_head, user_id="office.li")


@pytest.fixture(scope="module")
async def h() -> AsyncIterator[Harness]:
    harness = Harness(now=at("2026-10-13T09:00:00"))
    await harness.start()
    yield harness
    await harness.stop()


async def _letter(h: Harness) -> str:
    """A letter led by LEAD with HELPER assisting."""
    letter = h.letter_id()
    h.clock.set(at("2026-10-13T09:00:00"))
    await h.received(letter, received_at=at("2026-10-12T10:00:00"))
    await h.accepted(
        letter,
        handed_over_at=at("2026-10-13T09:00:00"),
        unit_id=LEAD,
        unit_name="商贸处",
        assisting=[HELPER],
    )
    await h.wait_clock(handling_clock_id(letter))
    return letter


def _wrong_mode(letter: str, **extra: Any) -> dict[str, Any]:
    return {
        "unit_id": LEAD,
        "kind": "wrong_publication_mode",
        "reason": "将应不公开的答复确认为网上公开",
        "letter_id": letter,
        **extra,
    }


async def _post(h: Harness, body: dict[str, Any]) -> Any:
    return await h.client.post("/assessment", json=body, headers=HEAD)


async def _score(h: Harness, unit: str) -> float:
    response = await h.client.get(
        "/assessment/scores", params={"year": 2026, "unit": unit}, headers=HEAD
    )
    assert response.status_code == 200, response.text
    [row] = response.json()["units"]
    score: float = row["score"]
    return score


async def test_a_wrong_publication_mode_is_the_lead_units_and_names_its_trigger(
    h: Harness,
) -> None:
    letter = await _letter(h)
    h.clock.set(at("2026-11-02T10:00:00"))
    refused = {
        "no trigger (Art. 28 needs criticism or a negative impact)": (
            _wrong_mode(letter),
            "trigger",
        ),
        "the assisting unit (only the lead proposes the mode)": (
            _wrong_mode(letter, unit_id=HELPER, trigger="superior_criticism"),
            "unit_id",
        ),
    }
    for what, (body, field) in refused.items():
        response = await _post(h, body)
        assert response.status_code == 422, (what, response.text)
        errors = response.json()["details"]["errors"]
        assert errors[0]["field"] == field, (what, errors)
        assert errors[0]["reason"], what
    unknown = await _post(h, _wrong_mode(letter, trigger="bad_press"))
    assert unknown.status_code == 422, unknown.text
    manual_with_trigger = {**_wrong_mode(letter, trigger="superior_criticism"), "kind": "manual"}
    assert (await _post(h, manual_with_trigger)).status_code == 422
    assert h.probe.of_type("assessment.recorded", letter_id=letter) == []

    for trigger in ("superior_criticism", "negative_social_impact"):
        recorded = await _post(h, _wrong_mode(letter, trigger=trigger))
        assert recorded.status_code == 201, recorded.text
        item = recorded.json()
        assert (item["unit_id"], item["trigger"], item["annulled"]) == (LEAD, trigger, None)
    listed = await h.client.get("/assessment", params={"unit": LEAD}, headers=HEAD)
    triggers = {i["trigger"] for i in listed.json()["items"] if i["letter_id"] == letter}
    assert triggers == {"superior_criticism", "negative_social_impact"}


async def test_a_manual_deduction_still_reaches_an_assisting_unit(h: Harness) -> None:
    letter = await _letter(h)
    h.clock.set(at("2026-11-02T10:00:00"))
    body = {
        "unit_id": HELPER,
        "kind": "manual",
        "reason": "协办意见未按时反馈",
        "letter_id": letter,
    }
    recorded = await _post(h, body)
    assert recorded.status_code == 201, recorded.text
    assert recorded.json()["trigger"] is None


async def test_an_annulled_deduction_stays_listed_and_counts_nowhere(h: Harness) -> None:
    letter = await _letter(h)
    h.clock.set(at("2026-11-03T10:00:00"))
    before_score = await _score(h, LEAD)
    month = await h.client.get("/reports/monthly", params={"month": "2026-11"}, headers=HEAD)
    before_items = month.json()["deductions"]["items"]
    recorded = await _post(h, _wrong_mode(letter, trigger="negative_social_impact"))
    assert recorded.status_code == 201, recorded.text
    item = recorded.json()
    weight = h.settings.weight("wrong_publication_mode")
    assert await _score(h, LEAD) == before_score - weight

    path = f"/assessment/{item['id']}/annul"
    reason = {"reason": "经复核，该答复依申请人要求不公开，确认方式无误"}
    for role, unit in ((Role.office_clerk, None), (Role.unit_head, LEAD), (Role.admin, None)):
        response = await h.client.post(path, json=reason, headers=auth(role, unit_id=unit))
        assert response.status_code == 403, (role, response.text)
    missing = await h.client.post("/assessment/asm_nosuchitem/annul", json=reason, headers=HEAD)
    assert missing.status_code == 404, missing.text
    empty = await h.client.post(path, json={"reason": ""}, headers=HEAD)
    assert empty.status_code == 422

    h.clock.set(at("2026-11-04T10:00:00"))
    annulled = await h.client.post(path, json=reason, headers=HEAD)
    assert annulled.status_code == 200, annulled.text
    mark = annulled.json()["annulled"]
    assert mark["by"] == "office.li"
    assert mark["reason"] == reason["reason"]
    assert at(mark["at"]) == at("2026-11-04T10:00:00")
    # A retried request is the same annulment; another reason is a conflict.
    h.clock.set(at("2026-11-04T11:00:00"))
    again = await h.client.post(path, json=reason, headers=HEAD)
    assert again.status_code == 200
    assert again.json()["annulled"] == mark
    other = await h.client.post(path, json={"reason": "另一理由"}, headers=HEAD)
    assert other.status_code == 409, other.text

    # Kept and marked where it is listed; left out of the score and the reports.
    listed = await h.client.get("/assessment", params={"unit": LEAD}, headers=HEAD)
    [kept] = [i for i in listed.json()["items"] if i["id"] == item["id"]]
    assert kept["annulled"] == mark
    assert await _score(h, LEAD) == before_score
    month = await h.client.get("/reports/monthly", params={"month": "2026-11"}, headers=HEAD)
    assert month.json()["deductions"]["items"] == before_items
    annual = await h.client.get("/reports/annual", params={"year": 2026}, headers=HEAD)
    [lead_row] = [u for u in annual.json()["units"] if u["unit_id"] == LEAD]
    assert lead_row["score"] == before_score

    audit = h.app.state.runtime.db["audit"]

    async def entries() -> list[dict[str, Any]]:
        found = audit.find({"action": "assessment.annulled", "target_id": item["id"]})
        return [e async for e in found]

    async def audited() -> bool:
        return len(await entries()) == 1

    await until(audited, what="the annulment's audit entry")
    [entry] = await entries()
    assert entry["actor"]["user_id"] == "office.li"
    assert entry["note"] == reason["reason"]
