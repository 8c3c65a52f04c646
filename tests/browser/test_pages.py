"""The main pages as people see them: each opens in Chromium with what it must show, and
its screenshot is saved under var/screenshots/ for a reviewer (the letter's forms, the
printed slip, the reply editor and the preview are taken in test_flow)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from devkit.actors.people import CLERK
from shared.auth import Role
from tests.browser.harness import LEAD_UNIT, MAX_FAILURES, Deployment, Desk

pytestmark = pytest.mark.timeout(300)
NewDesk = Callable[[], Awaitable[Desk]]


async def test_the_office_s_main_pages_show_the_letters(live: Deployment, desk: NewDesk) -> None:
    ids = await live.put_letters(3, prefix="pages")
    await live.assign(ids[0], unit_id=LEAD_UNIT)
    window = await desk()
    await window.sign_in(live.account(CLERK.user_id))
    page = window.page
    # 待办: the two letters still waiting for the clerk's slip, with their due badges.
    assert await window.open("/worklist") == 200
    rows = page.locator("#worklist tbody tr")
    listed = " ".join(await rows.all_inner_texts())
    assert ids[1] in listed and ids[2] in listed and ids[0] not in listed
    await window.shot("worklist")
    # The letters: all three, newest first.
    assert await window.open("/letters") == 200
    content = await page.content()
    assert all(letter_id in content for letter_id in ids)
    await window.shot("letters")
    # A letter: its text, the suggestion with its reasons, the slip form.
    assert await window.open(f"/letters/{ids[1]}") == 200
    assert await page.locator("section.suggestion").count() == 1
    assert await page.locator("#form-slip").count() == 1
    await window.shot("letter")
    # 报表: the month's figures and charts.
    assert await window.open("/reports") == 200
    assert await page.locator("#report-summary").count() == 1
    assert await page.locator("svg#chart-on-time").count() == 1
    await window.shot("reports")


async def test_operations_show_the_services_health_and_an_admin_lifts_a_lock(
    live: Deployment, desk: NewDesk
) -> None:
    account = await live.new_person("clerk.unlocked", role=Role.office_clerk)
    person = await desk()
    for _ in range(MAX_FAILURES):
        await person.fill_sign_in(account.user_id, "not-the-password")
    assert "账号已锁定" in await person.page.inner_text("[role=alert]")
    admin = await desk()
    await admin.sign_in(live.account("admin"))
    assert await admin.open("/operations") == 200
    health = admin.page.locator("#health tr[data-service]")
    assert await health.count() >= 4
    await admin.shot("operations")
    assert await admin.open(f"/operations/users/{account.user_id}") == 200
    await admin.shot("operations-user-locked")
    unlock = admin.page.locator("form#user-unlock")
    async with admin.page.expect_navigation():
        await unlock.locator("button[type=submit]").click()
    assert await admin.page.locator("form#user-unlock").count() == 0
    # Unlocked: the right password signs in again.
    await person.sign_in(account)
    assert "测试clerk.unlocked" in await person.page.inner_text("header.top")
