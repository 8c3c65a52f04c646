"""Rules as data: an edit through the API classifies the next letter, with history and audit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from shared.auth import Role
from shared.events.vocabulary import Person
from shared.mongo import make_client
from tests.routing.admin_harness import admin, admin_stack, as_unit, wait_until
from tests.routing.harness import LEAD, Desk, Stack, received
from tests.support import MONGO_URL, auth

TEXT = "小区门口的山竹专卖店每天在人行道上堆放纸箱，堵塞通行，请有关部门管一管。"


@pytest.fixture(scope="module")
async def stack() -> AsyncIterator[Stack]:
    async with admin_stack() as running_stack:
        yield running_stack


async def _rules(stack: Stack) -> dict[str, Any]:
    response = await stack.client.get("/admin/rules", headers=auth(Role.office_clerk))
    assert response.status_code == 200, response.text
    rules: dict[str, Any] = response.json()["rules"]
    return rules


async def _nature(desk: Desk, *, name: str, phone: str, text: str) -> str:
    event = received(title="山竹专卖店", text=text, person=Person(name=name, phone=phone))
    letter_id = await desk.register(event)
    classified = desk.stack.probe.of_type("letter.classified", letter_id=letter_id)[0]
    nature: str = classified.data["nature"]
    return nature


async def test_an_edit_applies_to_the_next_letter_without_a_restart(stack: Stack) -> None:
    desk = Desk(stack)
    before = await _nature(desk, name="张先生", phone="13800000001", text=TEXT)
    assert before != "report"
    rules = await _rules(stack)
    assert rules["version"] == 1
    rules["nature"]["cues"].setdefault("report", {})["山竹"] = 50
    rules["note"] = "山竹专卖店的来信按举报处理（测试）"
    response = await stack.client.put("/admin/rules", json=rules, headers=auth(Role.office_head))
    assert response.status_code == 200, response.text
    assert response.json()["rules"]["version"] == 2
    assert response.json()["updated_by"]["role"] == "office_head"
    other_text = "菜市场旁边那家山竹专卖店把货车停在盲道上卸货，老人孩子只能绕行，很危险。"
    after = await _nature(desk, name="李女士", phone="13800000002", text=other_text)
    assert after == "report"
    assert (await _rules(stack))["nature"]["cues"]["report"]["山竹"] == 50


async def test_stale_and_invalid_edits_are_refused_with_the_reason(stack: Stack) -> None:
    rules = await _rules(stack)
    saved = await stack.client.put("/admin/rules", json=rules, headers=admin())
    assert saved.status_code == 200, saved.text
    response = await stack.client.put("/admin/rules", json=rules, headers=admin())
    assert response.status_code == 409
    assert response.json()["error"] == "stale_version"
    rules = saved.json()["rules"]
    ahead = await stack.client.put(
        "/admin/rules", json={**rules, "version": rules["version"] + 5}, headers=admin()
    )
    assert ahead.status_code == 409
    zero = {**rules, "repeats": {**rules["repeats"], "window_days": 0}}
    bad = await stack.client.put("/admin/rules", json=zero, headers=admin())
    assert bad.status_code == 422
    assert bad.json()["details"]["errors"][0]["field"] == "repeats.window_days"
    unknown = {**rules, "nature": {**rules["nature"], "cues": {"gossip": {"八卦": 1}}}}
    bad = await stack.client.put("/admin/rules", json=unknown, headers=admin())
    assert bad.status_code == 422
    assert bad.json()["details"]["errors"][0]["field"].startswith("nature.cues.gossip")
    nowhere = {**rules, "competence": {**rules["competence"], "default_unit_id": "nowhere"}}
    bad = await stack.client.put("/admin/rules", json=nowhere, headers=admin())
    assert bad.status_code == 422
    assert bad.json()["details"]["errors"][0]["field"] == "competence.default_unit_id"
    assert (await _rules(stack))["version"] == rules["version"]


async def test_only_the_office_head_and_admin_edit_and_units_do_not_read(stack: Stack) -> None:
    rules = await _rules(stack)
    clerk = await stack.client.put("/admin/rules", json=rules, headers=auth(Role.office_clerk))
    assert clerk.status_code == 403
    unit = await stack.client.get("/admin/rules", headers=as_unit(Role.unit_head, LEAD))
    assert unit.status_code == 403


async def test_every_version_is_kept_and_each_edit_audited(stack: Stack) -> None:
    rules = await _rules(stack)
    rules["repeats"]["window_days"] = 45
    response = await stack.client.put("/admin/rules", json=rules, headers=admin())
    assert response.status_code == 200, response.text
    version = response.json()["rules"]["version"]
    history = await stack.client.get(
        "/admin/rules/history", params={"limit": 1}, headers=auth(Role.office_leader)
    )
    page = history.json()
    assert [item["version"] for item in page["items"]] == [version]
    versions = [version]
    cursor = page["next_cursor"]
    while cursor:
        more = await stack.client.get(
            "/admin/rules/history", params={"limit": 1, "cursor": cursor}, headers=admin()
        )
        versions += [item["version"] for item in more.json()["items"]]
        cursor = more.json()["next_cursor"]
    assert versions == list(range(version, 0, -1))
    old = await stack.client.get(f"/admin/rules/history/{version - 1}", headers=admin())
    assert old.json()["rules"]["repeats"]["window_days"] != 45
    assert old.json()["rules"]["version"] == version - 1
    first = await stack.client.get("/admin/rules/history/1", headers=admin())
    assert first.json()["saved_by"] is None
    client = make_client(MONGO_URL)
    try:
        audit = client[stack.settings.mongo_db]["audit"]
        query = {"action": "rules.updated", "target_id": f"v{version}"}
        entry = await wait_until(lambda: audit.find_one(query), what="the rules audit entry")
    finally:
        await client.close()
    assert entry["after"]["repeats"]["window_days"] == 45
    assert entry["before"]["version"] == version - 1
