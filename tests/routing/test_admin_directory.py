"""The directory as an admin keeps it: versioned CRUD, deactivation, and the classifier using it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from shared.auth import Role
from shared.events.vocabulary import Person
from shared.mongo import make_client
from tests.routing.admin_harness import admin, admin_stack, as_unit, wait_until
from tests.routing.harness import Desk, Stack, received
from tests.support import MONGO_URL, auth

DURIAN = {
    "name": "榴莲市场处",
    "kind": "department",
    "topics": ["榴莲零售与专卖店管理"],
    "keywords": ["榴莲", "榴莲专卖店"],
    "aliases": ["榴莲处"],
    "sample": True,
}
DURIAN_LETTER = "我家楼下新开了一家榴莲专卖店，气味很大，希望有关部门管一管这家门店的经营。"


@pytest.fixture(scope="module")
async def stack() -> AsyncIterator[Stack]:
    async with admin_stack() as running_stack:
        yield running_stack


async def _create(stack: Stack, unit_id: str, **changes: Any) -> dict[str, Any]:
    response = await stack.client.post(
        "/admin/directory/units", json={"id": unit_id, **DURIAN, **changes}, headers=admin()
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_the_sample_directory_is_seeded_and_says_so(stack: Stack) -> None:
    response = await stack.client.get("/admin/directory", headers=auth(Role.office_clerk))
    assert response.status_code == 200, response.text
    directory = response.json()
    assert directory["sample"] is True
    assert directory["city_office"]["kind"] == "city_mailbox_office"
    kinds = {r["kind"] for r in directory["recipients"]}
    assert kinds == {"municipal_department", "district_government"}
    districts = [r for r in directory["recipients"] if r["kind"] == "district_government"]
    assert len(districts) == 38
    one = await stack.client.get("/admin/directory/units/office", headers=admin())
    assert one.json()["version"] == 1
    assert one.json()["active"] is True


async def test_a_unit_is_created_read_and_changed_on_its_version(stack: Stack) -> None:
    created = await _create(stack, "durian-crud")
    assert (created["version"], created["active"]) == (1, True)
    read = await stack.client.get(
        "/admin/directory/units/durian-crud", headers=auth(Role.office_head)
    )
    assert read.json()["keywords"] == DURIAN["keywords"]
    changed = {**DURIAN, "keywords": ["榴莲", "猫山王"], "version": 1}
    response = await stack.client.put(
        "/admin/directory/units/durian-crud", json=changed, headers=admin()
    )
    assert response.status_code == 200, response.text
    assert response.json()["version"] == 2
    assert response.json()["keywords"] == ["榴莲", "猫山王"]
    stale = await stack.client.put(
        "/admin/directory/units/durian-crud", json={**changed, "name": "旧名"}, headers=admin()
    )
    assert stale.status_code == 409
    assert stale.json()["error"] == "stale_version"
    assert stale.json()["details"] == {"expected_version": 1, "current_version": 2}
    again = await stack.client.post(
        "/admin/directory/units", json={"id": "durian-crud", **DURIAN}, headers=admin()
    )
    assert again.status_code == 409


async def test_each_change_is_audited_with_its_actor(stack: Stack) -> None:
    await _create(stack, "durian-audit")
    client = make_client(MONGO_URL)
    try:
        audit = client[stack.settings.mongo_db]["audit"]
        query = {"target_id": "durian-audit", "action": "directory.created"}
        entry = await wait_until(lambda: audit.find_one(query), what="the audit entry")
        assert entry["actor"]["user_id"] == "u_admin"
        assert entry["target_type"] == "unit"
        assert entry["after"]["name"] == DURIAN["name"]
    finally:
        await client.close()


async def test_ids_are_unique_across_units_and_recipients_and_roles_are_checked(
    stack: Stack,
) -> None:
    clash = await stack.client.post(
        "/admin/directory/units",
        json={"id": "city-mailbox-office", **DURIAN},
        headers=admin(),
    )
    assert clash.status_code == 409
    by_office = await stack.client.post(
        "/admin/directory/units",
        json={"id": "durian-office-head", **DURIAN},
        headers=auth(Role.office_head),
    )
    assert by_office.status_code == 403
    by_unit = await stack.client.get(
        "/admin/directory/units", headers=as_unit(Role.unit_head, "market-order")
    )
    assert by_unit.status_code == 403
    bad = await stack.client.post(
        "/admin/directory/units", json={"id": "Not An Id", **DURIAN}, headers=admin()
    )
    assert bad.status_code == 422
    assert bad.json()["details"]["errors"][0]["field"] == "id"
    second_city = await stack.client.post(
        "/admin/directory/recipients",
        json={**DURIAN, "id": "another-city-office", "kind": "city_mailbox_office"},
        headers=admin(),
    )
    assert second_city.status_code == 409


async def test_lists_are_paged_by_id_without_gaps(stack: Stack) -> None:
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 7, "kind": "district_government"}
        if cursor:
            params["cursor"] = cursor
        response = await stack.client.get(
            "/admin/directory/recipients", params=params, headers=admin()
        )
        assert response.status_code == 200, response.text
        page = response.json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 38
    assert seen == sorted(set(seen))


async def test_a_deactivated_unit_keeps_its_document_but_gets_no_new_letters(
    stack: Stack,
) -> None:
    await _create(stack, "durian-old")
    off = await stack.client.post(
        "/admin/directory/units/durian-old/deactivate", json={"version": 1}, headers=admin()
    )
    assert off.status_code == 200, off.text
    assert (off.json()["active"], off.json()["version"]) == (False, 2)
    inactive = await stack.client.get(
        "/admin/directory/units", params={"active": "false"}, headers=admin()
    )
    assert "durian-old" in [item["id"] for item in inactive.json()["items"]]
    desk = Desk(stack)
    letter_id = await desk.register(received(title="榴莲店", text=DURIAN_LETTER))
    slip = {
        "opinion": "属我委职责。",
        "nature": "complaint",
        "accepted": True,
        "route": "direct",
        "lead_unit_id": "durian-old",
        "assisting_unit_ids": [],
    }
    answer = await desk.call(letter_id, "/slip", Role.office_clerk, slip, method="PUT", expect=422)
    assert answer["details"]["errors"][0]["field"] == "lead_unit_id"
    back = await stack.client.post(
        "/admin/directory/units/durian-old/reactivate", json={"version": 2}, headers=admin()
    )
    assert back.json()["active"] is True
    await desk.call(letter_id, "/slip", Role.office_clerk, slip, method="PUT")


async def test_what_the_directory_needs_cannot_be_deactivated(stack: Stack) -> None:
    default = await stack.client.post(
        "/admin/directory/units/office/deactivate", json={"version": 1}, headers=admin()
    )
    assert default.status_code == 409
    assert default.json()["details"]["field"] == "competence.default_unit_id"
    city = await stack.client.post(
        "/admin/directory/recipients/city-mailbox-office/deactivate",
        json={"version": 1},
        headers=admin(),
    )
    assert city.status_code == 409


async def test_the_classifier_uses_the_stored_directory_after_each_change(
    stack: Stack,
) -> None:
    desk = Desk(stack)
    # Three different writers and wordings: a repeat would be suggested as not accepted.
    letters = iter(
        [
            ("张先生", "13800000001", "小区门口的山竹专卖店每天在人行道上堆放纸箱，堵塞通行。"),
            ("李女士", "13800000002", "菜市场旁边那家山竹专卖店把货车停在盲道上卸货，很危险。"),
            ("王师傅", "13800000003", "山竹专卖店门前长期占道摆摊，纸壳烂果扔在路边，影响市容。"),
        ]
    )

    async def suggested() -> tuple[str, str | None]:
        name, phone, text = next(letters)
        person = Person(name=name, phone=phone)
        event = await desk.register(received(title="山竹专卖店占道", text=text, person=person))
        classified = stack.probe.of_type("letter.classified", letter_id=event)[0]
        assert classified.data["accepted"] is True, classified.data
        return classified.data["route"], classified.data["unit_id"]

    assert await suggested() == ("forward", "urban-management")
    created = await _create(
        stack, "mangosteen", name="山竹处", topics=["山竹"], keywords=["山竹专卖店", "山竹"]
    )
    assert await suggested() == ("direct", "mangosteen")
    off = await stack.client.post(
        "/admin/directory/units/mangosteen/deactivate",
        json={"version": created["version"]},
        headers=admin(),
    )
    assert off.status_code == 200, off.text
    assert await suggested() == ("forward", "urban-management")
    listed = await stack.client.get("/admin/directory", headers=admin())
    assert "mangosteen" not in [u["id"] for u in listed.json()["units"]]
