"""Signing in with a user name and password: sessions, forced changes, lockout, sign-out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from devkit.actors.people import Urls, enrol
from services.routing.users.store import MAX_LIVE_TOKENS
from shared.errors import AppError, Unauthorized
from shared.mongo import make_client
from tests.routing.admin_harness import admin, admin_stack, routing_settings, wait_until
from tests.routing.harness import LEAD, NOW, Stack
from tests.support import MONGO_URL, TEST_SECRET

MAX_FAILURES = 3
LOCKOUT_S = 600
WRONG = {"error": "unauthorized", "message": "wrong user name or password", "details": {}}


@pytest.fixture(scope="module")
async def stack() -> AsyncIterator[Stack]:
    settings = routing_settings(
        sign_in_max_failures=MAX_FAILURES, sign_in_lockout_s=LOCKOUT_S, session_ttl_h=8
    )
    async with admin_stack(settings) as running_stack:
        yield running_stack


async def _person(stack: Stack, user_id: str, *, password: str, **fields: Any) -> dict[str, Any]:
    """A user whose password an admin set and who changed it to `password`."""
    body = {"id": user_id, "name": fields.pop("name", "测试人员"), "role": "office_clerk", **fields}
    created = await stack.client.post("/admin/users", json=body, headers=admin())
    assert created.status_code == 201, created.text
    await _set_password(stack, user_id, "临时密码-by-admin")
    changed = await _change(stack, user_id, old="临时密码-by-admin", new=password)
    assert changed.status_code == 200, changed.text
    read = await stack.client.get(f"/admin/users/{user_id}", headers=admin())
    user: dict[str, Any] = read.json()
    return user


async def _set_password(stack: Stack, user_id: str, password: str) -> httpx.Response:
    response = await stack.client.put(
        f"/admin/users/{user_id}/password", json={"password": password}, headers=admin()
    )
    assert response.status_code == 200, response.text
    return response


async def _login(stack: Stack, user_id: str, password: str) -> httpx.Response:
    return await stack.client.post("/auth/login", json={"user_id": user_id, "password": password})


async def _change(stack: Stack, user_id: str, *, old: str, new: str) -> httpx.Response:
    body = {"user_id": user_id, "old_password": old, "new_password": new}
    return await stack.client.post("/auth/password", json=body)


def _bearer(answer: httpx.Response) -> dict[str, str]:
    return {"Authorization": f"Bearer {answer.json()['token']}"}


async def test_a_sign_in_answers_a_session_token_of_that_person(stack: Stack) -> None:
    await _person(stack, "sun.li", password="春眠不觉晓-处处闻啼鸟", name="孙丽")
    answer = await _login(stack, "sun.li", "春眠不觉晓-处处闻啼鸟")
    assert answer.status_code == 200, answer.text
    issued = answer.json()
    assert issued["user_id"] == "sun.li"
    assert issued["token_id"].startswith("tok_")
    letters = await stack.client.get("/letters", headers=_bearer(answer))
    assert letters.status_code == 200, letters.text
    user = (await stack.client.get("/admin/users/sun.li", headers=admin())).json()
    session = next(t for t in user["tokens"] if t["token_id"] == issued["token_id"])
    assert (session["note"], session["issued_by"]) == ("sign-in", "sun.li")
    lifetime = datetime.fromisoformat(session["expires_at"]) - datetime.fromisoformat(
        session["issued_at"]
    )
    assert abs(lifetime - timedelta(hours=8)) < timedelta(minutes=1)  # session_ttl_h
    assert (user["has_password"], user["must_change_password"]) == (True, False)


async def test_a_wrong_password_and_an_unknown_user_get_the_same_401(stack: Stack) -> None:
    await _person(stack, "qian.bo", password="白日依山尽-黄河入海流")
    wrong = await _login(stack, "qian.bo", "not-the-password")
    unknown = await _login(stack, "nobody.here", "not-the-password")
    assert (wrong.status_code, unknown.status_code) == (401, 401)
    assert wrong.json() == unknown.json() == WRONG
    assert "token" not in wrong.text
    # A user without a password cannot sign in either, with the same answer.
    await stack.client.post(
        "/admin/users",
        json={"id": "no.password", "name": "无密码", "role": "office_clerk"},
        headers=admin(),
    )
    none_set = await _login(stack, "no.password", "")
    assert (none_set.status_code, none_set.json()) == (401, WRONG)
    refused = await stack.client.post("/auth/login", json={"user_id": "Bad Name!", "password": "x"})
    assert refused.status_code == 422
    assert refused.json()["details"]["errors"][0]["field"] == "user_id"


async def test_a_deactivated_user_cannot_sign_in(stack: Stack) -> None:
    user = await _person(stack, "zhou.min", password="床前明月光-疑是地上霜")
    deactivated = await stack.client.post(
        "/admin/users/zhou.min/deactivate", json={"version": user["version"]}, headers=admin()
    )
    assert deactivated.status_code == 200, deactivated.text
    answer = await _login(stack, "zhou.min", "床前明月光-疑是地上霜")
    assert (answer.status_code, answer.json()) == (401, WRONG)
    again = await stack.client.put(
        "/admin/users/zhou.min/password", json={"password": "另一个密码-够长了"}, headers=admin()
    )
    assert again.status_code == 409


async def test_a_password_an_admin_set_is_changed_before_the_first_sign_in(stack: Stack) -> None:
    created = await stack.client.post(
        "/admin/users",
        json={"id": "wu.gang", "name": "吴刚", "role": "unit_handler", "unit_id": LEAD},
        headers=admin(),
    )
    assert created.status_code == 201
    set_answer = await _set_password(stack, "wu.gang", "admin-gave-this-1")
    assert set_answer.json()["must_change_password"] is True
    first = await _login(stack, "wu.gang", "admin-gave-this-1")
    assert first.status_code == 403, first.text
    assert first.json()["error"] == "password_change_required"
    assert first.json()["details"] == {"change_at": "/auth/password"}
    assert "token" not in first.json()
    # The forced change checks the old password like a sign-in and then signs in.
    wrong_old = await _change(stack, "wu.gang", old="not-what-admin-gave", new="mine-and-only-mine")
    assert (wrong_old.status_code, wrong_old.json()) == (401, WRONG)
    changed = await _change(stack, "wu.gang", old="admin-gave-this-1", new="mine-and-only-mine")
    assert changed.status_code == 200, changed.text
    assert (await stack.client.get("/letters", headers=_bearer(changed))).status_code == 200
    assert (await _login(stack, "wu.gang", "admin-gave-this-1")).status_code == 401
    assert (await _login(stack, "wu.gang", "mine-and-only-mine")).status_code == 200
    user = (await stack.client.get("/admin/users/wu.gang", headers=admin())).json()
    assert user["must_change_password"] is False
    # An admin's reset forces a change again and ends the sessions signed in before it.
    session = await _login(stack, "wu.gang", "mine-and-only-mine")
    await _set_password(stack, "wu.gang", "admin-reset-it-2")
    refused = await stack.client.get("/letters", headers=_bearer(session))
    assert (refused.status_code, refused.json()["message"]) == (401, "token revoked")
    assert (await _login(stack, "wu.gang", "admin-reset-it-2")).status_code == 403


async def test_the_password_policy_names_the_field(stack: Stack) -> None:
    await _person(stack, "zheng.yuhang", password="千山鸟飞绝-万径人踪灭", name="郑宇航")
    old = "千山鸟飞绝-万径人踪灭"
    for new, reason in (
        ("short", "at least 10 characters"),
        ("ZHENG.YUHANG", "must not be the user name"),
        (old, "must differ from the old password"),
    ):
        answer = await _change(stack, "zheng.yuhang", old=old, new=new)
        assert answer.status_code == 422, (new, answer.text)
        error = answer.json()["details"]["errors"][0]
        assert (error["field"], error["reason"]) == ("new_password", reason)
    too_long = await _change(stack, "zheng.yuhang", old=old, new="x" * 257)
    assert too_long.status_code == 422
    assert too_long.json()["details"]["errors"][0]["field"] == "new_password"
    by_admin = await stack.client.put(
        "/admin/users/zheng.yuhang/password", json={"password": "zheng.yuhang"}, headers=admin()
    )
    assert by_admin.status_code == 422
    assert by_admin.json()["details"]["errors"][0]["field"] == "password"
    # A lone surrogate, which JSON can carry and UTF-8 cannot encode, is no server error.
    raw = '{"user_id": "zheng.yuhang", "old_password": "%s", "new_password": "\\ud800-ten-chars"}'
    lone = await stack.client.post(
        "/auth/password", content=raw % old, headers={"content-type": "application/json"}
    )
    assert lone.status_code == 422, lone.text
    assert lone.json()["details"]["errors"][0]["field"] == "new_password"
    wrong = await stack.client.post(
        "/auth/login",
        content='{"user_id": "zheng.yuhang", "password": "\\ud800"}',
        headers={"content-type": "application/json"},
    )
    assert (wrong.status_code, wrong.json()) == (401, WRONG)
    # None of those changed it.
    assert (await _login(stack, "zheng.yuhang", old)).status_code == 200


async def test_failures_in_a_row_lock_until_an_admin_unlocks(stack: Stack) -> None:
    await _person(stack, "feng.tao", password="独在异乡为异客-每逢佳节")
    for attempt in range(1, MAX_FAILURES):
        answer = await _login(stack, "feng.tao", f"wrong-{attempt}")
        assert (answer.status_code, answer.json()) == (401, WRONG)
    user = (await stack.client.get("/admin/users/feng.tao", headers=admin())).json()
    assert user["failed_sign_ins"] == MAX_FAILURES - 1
    locking = await _login(stack, "feng.tao", "wrong-again")
    assert locking.status_code == 423, locking.text
    assert locking.json()["error"] == "account_locked"
    until = (NOW + timedelta(seconds=LOCKOUT_S)).isoformat()
    assert locking.json()["details"]["locked_until"] == until
    # Locked: the right password is not even checked.
    right = await _login(stack, "feng.tao", "独在异乡为异客-每逢佳节")
    assert right.status_code == 423
    change = await _change(stack, "feng.tao", old="独在异乡为异客-每逢佳节", new="a-new-one-now")
    assert change.status_code == 423
    user = (await stack.client.get("/admin/users/feng.tao", headers=admin())).json()
    assert user["locked_at"] is not None
    unlocked = await stack.client.post("/admin/users/feng.tao/unlock", headers=admin())
    assert unlocked.status_code == 200, unlocked.text
    assert (unlocked.json()["locked_at"], unlocked.json()["failed_sign_ins"]) == (None, 0)
    assert (await _login(stack, "feng.tao", "独在异乡为异客-每逢佳节")).status_code == 200
    # A success resets the count: two more failures do not lock.
    for attempt in range(MAX_FAILURES - 1):
        assert (await _login(stack, "feng.tao", f"again-{attempt}")).status_code == 401
    assert (await _login(stack, "feng.tao", "独在异乡为异客-每逢佳节")).status_code == 200
    user = (await stack.client.get("/admin/users/feng.tao", headers=admin())).json()
    assert user["failed_sign_ins"] == 0


async def test_a_lock_runs_out_after_its_period(stack: Stack) -> None:
    await _person(stack, "chu.yan", password="会当凌绝顶-一览众山小")
    for attempt in range(MAX_FAILURES):
        await _login(stack, "chu.yan", f"wrong-{attempt}")
    assert (await _login(stack, "chu.yan", "会当凌绝顶-一览众山小")).status_code == 423
    try:
        stack.clock.advance(timedelta(seconds=LOCKOUT_S + 1))
        assert (await _login(stack, "chu.yan", "会当凌绝顶-一览众山小")).status_code == 200
    finally:
        stack.clock.set(NOW)


async def test_signing_out_revokes_the_token_everywhere(stack: Stack) -> None:
    await _person(stack, "wei.dong", password="海内存知己-天涯若比邻")
    session = await _login(stack, "wei.dong", "海内存知己-天涯若比邻")
    other = await _login(stack, "wei.dong", "海内存知己-天涯若比邻")
    out = await stack.client.post("/auth/logout", headers=_bearer(session))
    assert out.status_code == 200, out.text
    assert out.json()["token_id"] == session.json()["token_id"]
    assert out.json()["user_id"] == "wei.dong"
    refused = await stack.client.get("/letters", headers=_bearer(session))
    assert (refused.status_code, refused.json()["message"]) == (401, "token revoked")
    token_id = session.json()["token_id"]

    async def told() -> bool | None:
        revoked = [e.data["token_id"] for e in stack.probe.of_type("token.revoked")]
        return True if token_id in revoked else None

    assert await wait_until(told, what="token.revoked of the signed-out token")
    # Only that session: the person's other sign-in goes on.
    assert (await stack.client.get("/letters", headers=_bearer(other))).status_code == 200
    assert (await stack.client.post("/auth/logout")).status_code == 401


async def test_no_users_route_shows_the_hash_and_no_record_holds_the_password(
    stack: Stack,
) -> None:
    password = "锄禾日当午-汗滴禾下土"
    user = await _person(stack, "jiang.he", password=password)
    answers = [
        await stack.client.get("/admin/users", headers=admin()),
        await stack.client.get("/admin/users/jiang.he", headers=admin()),
        await stack.client.put(
            "/admin/users/jiang.he",
            json={"name": "蒋和", "role": "office_clerk", "version": user["version"]},
            headers=admin(),
        ),
        await stack.client.put(
            "/admin/users/jiang.he/password", json={"password": password + "!"}, headers=admin()
        ),
        await stack.client.post("/admin/users/jiang.he/unlock", headers=admin()),
        await _change(stack, "jiang.he", old=password + "!", new=password),
        await _login(stack, "jiang.he", password),
        await stack.client.post("/admin/users/jiang.he/tokens", json={}, headers=admin()),
    ]
    wanted = {"user.password_set", "user.password_changed", "token.issued", "user.updated"}
    client = make_client(MONGO_URL)
    try:
        db = client[stack.settings.mongo_db]
        stored = await db["users"].find_one({"_id": "jiang.he"})
        assert stored is not None
        hashed = stored["password_hash"]
        assert hashed.startswith("$argon2id$")

        async def audited() -> list[dict[str, Any]] | None:
            entries = await db["audit"].find({"target_id": "jiang.he"}).to_list(None)
            return entries if wanted <= {e["action"] for e in entries} else None

        audit = await wait_until(audited, what="the password changes in the audit log")
    finally:
        await client.close()
    for answer in answers:
        assert answer.status_code in (200, 201), answer.text
        assert "argon2" not in answer.text and "password_hash" not in answer.text
        assert password not in answer.text
    assert password not in repr(stored)
    assert not [e for e in audit if password in repr(e) or "argon2" in repr(e)]


async def test_the_demo_people_get_first_passwords_to_sign_in_with(stack: Stack) -> None:
    base = str(stack.client.base_url).rstrip("/")
    urls = Urls(intake=base, routing=base, deadlines=base, publishing=base, simulator=base)
    cast = await enrol(stack.client, urls=urls, secret=TEST_SECRET, units=(LEAD,), passwords=True)
    assert set(cast.passwords) == set(cast.people) - {"admin"}
    assert len(set(cast.passwords.values())) == len(cast.passwords)
    clerk = await _login(stack, "gkxx.clerk", cast.passwords["gkxx.clerk"])
    assert clerk.json()["error"] == "password_change_required"
    handler = f"{LEAD}.handler"
    changed = await _change(
        stack, handler, old=cast.passwords[handler], new="经办人自己的新密码-2026"
    )
    assert changed.status_code == 200, changed.text
    # The actor's own token (issued by the admin, not a sign-in) outlives the new password.
    own = {"Authorization": f"Bearer {cast.tokens[handler]}"}
    assert (await stack.client.get("/letters", headers=own)).status_code == 200


async def test_signing_in_at_the_token_limit_ends_the_oldest_session(stack: Stack) -> None:
    await _person(stack, "lu.you", password="山重水复疑无路-柳暗花明")
    # _person's password change signed in once: that is the oldest session.
    first = (await stack.client.get("/admin/users/lu.you", headers=admin())).json()["tokens"][0]
    for _ in range(MAX_LIVE_TOKENS - 1):
        assert (await _login(stack, "lu.you", "山重水复疑无路-柳暗花明")).status_code == 200
    newest = await _login(stack, "lu.you", "山重水复疑无路-柳暗花明")
    assert newest.status_code == 200, newest.text
    user = (await stack.client.get("/admin/users/lu.you", headers=admin())).json()
    live = [t for t in user["tokens"] if t["revoked_at"] is None]
    assert len(live) == MAX_LIVE_TOKENS
    revoked = next(t for t in user["tokens"] if t["token_id"] == first["token_id"])
    assert revoked["revoked_at"] is not None
    # Tokens an admin issues are still refused at the limit: nothing of theirs is dropped.
    by_admin = await stack.client.post("/admin/users/lu.you/tokens", json={}, headers=admin())
    assert by_admin.status_code == 409


async def test_a_right_password_checked_before_a_lock_or_reset_gets_no_session(
    stack: Stack,
) -> None:
    # A burst of sign-ins reads the user before its hashes queue (about 0.25 s each): the
    # right one can be verified after the others locked the account, or after an admin
    # reset the password. The session is issued only if the user, as the write finds it,
    # is still unlocked and still has the password that was verified.
    user = "zhou.wen"
    await _person(stack, user, password="床前明月光-疑是地上霜")
    app = stack.app
    assert app is not None
    sign_in = app.state.sign_in
    users = app.state.users
    verified = await users.get(user)
    await _set_password(stack, user, "临时密码-管理员再次重置")
    with pytest.raises(Unauthorized):
        await sign_in._session(verified)
    await _change(stack, user, old="临时密码-管理员再次重置", new="举头望明月-低头思故乡")
    verified = await users.get(user)
    for _ in range(MAX_FAILURES):
        await _login(stack, user, "不是这个密码-不是这个")
    assert (await _login(stack, user, "举头望明月-低头思故乡")).status_code == 423
    with pytest.raises(AppError) as refused:
        await sign_in._session(verified)
    assert refused.value.status_code == 423
