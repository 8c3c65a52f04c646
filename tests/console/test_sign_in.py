"""Signing in and out of the console: sessions in Redis behind a strict cookie, CSRF on
every form, routing's refusals in plain Chinese, and sign-out revoking the token."""

from __future__ import annotations

import httpx

from tests.console.harness import MAX_FAILURES, Browser, ConsoleStack
from tests.routing.admin_harness import admin


def _set_cookie(response: httpx.Response, name: str) -> str:
    found = [h for h in response.headers.get_list("set-cookie") if h.startswith(f"{name}=")]
    assert len(found) == 1, response.headers.get_list("set-cookie")
    return found[0]


async def test_a_sign_in_opens_a_session_behind_an_http_only_strict_cookie(
    stack: ConsoleStack, browser: Browser
) -> None:
    await stack.person("clerk.zhao", role="office_clerk", password="春眠不觉晓-处处闻啼鸟")
    answer = await browser.sign_in("clerk.zhao", "春眠不觉晓-处处闻啼鸟")
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == "/worklist"
    cookie = _set_cookie(answer, "console_session").lower()
    assert "httponly" in cookie
    assert "samesite=strict" in cookie
    assert "path=/" in cookie
    assert "secure" not in cookie  # a test deployment; production: tests/console/test_settings
    session = await stack.session_of(browser)
    assert session is not None
    assert (session["user_id"], session["role"]) == ("clerk.zhao", "office_clerk")
    # The token stays on the server: neither the cookie nor the page carries it.
    page = await browser.get("/worklist")
    assert page.status_code == 200, page.text
    assert session["token"] not in cookie and session["token"] not in page.text
    assert "测试clerk.zhao" in page.text and "办公室工作人员" in page.text
    assert page.headers["cache-control"] == "no-store"
    assert "script-src 'self'" in page.headers["content-security-policy"]


async def test_a_wrong_password_is_told_and_opens_no_session(
    stack: ConsoleStack, browser: Browser
) -> None:
    await stack.person("clerk.qian", role="office_clerk", password="白日依山尽-黄河入海流")
    for user_id in ("clerk.qian", "nobody.here", "Bad Name!"):
        answer = await browser.sign_in(user_id, "not-the-password")
        assert answer.status_code == 401, answer.text
        assert "用户名或密码错误" in answer.text
        assert "console_session" not in browser.client.cookies
    assert (await browser.get("/worklist")).headers["location"] == "/login?next=/worklist"


async def test_a_password_an_admin_set_is_changed_before_signing_in(
    stack: ConsoleStack, browser: Browser
) -> None:
    await stack.person("clerk.sun", role="office_clerk", password=None)
    first = "管理员设置的临时密码"
    answer = await browser.sign_in("clerk.sun", first)
    assert answer.status_code == 200, answer.text
    assert "首次登录前，请先设置您自己的密码" in answer.text
    assert 'action="/password"' in answer.text
    assert "console_session" not in browser.client.cookies
    token = await browser.token("/password")
    fields = {"user_id": "clerk.sun", "old_password": first}
    mismatch = {**fields, "new_password": "床前明月光-疑是地上霜", "new_password_again": "别的"}
    refused = await browser.post("/password", mismatch, token=token)
    assert (refused.status_code, "两次输入的新密码不一致" in refused.text) == (422, True)
    short = {**fields, "new_password": "short", "new_password_again": "short"}
    refused = await browser.post("/password", short, token=token)
    assert refused.status_code == 422, refused.text
    assert "新密码至少 10 个字符" in refused.text
    chosen = "床前明月光-疑是地上霜"
    good = {**fields, "new_password": chosen, "new_password_again": chosen}
    changed = await browser.post("/password", good, token=token)
    assert changed.status_code == 303, changed.text
    assert (await browser.get("/worklist")).status_code == 200
    # The new password signs in from now on, the admin's no longer.
    other = stack.browser()
    try:
        assert (await other.sign_in("clerk.sun", first)).status_code == 401
        assert (await other.sign_in("clerk.sun", "床前明月光-疑是地上霜")).status_code == 303
    finally:
        await other.close()


