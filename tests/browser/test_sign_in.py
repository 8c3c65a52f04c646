"""Signing in through the pages: sessions, lockout, CSRF refusal, and one unit's handler
kept away from another unit's letter, in Debian's Chromium against the real services."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from devkit.actors.people import CLERK
from shared.auth import Role
from tests.browser.harness import (
    LEAD_UNIT,
    MAX_FAILURES,
    OTHER_UNIT,
    Deployment,
    Desk,
)

pytestmark = pytest.mark.timeout(300)
NewDesk = Callable[[], Awaitable[Desk]]


async def test_a_clerk_signs_in_sees_the_worklist_and_signs_out(
    live: Deployment, desk: NewDesk
) -> None:
    window = await desk()
    assert await window.open("/worklist") == 200  # the sign-in form, after the redirect
    assert window.page.url.startswith(live.console + "/login?next=/worklist")
    await window.shot("sign-in")
    await window.sign_in(live.account(CLERK.user_id))
    header = window.page.locator("header.top")
    assert CLERK.name in await header.inner_text()
    cookies = {c["name"]: c for c in await window.context.cookies()}
    session = cookies["console_session"]
    assert (session["httpOnly"], session["sameSite"]) == (True, "Strict")
    async with window.page.expect_navigation():
        await window.page.click("form[action='/logout'] button[type=submit]")
    assert window.page.url == live.console + "/login?notice=signed_out"
    assert "您已安全退出" in await window.page.inner_text("main")
    # Signed out: 待办 asks for the sign-in again.
    await window.open("/worklist")
    assert window.page.url.startswith(live.console + "/login")


async def test_repeated_wrong_passwords_lock_the_account(live: Deployment, desk: NewDesk) -> None:
    account = await live.new_person("clerk.locked", role=Role.office_clerk)
    window = await desk()
    for attempt in range(1, MAX_FAILURES + 1):
        await window.fill_sign_in(account.user_id, "not-the-password")
        alert = await window.page.inner_text("[role=alert]")
        if attempt < MAX_FAILURES:
            assert "用户名或密码错误" in alert
        else:
            assert "账号已锁定" in alert, alert
    # Locked: even the right password opens nothing now.
    await window.fill_sign_in(account.user_id, account.password)
    assert "账号已锁定" in await window.page.inner_text("[role=alert]")
    assert window.page.url.startswith(live.console + "/login")
    assert "console_session" not in {c["name"] for c in await window.context.cookies()}
    await window.shot("sign-in-locked")


async def test_a_form_without_its_csrf_token_or_with_a_forged_one_is_refused(
    live: Deployment, desk: NewDesk
) -> None:
    window = await desk()
    await window.sign_in(live.account(CLERK.user_id))
    page = window.page
    for forged in ("", "forged-token"):
        await window.open("/worklist")
        # The real sign-out form, its hidden token emptied or replaced before sending.
        await page.eval_on_selector(
            "form[action='/logout'] input[name=csrf_token]",
            "(input, value) => { input.value = value; }",
            forged,
        )
        async with page.expect_navigation() as navigation:
            await page.click("form[action='/logout'] button[type=submit]")
        response = await navigation.value
        assert response is not None
        assert response.status == 403
        assert "页面已过期" in await page.inner_text("main")
    # Refused, so still signed in: 待办 opens.
    assert await window.open("/worklist") == 200
    assert page.url == live.console + "/worklist"
    # The sign-in form is guarded the same way before anybody is signed in.
    other = await desk()
    await other.open("/login")
    await other.page.fill("input[name=user_id]", CLERK.user_id)
    await other.page.fill("input[name=password]", live.account(CLERK.user_id).password)
    await other.page.eval_on_selector(
        "form[action='/login'] input[name=csrf_token]", "input => input.remove()"
    )
    async with other.page.expect_navigation() as navigation:
        await other.page.click("form[action='/login'] button[type=submit]")
    response = await navigation.value
    assert response is not None and response.status == 403
    assert "console_session" not in {c["name"] for c in await other.context.cookies()}


async def test_a_unit_handler_cannot_reach_another_units_letter_by_url(
    live: Deployment, desk: NewDesk
) -> None:
    (letter_id,) = await live.put_letters(1, prefix="isolation")
    letter = await live.assign(letter_id, unit_id=LEAD_UNIT)
    assert letter["state"] == "assigned", letter["state"]
    title = str(letter["title"])
    ours = live.cast.staff[LEAD_UNIT][0]
    theirs = live.cast.staff[OTHER_UNIT][0]
    # The lead unit's handler opens it …
    window = await desk()
    await window.sign_in(live.account(ours.user_id))
    assert await window.open(f"/letters/{letter_id}") == 200
    assert title in await window.page.inner_text("main")
    await window.shot("letter-unit-handler")
    # … the other unit's handler, typing its address, gets a refusal that shows nothing of it.
    stranger = await desk()
    await stranger.sign_in(live.account(theirs.user_id))
    status = await stranger.open(f"/letters/{letter_id}")
    assert status in (403, 404), status
    shown = await stranger.page.inner_text("body")
    assert title not in shown
    assert str(letter["text"])[:20] not in shown
    await stranger.shot("letter-other-unit-refused")
    # Nor is it on their list or in their 待办.
    await stranger.open("/letters")
    assert letter_id not in await stranger.page.content()
    await stranger.open("/worklist")
    assert letter_id not in await stranger.page.content()
