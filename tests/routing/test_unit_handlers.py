"""A unit's handlers, listed for naming one on a letter: ids and names only, for the unit's
own head and leader, the office and admins."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from shared.auth import Role
from tests.routing.admin_harness import admin, admin_stack, as_unit
from tests.routing.harness import ASSIST, LEAD, Stack
from tests.support import auth


@pytest.fixture(scope="module")
async def stack() -> AsyncIterator[Stack]:
    async with admin_stack() as running_stack:
        yield running_stack


async def _user(stack: Stack, user_id: str, role: str, unit_id: str | None) -> None:
    body = {"id": user_id, "name": f"名{user_id[-1]}", "role": role, "unit_id": unit_id}
    answer = await stack.client.post("/admin/users", json=body, headers=admin())
    assert answer.status_code == 201, answer.text


async def test_the_units_head_lists_its_active_handlers_by_id_and_name(stack: Stack) -> None:
    await _user(stack, "hd.handler.a", "unit_handler", LEAD)
    await _user(stack, "hd.handler.b", "unit_handler", LEAD)
    await _user(stack, "hd.handler.c", "unit_handler", LEAD)
    await _user(stack, "hd.head.d", "unit_head", LEAD)  # not a handler
    await _user(stack, "hd.handler.e", "unit_handler", ASSIST)  # another unit's
    gone = (await stack.client.get("/admin/users/hd.handler.c", headers=admin())).json()
    answer = await stack.client.post(
        "/admin/users/hd.handler.c/deactivate", json={"version": gone["version"]}, headers=admin()
    )
    assert answer.status_code == 200, answer.text

    path = f"/admin/units/{LEAD}/handlers"
    for headers in (
        as_unit(Role.unit_head, LEAD),
        as_unit(Role.unit_leader, LEAD),
        auth(Role.office_clerk),
        admin(),
    ):
        listed = await stack.client.get(path, headers=headers)
        assert listed.status_code == 200, listed.text
        body = listed.json()
        assert body["unit_id"] == LEAD
        items = [i for i in body["items"] if i["id"].startswith("hd.")]
        assert items == [
            {"id": "hd.handler.a", "name": "名a"},
            {"id": "hd.handler.b", "name": "名b"},
        ]
        assert all(set(i) == {"id", "name"} for i in body["items"])  # nothing else of them

    empty = await stack.client.get("/admin/units/foreign-trade/handlers", headers=admin())
    assert (empty.status_code, empty.json()["items"]) == (200, [])


async def test_others_may_not_list_a_units_handlers(stack: Stack) -> None:
    path = f"/admin/units/{LEAD}/handlers"
    for headers in (
        as_unit(Role.unit_head, ASSIST),  # another unit's head
        as_unit(Role.unit_handler, LEAD),  # a handler names nobody
    ):
        refused = await stack.client.get(path, headers=headers)
        assert refused.status_code == 403, refused.text
    assert (await stack.client.get(path)).status_code == 401
    bad = await stack.client.get("/admin/units/NOT_A_UNIT/handlers", headers=admin())
    assert bad.status_code == 422
