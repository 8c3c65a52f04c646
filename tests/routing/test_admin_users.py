"""Users and their tokens: units checked, tokens issued once, revoked everywhere."""

from __future__ import annotations

import stat
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from shared.auth import Role
from shared.mongo import make_client
from tests.routing.admin_harness import admin, admin_stack, as_unit, routing_settings
from tests.routing.harness import LEAD, Stack
from tests.support import MONGO_URL, auth, eventually


@pytest.fixture(scope="module")
async def stack() -> AsyncIterator[Stack]:
    async with admin_stack() as running_stack:
        yield running_stack


async def _user(stack: Stack, **body: Any) -> dict[str, Any]:
    response = await stack.client.post("/admin/users", json=body, headers=admin())
    assert response.status_code == 201, response.text
    user: dict[str, Any] = response.json()
    return user


async def _token(stack: Stack, user_id: str, **body: Any) -> dict[str, Any]:
    response = await stack.client.post(f"/admin/users/{user_id}/tokens", json=body, headers=admin())
    assert response.status_code == 201, response.text
    issued: dict[str, Any] = response.json()
    return issued


def bearer(issued: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {issued['token']}"}


async def test_a_unit_role_needs_an_active_unit_and_office_roles_none(stack: Stack) -> None:
    cases = [
        ({"name": "无单位", "role": "unit_handler"}, "unit_id"),
        ({"name": "错单位", "role": "unit_head", "unit_id": "no-such-unit"}, "unit_id"),
        ({"name": "办公室", "role": "office_clerk", "unit_id": LEAD}, "unit_id"),
        ({"name": "机器", "role": "service"}, "role"),
    ]
    for body, field in cases:
        response = await stack.client.post("/admin/users", json=body, headers=admin())
        assert response.status_code == 422, body
        assert response.json()["details"]["errors"][0]["field"] == field
    user = await _user(stack, id="zhang.wei", name="张伟", role="unit_handler", unit_id=LEAD)
    assert (user["unit_id"], user["active"], user["version"]) == (LEAD, True, 1)
    again = await stack.client.post(
        "/admin/users", json={"id": "zhang.wei", "name": "张伟", "role": "admin"}, headers=admin()
    )
    assert again.status_code == 409
    by_head = await stack.client.post(
        "/admin/users",
        json={"name": "自封", "role": "admin"},
        headers=as_unit(Role.unit_head, LEAD),
    )
    assert by_head.status_code == 403


async def test_an_issued_token_works_and_only_its_id_is_kept(stack: Stack) -> None:
    await _user(stack, id="li.na", name="李娜", role="unit_head", unit_id=LEAD)
    issued = await _token(stack, "li.na", ttl_days=7, note="办公电脑")
    letters = await stack.client.get("/letters", headers=bearer(issued))
    assert letters.status_code == 200, letters.text
    user = (await stack.client.get("/admin/users/li.na", headers=admin())).json()
    assert [t["token_id"] for t in user["tokens"]] == [issued["token_id"]]
    assert user["tokens"][0]["note"] == "办公电脑"
    client = make_client(MONGO_URL)
    try:
        stored = await client[stack.settings.mongo_db]["users"].find_one({"_id": "li.na"})
    finally:
        await client.close()
    assert stored is not None
    assert issued["token"] not in repr(stored)
    too_long = await stack.client.post(
        "/admin/users/li.na/tokens", json={"ttl_days": 365}, headers=admin()
    )
    assert too_long.status_code == 422
    assert too_long.json()["details"]["errors"][0]["field"] == "ttl_days"


async def test_a_revoked_token_is_refused_and_every_service_is_told(stack: Stack) -> None:
    await _user(stack, id="wang.fang", name="王芳", role="office_clerk")
    issued = await _token(stack, "wang.fang")
    assert (await stack.client.get("/letters", headers=bearer(issued))).status_code == 200
    revoked = await stack.client.delete(f"/admin/tokens/{issued['token_id']}", headers=admin())
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["user_id"] == "wang.fang"
    assert revoked.json()["revoked_at"] is not None
    refused = await stack.client.get("/letters", headers=bearer(issued))
    assert refused.status_code == 401
    assert refused.json()["message"] == "token revoked"
    events = await stack.probe.wait_for("token.revoked")
    assert issued["token_id"] in [e.data["token_id"] for e in events]
    again = await stack.client.delete(f"/admin/tokens/{issued['token_id']}", headers=admin())
    assert again.status_code == 200
    assert again.json()["revoked_at"] == revoked.json()["revoked_at"]
    # An id no user holds is a token signed with the secret directly: revoked all the same.
    unknown = await stack.client.delete(
        "/admin/tokens/tok_01JDX5Q9Z6M0B6W1B7Q1T3V9KC", headers=admin()
    )
    assert unknown.status_code == 200, unknown.text
    assert unknown.json()["user_id"] is None


async def test_deactivating_a_user_revokes_all_their_tokens(stack: Stack) -> None:
    user = await _user(stack, id="zhao.lei", name="赵磊", role="unit_leader", unit_id=LEAD)
    first, second = await _token(stack, "zhao.lei"), await _token(stack, "zhao.lei")
    response = await stack.client.post(
        "/admin/users/zhao.lei/deactivate", json={"version": user["version"] + 2}, headers=admin()
    )
    assert response.status_code == 200, response.text
    assert response.json()["active"] is False
    for issued in (first, second):
        assert (await stack.client.get("/letters", headers=bearer(issued))).status_code == 401
    ids = {first["token_id"], second["token_id"]}
    await eventually(
        lambda: ids <= {e.data["token_id"] for e in stack.probe.of_type("token.revoked")},
        what="token.revoked for every token",
    )
    more = await stack.client.post("/admin/users/zhao.lei/tokens", json={}, headers=admin())
    assert more.status_code == 409


async def test_a_new_role_or_unit_revokes_tokens_that_carry_the_old_one(stack: Stack) -> None:
    user = await _user(stack, id="sun.li", name="孙丽", role="unit_handler", unit_id=LEAD)
    issued = await _token(stack, "sun.li")
    stale = await stack.client.put(
        "/admin/users/sun.li",
        json={"name": "孙丽", "role": "unit_head", "unit_id": LEAD, "version": 1},
        headers=admin(),
    )
    assert stale.status_code == 409
    changed = await stack.client.put(
        "/admin/users/sun.li",
        json={"name": "孙丽", "role": "unit_head", "unit_id": LEAD, "version": user["version"] + 1},
        headers=admin(),
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["role"] == "unit_head"
    assert (await stack.client.get("/letters", headers=bearer(issued))).status_code == 401
    renamed = await stack.client.put(
        "/admin/users/sun.li",
        json={"name": "孙丽华", "role": "unit_head", "unit_id": LEAD, "version": 3},
        headers=admin(),
    )
    assert renamed.status_code == 200, renamed.text
    fresh = await _token(stack, "sun.li")
    still = await stack.client.put(
        "/admin/users/sun.li",
        json={"name": "孙丽", "role": "unit_head", "unit_id": LEAD, "version": 5},
        headers=admin(),
    )
    assert still.status_code == 200, still.text
    assert (await stack.client.get("/letters", headers=bearer(fresh))).status_code == 200


async def test_the_last_active_admin_stays(stack: Stack) -> None:
    first = await _user(stack, id="admin.one", name="管理员甲", role="admin")
    refused = await stack.client.post(
        "/admin/users/admin.one/deactivate", json={"version": first["version"]}, headers=admin()
    )
    assert refused.status_code == 409
    await _user(stack, id="admin.two", name="管理员乙", role="admin")
    allowed = await stack.client.post(
        "/admin/users/admin.one/deactivate", json={"version": first["version"]}, headers=admin()
    )
    assert allowed.status_code == 200, allowed.text
    listed = await stack.client.get(
        "/admin/users", params={"role": "admin", "active": "true"}, headers=auth(Role.office_head)
    )
    assert [u["id"] for u in listed.json()["items"]] == ["admin.two"]


async def test_a_fresh_deployment_writes_its_first_admin_token(tmp_path: Path) -> None:
    path = tmp_path / "secrets" / "admin.token"
    async with admin_stack(routing_settings(bootstrap_admin_token_file=path)) as stack:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        token = path.read_text().strip()
        headers = {"Authorization": f"Bearer {token}"}
        me = await stack.client.get("/admin/users/admin", headers=headers)
        assert me.status_code == 200, me.text
        assert me.json()["role"] == "admin"
        assert len(me.json()["tokens"]) == 1
        created = await stack.client.post(
            "/admin/users", json={"name": "正式管理员", "role": "admin"}, headers=headers
        )
        assert created.status_code == 201
