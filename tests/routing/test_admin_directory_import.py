"""Loading a directory file: validated, upserted, counted; a new city office replaces the old."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest

from services.routing.directory.models import SAMPLE_DIRECTORY_PATH
from shared.auth import Role
from tests.routing.admin_harness import admin, admin_stack
from tests.routing.harness import Stack
from tests.support import auth


@pytest.fixture
async def stack() -> AsyncIterator[Stack]:
    async with admin_stack() as running_stack:
        yield running_stack


def sample() -> dict[str, Any]:
    data: dict[str, Any] = orjson.loads(SAMPLE_DIRECTORY_PATH.read_bytes())
    return data


async def _import(stack: Stack, body: dict[str, Any], **params: Any) -> dict[str, Any]:
    response = await stack.client.post(
        "/admin/directory/import", json=body, params=params, headers=admin()
    )
    assert response.status_code == 200, response.text
    report: dict[str, Any] = response.json()
    return report


async def test_the_sample_again_changes_nothing_and_an_edit_is_counted(stack: Stack) -> None:
    data = sample()
    units, recipients = len(data["units"]), len(data["recipients"]) + 1
    report = await _import(stack, data)
    assert report["units"] == {"created": 0, "updated": 0, "unchanged": units, "deactivated": 0}
    assert report["recipients"]["unchanged"] == recipients
    data["units"][0]["keywords"] = [*data["units"][0]["keywords"], "信箱回复"]
    data["recipients"].append(
        {
            "id": "city-tobacco",
            "name": "重庆市烟草专卖局",
            "kind": "municipal_department",
            "topics": ["烟草专卖管理"],
            "keywords": ["烟草", "香烟"],
        }
    )
    version_before = (await stack.client.get("/admin/directory", headers=admin())).json()["version"]
    report = await _import(stack, data)
    assert report["units"]["updated"] == 1
    assert report["units"]["unchanged"] == units - 1
    assert report["recipients"]["created"] == 1
    assert report["directory_version"] > version_before
    unit = await stack.client.get(
        f"/admin/directory/units/{data['units'][0]['id']}", headers=admin()
    )
    assert unit.json()["version"] == 2
    assert "信箱回复" in unit.json()["keywords"]
    tobacco = await stack.client.get("/admin/directory/recipients/city-tobacco", headers=admin())
    assert tobacco.json()["name"] == "重庆市烟草专卖局"


async def test_missing_entries_stay_unless_asked_and_the_file_names_the_city_office(
    stack: Stack,
) -> None:
    data = sample()
    dropped = data["recipients"].pop()["id"]
    kept = await _import(stack, data)
    assert kept["recipients"]["deactivated"] == 0
    gone = await _import(stack, data, deactivate_missing="true")
    assert gone["recipients"]["deactivated"] == 1
    entry = await stack.client.get(f"/admin/directory/recipients/{dropped}", headers=admin())
    assert entry.json()["active"] is False
    old_city = data["city_office"]["id"]
    data["city_office"] = {
        **data["city_office"],
        "id": "city-mailbox-office-new",
        "name": "新信箱办",
    }
    moved = await _import(stack, data)
    assert moved["recipients"]["created"] == 1
    assert moved["recipients"]["deactivated"] == 1
    directory = (await stack.client.get("/admin/directory", headers=admin())).json()
    assert directory["city_office"]["id"] == "city-mailbox-office-new"
    old = await stack.client.get(f"/admin/directory/recipients/{old_city}", headers=admin())
    assert old.json()["active"] is False


async def test_a_bad_file_is_refused_whole_with_the_field(stack: Stack) -> None:
    data = sample()
    data["units"].append({**data["units"][0]})
    duplicate = await stack.client.post("/admin/directory/import", json=data, headers=admin())
    assert duplicate.status_code == 422
    assert "duplicate" in duplicate.json()["message"]
    data = sample()
    data["units"][1]["kind"] = "ministry"
    wrong = await stack.client.post("/admin/directory/import", json=data, headers=admin())
    assert wrong.status_code == 422
    assert wrong.json()["details"]["errors"][0]["field"] == "units.1.kind"
    data = sample()
    # Valid on its own, but the id is stored as a recipient.
    moved = data["recipients"].pop(0)
    data["units"].append({**moved, "kind": "department"})
    clash = await stack.client.post("/admin/directory/import", json=data, headers=admin())
    assert clash.status_code == 422
    assert clash.json()["details"]["errors"][0]["field"] == f"units.{len(data['units']) - 1}.id"
    by_office = await stack.client.post(
        "/admin/directory/import", json=sample(), headers=auth(Role.office_head)
    )
    assert by_office.status_code == 403


async def test_the_default_unit_is_kept_even_when_the_file_forgets_it(stack: Stack) -> None:
    data = sample()
    data["units"] = [u for u in data["units"] if u["id"] != "office"]
    refused = await stack.client.post(
        "/admin/directory/import",
        json=data,
        params={"deactivate_missing": "true"},
        headers=admin(),
    )
    assert refused.status_code == 409
    office = await stack.client.get("/admin/directory/units/office", headers=admin())
    assert office.json()["active"] is True
