"""The reply's editor on a letter's page: the five parts, the live check, a missing part
refused, a stale version that keeps what was typed, a 403, and sending it for review."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from shared.auth import Role
from tests.console.letter_harness import (
    PARTS,
    RepliesStack,
    form_of,
    page_form,
    post,
    replies_stack,
)
from tests.routing.harness import LEAD, NOW

INCOMPLETE = {**PARTS, "investigation": "无", "policy_basis": "依规"}


@pytest.fixture(scope="module")
async def rs() -> AsyncIterator[RepliesStack]:
    async with replies_stack() as running_stack:
        yield running_stack


async def test_the_handler_saves_the_five_parts_and_sends_them_for_review(
    rs: RepliesStack,
) -> None:
    browser = await rs.signed_in("handler.qian", role="unit_handler", unit_id=LEAD)
    letter_id = await rs.in_handling("handler.qian")
    page, hidden = await page_form(browser, letter_id)
    editor = form_of(page, "reply")
    for name in ("unit", "handler", "investigation", "policy_basis", "result"):
        assert f'name="{name}"' in editor
    assert 'name="proposed_mode"' in editor and "保存答复" in editor
    assert 'hx-post="/letters/' in editor and "/reply/check" in editor
    assert 'data-form="send_review"' not in page  # nothing to send before a reply exists
    # The CSP stands: no inline script or style, htmx the only script.
    assert page.count("<script") == 1 and "style=" not in page and "<style" not in page

    saved = await post(
        browser, letter_id, "/reply", {**PARTS, "proposed_mode": "online"}, hidden=hidden
    )
    assert (saved.status_code, saved.headers["location"]) == (303, f"/letters/{letter_id}")
    letter = await rs.desk.letter(letter_id)
    assert letter["reply"]["parts"]["investigation"] == PARTS["investigation"]
    assert letter["reply"]["proposed_mode"] == "online"

    page, hidden = await page_form(browser, letter_id)
    assert PARTS["result"] in form_of(page, "reply")  # the editor shows the saved reply
    assert "送审" in form_of(page, "send_review")
    sent = await post(browser, letter_id, "/reply/send-for-review", {}, hidden=hidden)
    assert sent.status_code == 303, sent.text
    assert (await rs.desk.letter(letter_id))["state"] == "unit_head_review"
    page, _ = await page_form(browser, letter_id)
    assert 'data-form="reply"' not in page and PARTS["result"] in page  # shown, not edited


async def test_the_live_check_lists_the_missing_parts(rs: RepliesStack) -> None:
    browser = await rs.signed_in("handler.sun", role="unit_handler", unit_id=LEAD)
    letter_id = await rs.in_handling("handler.sun")
    _, hidden = await page_form(browser, letter_id)
    htmx = {"HX-Request": "true", "X-CSRF-Token": hidden["csrf_token"]}
    check = f"/letters/{letter_id}/reply/check"
    partial = await browser.client.post(check, data={"unit": "市场秩序处"}, headers=htmx)
    assert partial.status_code == 200, partial.text
    assert "<html" not in partial.text and 'id="reply-missing"' in partial.text
    for part in ("handler", "investigation", "policy_basis", "result"):
        assert f'data-part="{part}"' in partial.text
    assert 'data-part="unit"' not in partial.text
    assert "调查经过" in partial.text and "未填写" in partial.text

    placeholder = await browser.client.post(check, data=INCOMPLETE, headers=htmx)
    assert 'data-part="investigation"' in placeholder.text and "占位" in placeholder.text
    assert 'data-part="policy_basis"' in placeholder.text and "至少写6个字" in placeholder.text

    hidden_reason = {**PARTS, "proposed_mode": "not_public"}
    reason = await browser.client.post(check, data=hidden_reason, headers=htmx)
    assert 'data-part="not_public_reason"' in reason.text

    complete = await browser.client.post(check, data=PARTS, headers=htmx)
    assert "五要素齐全" in complete.text and "data-part" not in complete.text
    # The check is a form of the signed-in person's: without the CSRF token, refused.
    refused = await browser.client.post(check, data=PARTS, headers={"HX-Request": "true"})
    assert refused.status_code == 403


async def test_a_missing_part_is_refused_by_routing_and_shown_beside_the_editor(
    rs: RepliesStack,
) -> None:
    browser = await rs.signed_in("handler.zhou", role="unit_handler", unit_id=LEAD)
    letter_id = await rs.in_handling("handler.zhou")
    _, hidden = await page_form(browser, letter_id)
    fields = {**INCOMPLETE, "proposed_mode": "email"}
    refused = await post(browser, letter_id, "/reply", fields, hidden=hidden)
    assert refused.status_code == 422, refused.text
    editor = form_of(refused.text, "reply")
    assert 'class="form-error"' in editor and "调查经过" in editor and "政策依据" in editor
    assert 'data-part="investigation"' in refused.text
    assert 'data-part="policy_basis"' in refused.text
    assert PARTS["result"] in editor  # what was typed is kept
    assert '<option value="email" selected>' in editor
    assert (await rs.desk.letter(letter_id)).get("reply") is None


async def test_a_stale_version_keeps_the_typed_reply_and_shows_the_fresh_state(
    rs: RepliesStack,
) -> None:
    browser = await rs.signed_in("handler.wu", role="unit_handler", unit_id=LEAD)
    letter_id = await rs.in_handling("handler.wu")
    _, hidden = await page_form(browser, letter_id)
    # Meanwhile the unit head records another call to the writer: a new version.
    contact = {"at": NOW.isoformat(), "channel": "sms", "outcome": "reached"}
    await rs.desk.call(letter_id, "/contact-attempts", Role.unit_head, contact)
    typed = {**PARTS, "result": "已督促商家于十月二十日前全额退还预付卡余额，来信人表示满意。"}
    stale = await post(
        browser, letter_id, "/reply", {**typed, "proposed_mode": "online"}, hidden=hidden
    )
    assert stale.status_code == 409, stale.text
    editor = form_of(stale.text, "reply")
    assert "已被他人更新" in editor or "刚被他人更新" in editor
    assert typed["result"] in editor and typed["investigation"] in editor
    fresh = str((await rs.desk.letter(letter_id))["version"])
    assert f'name="version" value="{fresh}"' in editor
    assert fresh != hidden["version"]
    # Submitted again from the page as it now is, it is saved.
    again = await post(
        browser,
        letter_id,
        "/reply",
        {**typed, "proposed_mode": "online"},
        hidden={**hidden, "version": fresh},
    )
    assert again.status_code == 303, again.text
    assert (await rs.desk.letter(letter_id))["reply"]["parts"]["result"] == typed["result"]


async def test_a_handler_not_named_for_the_letter_gets_a_403_beside_the_form(
    rs: RepliesStack,
) -> None:
    await rs.person("handler.zheng", role="unit_handler", password=None, unit_id=LEAD)
    letter_id = await rs.in_handling("handler.zheng")
    other = await rs.signed_in("handler.wang", role="unit_handler", unit_id=LEAD)
    page, hidden = await page_form(other, letter_id)
    assert 'data-form="reply"' not in page  # routing leaves it to the named handler
    # Posted anyway (an old page, a crafted form): routing's 403, shown above the forms.
    fields = {**PARTS, "proposed_mode": "online"}
    refused = await post(other, letter_id, "/reply", fields, hidden=hidden)
    assert refused.status_code == 403, refused.text
    assert 'role="alert" data-status="403"' in refused.text
    assert "只有被指定的经办人员" in refused.text
    assert (await rs.desk.letter(letter_id)).get("reply") is None
    # An office clerk may not approve for the unit: routing's 403, shown as such.
    clerk = await rs.signed_in("clerk.feng", role="office_clerk")
    _, clerk_hidden = await page_form(clerk, letter_id)
    denied = await post(clerk, letter_id, "/reply/unit-approve", {}, hidden=clerk_hidden)
    assert denied.status_code == 403 and "无权" in denied.text
