"""运维: users, units, the holiday calendar, rules and health through the console's forms,
with routing's and deadlines' refusals shown beside the form they came from."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator

import pytest

from tests.console.harness import MAX_FAILURES, Browser
from tests.console.services_harness import ServicesStack, services_stack
from tests.routing.harness import LEAD

PASSWORD = "春眠不觉晓-处处闻啼鸟"
_VERSION = re.compile(r'name="version" value="(\d+)"')


@pytest.fixture(scope="module")
async def stack() -> AsyncIterator[ServicesStack]:
    async with services_stack() as running_stack:
        yield running_stack


async def _signed_in(stack: ServicesStack, browser: Browser, user_id: str, **person: str) -> str:
    await stack.person(user_id, password=PASSWORD, **person)
    assert (await browser.sign_in(user_id, PASSWORD)).status_code == 303
    return await browser.token("/worklist")


async def test_health_shows_each_service_and_who_does_not_answer(
    stack: ServicesStack, browser: Browser
) -> None:
    await _signed_in(stack, browser, "admin.health", role="admin")
    page = await browser.get("/operations")
    assert page.status_code == 200, page.text
    rows = dict(re.findall(r'<tr data-service="(\w+)"(.*?)</tr>', page.text, re.S))
    assert set(rows) == {"intake", "routing", "deadlines", "publishing"}
    assert "就绪" in rows["routing"] and "mongo" in rows["routing"]
    assert "就绪" in rows["deadlines"] and "redis" in rows["deadlines"]
    assert "无法连接" in rows["intake"] and "无法连接" in rows["publishing"]
    # A page over a service that does not answer says so, and the console stays up.
    down = await browser.get("/operations/quarantine")
    assert down.status_code == 503 and "暂时无法连接" in down.text
    dead = await browser.get("/operations/dead-letters")
    assert dead.status_code == 200 and "mailbox dlq list" in dead.text
    assert 'data-service="routing"' in dead.text and "无法连接" in dead.text


async def test_the_admin_adds_a_user_and_a_refusal_keeps_what_was_typed(
    stack: ServicesStack, browser: Browser
) -> None:
    token = await _signed_in(stack, browser, "admin.users", role="admin")
    # A unit role without its unit: routing's 422, in words, beside the form, typed kept.
    fields = {"id": "zhou.handler", "name": "周经办", "role": "unit_handler", "unit_id": ""}
    refused = await browser.post("/operations/users", fields, token=token)
    assert refused.status_code == 422, refused.text
    assert 'id="user-new-error"' in refused.text and "承办单位" in refused.text
    assert 'value="zhou.handler"' in refused.text and 'value="周经办"' in refused.text
    made = await browser.post("/operations/users", {**fields, "unit_id": LEAD}, token=token)
    assert made.status_code == 303, made.text
    assert made.headers["location"] == "/operations/users/zhou.handler?done=created"
    twice = await browser.post("/operations/users", {**fields, "unit_id": LEAD}, token=token)
    assert twice.status_code == 409 and "已有这个用户名的用户" in twice.text
    listed = await browser.get("/operations/users", params={"unit_id": LEAD})
    assert 'data-user="zhou.handler"' in listed.text and "未设密码" in listed.text
    units = await browser.get("/operations/units")
    assert f'data-unit="{LEAD}"' in units.text
    # Without its CSRF token the form is refused.
    assert (await browser.post("/operations/users", fields, token=None)).status_code == 403


async def test_a_stale_edit_is_shown_and_the_edit_kept(
    stack: ServicesStack, browser: Browser
) -> None:
    token = await _signed_in(stack, browser, "admin.edit", role="admin")
    await stack.person("wu.clerk", role="office_clerk", password=PASSWORD)
    page = await browser.get("/operations/users/wu.clerk")
    found = _VERSION.search(page.text)
    assert found is not None
    version = found.group(1)
    edit = {"name": "吴文书", "role": "office_head", "unit_id": "", "version": version}
    saved = await browser.post("/operations/users/wu.clerk", edit, token=token)
    assert saved.status_code == 303, saved.text
    again = {**edit, "name": "吴文书二"}  # on the version read before the first save
    stale = await browser.post("/operations/users/wu.clerk", again, token=token)
    assert stale.status_code == 409, stale.text
    assert 'id="user-edit-error"' in stale.text and "刷新" in stale.text
    assert 'value="吴文书二"' in stale.text  # nothing typed is lost


async def test_a_locked_user_is_unlocked_and_a_password_set(
    stack: ServicesStack, browser: Browser
) -> None:
    token = await _signed_in(stack, browser, "admin.lock", role="admin")
    await stack.person("lin.head", role="office_head", password=PASSWORD)
    visitor = stack.browser()
    try:
        for _ in range(MAX_FAILURES):
            await visitor.sign_in("lin.head", "不是这个密码-不是这个")
        assert (await visitor.sign_in("lin.head", PASSWORD)).status_code == 423
        page = await browser.get("/operations/users/lin.head")
        assert 'id="user-unlock"' in page.text and "已锁定" in page.text
        unlocked = await browser.post("/operations/users/lin.head/unlock", {}, token=token)
        assert unlocked.status_code == 303
        assert (await visitor.sign_in("lin.head", PASSWORD)).status_code == 303
        mismatch = {"password": "新的临时密码-一二三四", "password_again": "不一样的-一二三四"}
        wrong = await browser.post("/operations/users/lin.head/password", mismatch, token=token)
        assert wrong.status_code == 422 and "两次输入的密码不一致" in wrong.text
        short = {"password": "短", "password_again": "短"}
        policy = await browser.post("/operations/users/lin.head/password", short, token=token)
        assert policy.status_code == 422 and 'id="user-password-error"' in policy.text
        new = "新的临时密码-一二三四"
        fields = {"password": new, "password_again": new}
        done = await browser.post("/operations/users/lin.head/password", fields, token=token)
        assert done.status_code == 303
        # The reset ended the visitor's session; the new password must be changed first.
        assert (await visitor.get("/worklist")).status_code == 303
        forced = await visitor.sign_in("lin.head", new)
        assert forced.status_code == 200 and 'name="new_password"' in forced.text
    finally:
        await visitor.close()


async def test_the_calendar_takes_a_day_and_a_confirmation_from_the_admin_only(
    stack: ServicesStack, browser: Browser
) -> None:
    token = await _signed_in(stack, browser, "admin.calendar", role="admin")
    page = await browser.get("/operations/calendar", params={"year": "2027"})
    assert 'data-status="provisional"' in page.text
    day = {"year": "2027", "day": "2027-02-12", "kind": "holiday", "note": "国办发明电〔2026〕7号"}
    added = await browser.post("/operations/calendar/days", day, token=token)
    assert (added.status_code, added.headers["location"]) == (303, "/operations/calendar?year=2027")
    confirm = {"note": "国办发明电〔2026〕7号", "confirmed": "1"}
    assert (
        await browser.post("/operations/calendar/years/2027", confirm, token=token)
    ).status_code == 303
    after = await browser.get("/operations/calendar", params={"year": "2027"})
    assert 'data-status="confirmed"' in after.text and 'data-day="2027-02-12"' in after.text
    no_date = await browser.post("/operations/calendar/days", {**day, "day": ""}, token=token)
    assert no_date.status_code == 422 and 'id="calendar-day-error"' in no_date.text
    clerk = stack.browser()
    try:
        clerk_token = await _signed_in(stack, clerk, "clerk.calendar", role="office_clerk")
        shown = await clerk.get("/operations/calendar", params={"year": "2027"})
        assert 'id="calendar-day"' not in shown.text and "由系统管理员" in shown.text
        refused = await clerk.post("/operations/calendar/days", day, token=clerk_token)
        assert refused.status_code == 403 and 'id="calendar-day-error"' in refused.text
        assert "国办发明电〔2026〕7号" in refused.text  # typed kept
    finally:
        await clerk.close()


async def test_rules_refuse_a_pattern_re2_cannot_run(
    stack: ServicesStack, browser: Browser
) -> None:
    token = await _signed_in(stack, browser, "head.rules", role="office_head")
    page = await browser.get("/operations/rules")
    assert page.status_code == 200 and "保存规则" in page.text
    rules = (await stack.routing.client.get("/admin/rules", headers=_admin())).json()["rules"]
    bad = {**rules, "filler_patterns": [*rules["filler_patterns"], r"(a)\1"]}
    refused = await browser.post(
        "/operations/rules", {"rules": json.dumps(bad, ensure_ascii=False)}, token=token
    )
    assert refused.status_code == 422, refused.text
    assert 'id="rules-error"' in refused.text and "RE2" in refused.text
    assert "(a)\\\\1" in refused.text  # the typed rule set is still in the box
    not_json = await browser.post("/operations/rules", {"rules": "{"}, token=token)
    assert not_json.status_code == 422 and "不是有效的 JSON" in not_json.text
    good = {**rules, "note": "控制台测试保存"}
    saved = await browser.post(
        "/operations/rules", {"rules": json.dumps(good, ensure_ascii=False)}, token=token
    )
    assert saved.status_code == 303, saved.text
    stale = await browser.post(
        "/operations/rules", {"rules": json.dumps(good, ensure_ascii=False)}, token=token
    )
    assert stale.status_code == 409 and "刷新" in stale.text


def _admin() -> dict[str, str]:
    from tests.routing.admin_harness import admin

    return admin()
