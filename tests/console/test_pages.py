"""待办, the letters' list and one letter, as routing answers each person's token."""

from __future__ import annotations

import pytest

from tests.console.harness import Browser, ConsoleStack
from tests.routing.harness import COMPLAINT, LEAD, OTHER, Desk


@pytest.fixture(scope="module")
async def letters(stack: ConsoleStack) -> dict[str, str]:
    """A letter just registered (the clerk's to draft) and one assigned to LEAD."""
    desk = Desk(stack.routing)
    registered = await desk.register()
    assigned = await desk.register()
    await desk.accept_direct(assigned)
    return {"registered": registered, "assigned": assigned}


async def _signed_in(stack: ConsoleStack, browser: Browser, user_id: str, **person: str) -> None:
    password = "山重水复疑无路-柳暗花明"
    await stack.person(user_id, password=password, **person)
    assert (await browser.sign_in(user_id, password)).status_code == 303


async def test_the_worklist_shows_the_clerks_letters_with_their_work(
    stack: ConsoleStack, browser: Browser, letters: dict[str, str]
) -> None:
    await _signed_in(stack, browser, "clerk.he", role="office_clerk")
    page = await browser.get("/worklist")
    assert page.status_code == 200, page.text
    assert f'href="/letters/{letters["registered"]}"' in page.text
    assert "预付卡商家跑路无法退款" in page.text
    assert "拟写处理单" in page.text  # the clerk's work on a registered letter
    assert "立项（受理意见）" in page.text  # the clock it runs on
    assert (await browser.get("/", follow_redirects=True)).url.path == "/worklist"


async def test_a_letter_shows_its_text_suggestion_and_allowed_actions(
    stack: ConsoleStack, browser: Browser, letters: dict[str, str]
) -> None:
    await _signed_in(stack, browser, "clerk.lu", role="office_clerk")
    page = await browser.get(f"/letters/{letters['registered']}")
    assert page.status_code == 200, page.text
    assert COMPLAINT[:20] in page.text
    assert "王小明" in page.text  # the office reads the writer's data
    assert "分类建议" in page.text and "按性质" in page.text and "可信度" in page.text
    assert "您现在可以办理" in page.text and "拟写处理单" in page.text


async def test_the_list_filters_and_answers_htmx_with_the_table_alone(
    stack: ConsoleStack, browser: Browser, letters: dict[str, str]
) -> None:
    await _signed_in(stack, browser, "clerk.tang", role="office_clerk")
    everything = await browser.get("/letters")
    assert everything.status_code == 200, everything.text
    assert letters["registered"] in everything.text and letters["assigned"] in everything.text
    assigned = await browser.get("/letters", params={"state": "assigned"})
    assert letters["assigned"] in assigned.text
    assert letters["registered"] not in assigned.text
    partial = await browser.get(
        "/letters",
        params={"state": "registered"},
        headers={"HX-Request": "true", "HX-Target": "letters-table"},
    )
    assert partial.status_code == 200
    assert "<html" not in partial.text and "<table" in partial.text
    assert letters["registered"] in partial.text and letters["assigned"] not in partial.text
    # A filter routing refuses: its 422, named in Chinese.
    wrong = await browser.get("/letters", params={"state": "no-such-state"})
    assert wrong.status_code == 422, wrong.text
    assert "填写的内容有误：办理状态" in wrong.text


async def test_a_unit_cannot_open_another_units_letter_by_its_address(
    stack: ConsoleStack, browser: Browser, letters: dict[str, str]
) -> None:
    await _signed_in(stack, browser, "handler.other", role="unit_handler", unit_id=OTHER)
    page = await browser.get(f"/letters/{letters['assigned']}")
    assert page.status_code == 404, page.text
    assert "找不到这一项" in page.text
    assert "预付卡" not in page.text
    listed = await browser.get("/letters")
    assert letters["assigned"] not in listed.text
    for wrong in ("%2E%2E", "a%2Fb", "x" * 65):
        assert (await browser.get(f"/letters/{wrong}")).status_code == 404
    # The lead unit's own handler opens it.
    own = stack.browser()
    try:
        await _signed_in(stack, own, "head.lead", role="unit_head", unit_id=LEAD)
        assert (await own.get(f"/letters/{letters['assigned']}")).status_code == 200
    finally:
        await own.close()


async def test_a_page_asks_for_a_sign_in_and_comes_back(
    stack: ConsoleStack, browser: Browser, letters: dict[str, str]
) -> None:
    target = f"/letters/{letters['registered']}"
    first = await browser.get(target)
    assert (first.status_code, first.headers["location"]) == (303, f"/login?next={target}")
    htmx = await browser.get(target, headers={"HX-Request": "true"})
    assert htmx.headers["hx-redirect"] == f"/login?next={target}"
    await stack.person("clerk.yang", role="office_clerk", password="千山鸟飞绝-万径人踪灭")
    token = await browser.token(f"/login?next={target}")
    fields = {"user_id": "clerk.yang", "password": "千山鸟飞绝-万径人踪灭", "next": target}
    answer = await browser.post("/login", fields, token=token)
    assert (answer.status_code, answer.headers["location"]) == (303, target)
    elsewhere = {**fields, "next": "//evil.example/"}
    again = await browser.post("/login", elsewhere, token=token)
    assert again.headers["location"] == "/worklist"


async def test_health_readiness_and_static_files(stack: ConsoleStack, browser: Browser) -> None:
    assert (await browser.get("/healthz")).json() == {"status": "ok", "service": "console"}
    ready = await browser.get("/readyz")
    assert (ready.status_code, ready.json()["checks"]) == (200, {"redis": True})
    htmx = await browser.get("/static/htmx-2.0.11.min.js")
    assert htmx.status_code == 200 and "htmx" in htmx.text
    assert (await browser.get("/static/console.css")).status_code == 200
    missing = await browser.get("/no-such-page")
    assert missing.status_code == 404 and "没有这个页面" in missing.text
