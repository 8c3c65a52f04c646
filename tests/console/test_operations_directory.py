"""运维 · 单位: the admin adds a unit, changes it on the version read, deactivates and
reactivates it through the console's forms; routing's refusals (422, 409, 403) are shown
beside the form in Chinese with what was typed kept."""

from __future__ import annotations

import re

from tests.console.harness import Browser, ConsoleStack

PASSWORD = "白日依山尽-黄河入海流"
_VERSION = re.compile(r'name="version" value="(\d+)"')
NEW = {
    "id": "test-archives",
    "name": "档案测试处",
    "kind": "department",
    "topics": "档案管理\n档案查阅",
    "keywords": "档案、查档，借阅",
    "aliases": "档案处",
}


async def _signed_in(stack: ConsoleStack, browser: Browser, user_id: str, role: str) -> str:
    await stack.person(user_id, role=role, password=PASSWORD)
    assert (await browser.sign_in(user_id, PASSWORD)).status_code == 303
    return await browser.token("/worklist")


def _version(text: str, form_id: str) -> str:
    form = text.split(f'id="{form_id}"')[1].split("</form>")[0]
    found = _VERSION.search(form)
    assert found is not None, form
    return found.group(1)


async def test_the_admin_adds_a_unit_and_a_refusal_keeps_what_was_typed(
    stack: ConsoleStack, browser: Browser
) -> None:
    token = await _signed_in(stack, browser, "admin.units", "admin")
    page = await browser.get("/operations/units")
    assert page.status_code == 200 and 'id="unit-new"' in page.text
    # No topics: routing's 422, named as the form names the field, the rest kept.
    no_topics = await browser.post("/operations/units", {**NEW, "topics": " \n"}, token=token)
    assert no_topics.status_code == 422, no_topics.text
    assert 'id="unit-new-error"' in no_topics.text and "职责（至少一项" in no_topics.text
    assert 'value="test-archives"' in no_topics.text and 'value="档案测试处"' in no_topics.text
    assert "档案、查档，借阅" in no_topics.text
    made = await browser.post("/operations/units", NEW, token=token)
    assert made.status_code == 303, made.text
    assert made.headers["location"] == "/operations/units/test-archives?done=created"
    unit = await browser.get(made.headers["location"])
    assert 'id="unit-edit"' in unit.text and "已添加单位" in unit.text
    assert "档案管理\n档案查阅" in unit.text and 'value="档案处"' in unit.text
    stored = await stack.routing.client.get(
        "/admin/directory/units/test-archives", headers=_admin()
    )
    body = stored.json()
    assert body["topics"] == ["档案管理", "档案查阅"]
    assert body["keywords"] == ["档案", "查档", "借阅"] and body["kind"] == "department"
    # The same id again: a 409 that says why, not "refresh".
    again = await browser.post("/operations/units", {**NEW, "name": "另一个处"}, token=token)
    assert again.status_code == 409 and "已有这个编号的单位" in again.text
    assert 'value="另一个处"' in again.text
    listed = await browser.get("/operations/units")
    assert 'data-unit="test-archives"' in listed.text
    # Without its CSRF token the form is refused.
    assert (await browser.post("/operations/units", NEW, token=None)).status_code == 403


async def test_a_unit_is_edited_on_its_version_and_a_stale_edit_is_kept(
    stack: ConsoleStack, browser: Browser
) -> None:
    token = await _signed_in(stack, browser, "admin.unit.edit", "admin")
    made = await browser.post("/operations/units", {**NEW, "id": "test-edit"}, token=token)
    assert made.status_code == 303, made.text
    page = await browser.get("/operations/units/test-edit")
    version = _version(page.text, "unit-edit")
    edit = {**NEW, "name": "档案与信息处", "kind": "affiliated", "version": version}
    edit.pop("id")
    saved = await browser.post("/operations/units/test-edit", edit, token=token)
    assert (saved.status_code, saved.headers["location"]) == (
        303,
        "/operations/units/test-edit?done=saved",
    )
    shown = await browser.get("/operations/units/test-edit")
    assert "档案与信息处" in shown.text and "委属单位" in shown.text
    stale = await browser.post(
        "/operations/units/test-edit", {**edit, "name": "档案处二"}, token=token
    )
    assert stale.status_code == 409, stale.text
    assert 'id="unit-edit-error"' in stale.text and "刷新" in stale.text
    assert 'value="档案处二"' in stale.text  # nothing typed is lost


async def test_a_unit_is_deactivated_and_reactivated_but_not_the_default_one(
    stack: ConsoleStack, browser: Browser
) -> None:
    token = await _signed_in(stack, browser, "admin.unit.active", "admin")
    assert (
        await browser.post("/operations/units", {**NEW, "id": "test-active"}, token=token)
    ).status_code == 303
    page = await browser.get("/operations/units/test-active")
    version = _version(page.text, "unit-active")
    off = await browser.post(
        "/operations/units/test-active/deactivate", {"version": version}, token=token
    )
    assert off.headers["location"] == "/operations/units/test-active?done=deactivated"
    page = await browser.get("/operations/units/test-active")
    assert "已停用" in page.text and "/operations/units/test-active/reactivate" in page.text
    # The version read before deactivating is stale now.
    stale = await browser.post(
        "/operations/units/test-active/reactivate", {"version": version}, token=token
    )
    assert stale.status_code == 409 and 'id="unit-active-error"' in stale.text
    on = await browser.post(
        "/operations/units/test-active/reactivate",
        {"version": _version(page.text, "unit-active")},
        token=token,
    )
    assert on.headers["location"] == "/operations/units/test-active?done=reactivated"
    # The classifier's default unit stays active: routing's 409 says why.
    rules = (await stack.routing.client.get("/admin/rules", headers=_admin())).json()["rules"]
    default = rules["competence"]["default_unit_id"]
    page = await browser.get(f"/operations/units/{default}")
    refused = await browser.post(
        f"/operations/units/{default}/deactivate",
        {"version": _version(page.text, "unit-active")},
        token=token,
    )
    assert refused.status_code == 409 and "默认承办单位" in refused.text


async def test_the_office_reads_the_directory_and_may_not_change_it(
    stack: ConsoleStack, browser: Browser
) -> None:
    token = await _signed_in(stack, browser, "clerk.units", "office_clerk")
    page = await browser.get("/operations/units")
    assert page.status_code == 200 and 'id="unit-new"' not in page.text
    assert "由系统管理员维护" in page.text
    refused = await browser.post("/operations/units", {**NEW, "id": "test-clerk"}, token=token)
    assert refused.status_code == 403, refused.text
    assert 'id="unit-new-error"' in refused.text and "无权" in refused.text
    assert 'value="test-clerk"' in refused.text  # typed kept
    unit = await browser.get("/operations/units/market-order")
    assert unit.status_code == 200 and 'id="unit-edit"' not in unit.text


def _admin() -> dict[str, str]:
    from tests.routing.admin_harness import admin

    return admin()