async def test_a_locked_account_is_told_so_with_when_it_opens(
    stack: ConsoleStack, browser: Browser
) -> None:
    await stack.person("clerk.li", role="office_clerk", password="举头望明月-低头思故乡")
    answers = [await browser.sign_in("clerk.li", "wrong-password") for _ in range(MAX_FAILURES)]
    assert [a.status_code for a in answers] == [401] * (MAX_FAILURES - 1) + [423]
    locked = await browser.sign_in("clerk.li", "举头望明月-低头思故乡")
    assert locked.status_code == 423, locked.text
    assert "账号已锁定" in locked.text and "后再试" in locked.text
    assert "console_session" not in browser.client.cookies


async def test_a_post_without_its_csrf_token_is_refused(
    stack: ConsoleStack, browser: Browser
) -> None:
    await stack.person("clerk.wu", role="office_clerk", password="海内存知己-天涯若比邻")
    # Signing in: the form's token must match the browser's form cookie.
    credentials = {"user_id": "clerk.wu", "password": "海内存知己-天涯若比邻"}
    assert (await browser.post("/login", credentials, token=None)).status_code == 403
    await browser.token("/login")  # the cookie is set, the field still missing
    assert (await browser.post("/login", credentials, token=None)).status_code == 403
    assert (await browser.post("/login", credentials, token="forged")).status_code == 403
    assert (await browser.sign_in("clerk.wu", "海内存知己-天涯若比邻")).status_code == 303
    # Signed in: the session's token, in the form or in htmx's header.
    refused = await browser.post("/logout", {}, token=None)
    assert refused.status_code == 403, refused.text
    assert "页面已过期" in refused.text
    assert (await browser.post("/logout", {}, token="forged")).status_code == 403
    not_a_form = await browser.client.post("/logout", json={"csrf_token": "x"})
    assert not_a_form.status_code == 400
    assert (await browser.get("/worklist")).status_code == 200  # still signed in
    session = await stack.session_of(browser)
    assert session is not None
    by_header = await browser.client.post(
        "/logout",
        data={"x": "1"},
        headers={"X-CSRF-Token": session["csrf"], "HX-Request": "true"},
    )
    assert by_header.status_code == 303, by_header.text


async def test_sign_out_revokes_the_token_and_ends_the_session(
    stack: ConsoleStack, browser: Browser
) -> None:
    await stack.person("clerk.zheng", role="office_clerk", password="锄禾日当午-汗滴禾下土")
    assert (await browser.sign_in("clerk.zheng", "锄禾日当午-汗滴禾下土")).status_code == 303
    session = await stack.session_of(browser)
    assert session is not None
    bearer = {"Authorization": f"Bearer {session['token']}"}
    assert (await stack.routing.client.get("/letters", headers=bearer)).status_code == 200
    csrf = await browser.token("/worklist")
    cookie_before = browser.client.cookies["console_session"]
    out = await browser.post("/logout", {}, token=csrf)
    assert (out.status_code, out.headers["location"]) == (303, "/login?notice=signed_out")
    assert "max-age=0" in _set_cookie(out, "console_session").lower()
    reused = await stack.routing.client.get("/letters", headers=bearer)
    assert (reused.status_code, reused.json()["message"]) == (401, "token revoked")
    assert await stack.session_of(browser) is None
    # The old cookie, replayed, opens nothing.
    replay = stack.browser()
    try:
        replay.client.cookies.set("console_session", cookie_before)
        assert (await replay.get("/worklist")).status_code == 303
    finally:
        await replay.close()
    notice = await browser.get("/login?notice=signed_out")
    assert "您已安全退出" in notice.text


async def test_a_token_routing_refuses_ends_the_session(
    stack: ConsoleStack, browser: Browser
) -> None:
    await stack.person("clerk.feng", role="office_clerk", password="离离原上草-一岁一枯荣")
    assert (await browser.sign_in("clerk.feng", "离离原上草-一岁一枯荣")).status_code == 303
    # An admin resets the password: routing revokes the person's sign-in sessions.
    reset = await stack.routing.client.put(
        "/admin/users/clerk.feng/password",
        json={"password": "另一个临时密码-够长"},
        headers=admin(),
    )
    assert reset.status_code == 200, reset.text
    page = await browser.get("/worklist")
    assert (page.status_code, page.headers["location"]) == (303, "/login?notice=expired")
    assert await stack.session_of(browser) is None
    assert "登录已失效" in (await browser.get("/login?notice=expired")).text
