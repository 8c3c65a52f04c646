"""The slip on the letter page: draft (accept or refuse), submit, approve, send back, print,
with routing's 422, 409 and 403 shown beside the form and the CSRF check."""

from __future__ import annotations

import html

import pytest

from shared.auth import Role
from tests.console.harness import ConsoleStack
from tests.console.letter_harness import (
    assert_redirected,
    error_beside,
    letter_page,
    page_form,
    post_form,
    signed_in,
    slip_fields,
)
from tests.routing.harness import Desk


async def _state(stack: ConsoleStack, letter_id: str) -> dict[str, object]:
    return await Desk(stack.routing).letter(letter_id)


@pytest.fixture
async def registered(stack: ConsoleStack) -> str:
    return await Desk(stack.routing).register()


async def test_the_clerk_accepts_submits_and_the_head_approves_and_prints(
    stack: ConsoleStack, registered: str
) -> None:
    clerk = await signed_in(stack, "cw.clerk.a", role="office_clerk")
    head = await signed_in(stack, "cw.head.a", role="office_head")
    try:
        page = await letter_page(clerk, registered)
        # The slip form, prefilled from the suggestion, its buttons named in Chinese.
        assert 'id="form-slip"' in page.text and "保存处理单" in page.text
        assert '<option value="complaint" selected>' in page.text
        assert 'name="route" value="direct" checked' in page.text
        assert "/slip/units?" in page.text  # htmx loads the whole directory
        units = await clerk.get(
            f"/letters/{registered}/slip/units",
            params={"lead_unit_id": "market-order"},
            headers={"HX-Request": "true"},
        )
        assert units.status_code == 200 and "<html" not in units.text
        assert '<option value="market-order" selected>' in units.text
        assert "消费促进处" in units.text and "重庆市人民政府公开信箱办公室" in units.text
        assert "hx-trigger" not in units.text  # loaded once

        assert_redirected(await post_form(clerk, registered, "/slip", slip_fields()), registered)
        letter = await _state(stack, registered)
        assert letter["state"] == "slip_drafted"
        assert isinstance(letter["slip"], dict)
        assert letter["slip"]["lead_unit_id"] == "market-order"
        assert letter["slip"]["assisting_unit_ids"] == ["consumption"]
        page = await letter_page(clerk, registered)
        assert "提交审核" in page.text and 'id="print-slip"' in page.text
        assert_redirected(await post_form(clerk, registered, "/slip/submit", {}), registered)
        assert (await _state(stack, registered))["state"] == "slip_submitted"

        page = await letter_page(head, registered)
        assert "审核通过" in page.text and 'id="form-slip-send-back"' in page.text
        assert 'id="form-slip"' not in page.text  # the head does not draft
        answer = await post_form(head, registered, "/slip/approve", {"comment": "同意直办。"})
        assert_redirected(answer, registered)
        assert (await _state(stack, registered))["state"] == "assigned"

        printed = await head.get(f"/letters/{registered}/slip/print")
        assert printed.status_code == 200, printed.text
        text = html.unescape(printed.text)
        assert "市商务委公开信箱（电话）处理单" in text and "内部资料 注意保密" in text
        assert "反映预付卡商家跑路，属我委职责，建议直办。" in text
        assert "预付卡商家跑路，请求退款。" in text and "王小明" in text
        assert "牵头单位：市场秩序处" in text and "消费促进处" in text
        assert "同意：同意直办。" in text
        assert '<link rel="stylesheet" href="/static/console.css">' in printed.text
        assert "<style" not in printed.text and "<script" not in printed.text  # the CSP holds
        css = (await head.get("/static/console.css")).text
        assert "@page sheet { size: A4" in css and "@media print" in css

        timeline = (await head.get(f"/letters/{registered}")).text
        assert "办理经过" in timeline and "拟写处理单" in timeline and "审核同意处理单" in timeline
    finally:
        await clerk.close()
        await head.close()


async def test_the_clerk_refuses_with_an_art9_reason(stack: ConsoleStack, registered: str) -> None:
    clerk = await signed_in(stack, "cw.clerk.b", role="office_clerk")
    try:
        fields = slip_fields(
            accepted="false", not_accepted_reason="advertising", opinion="来信为推销广告。"
        )
        assert_redirected(await post_form(clerk, registered, "/slip", fields), registered)
        slip = (await _state(stack, registered))["slip"]
        assert isinstance(slip, dict)
        assert (slip["accepted"], slip["not_accepted_reason"]) == (False, "advertising")
        page = await letter_page(clerk, registered)
        assert 'name="accepted" value="false" checked' in page.text
        assert '<option value="advertising" selected>' in page.text
    finally:
        await clerk.close()


async def test_a_422_is_shown_beside_the_slip_form_with_what_was_typed(
    stack: ConsoleStack, registered: str
) -> None:
    clerk = await signed_in(stack, "cw.clerk.c", role="office_clerk")
    try:
        fields = slip_fields(opinion="   ", summary="我写的摘要不能丢")
        answer = await post_form(clerk, registered, "/slip", fields)
        assert answer.status_code == 422, answer.text
        beside = error_beside(answer.text, "slip")
        assert "422" in beside and "填写的内容有误：受理意见" in beside
        assert "受理意见：不能为空" in beside  # routing's reason, in words
        assert answer.text.index('id="error-slip"') > answer.text.index('id="form-slip"')
        assert "我写的摘要不能丢" in answer.text
        assert '<option value="market-order" selected>' in answer.text  # the directory's
        assert (await _state(stack, registered))["state"] == "registered"
    finally:
        await clerk.close()


async def test_a_stale_version_shows_the_fresh_letter_and_keeps_the_typed_text(
    stack: ConsoleStack, registered: str
) -> None:
    clerk = await signed_in(stack, "cw.clerk.d", role="office_clerk")
    try:
        _, hidden = await page_form(clerk, registered)
        stale = hidden["version"]
        # Someone else drafts meanwhile.
        desk = Desk(stack.routing)
        other = {
            "opinion": "他人先拟的意见。",
            "nature": "complaint",
            "accepted": True,
            "route": "direct",
            "lead_unit_id": "market-order",
        }
        await desk.call(registered, "/slip", Role.office_clerk, other, method="PUT")
        mine = slip_fields(opinion="我的受理意见，一字不能丢。")
        answer = await post_form(clerk, registered, "/slip", mine, version=stale)
        assert answer.status_code == 409, answer.text
        beside = error_beside(answer.text, "slip")
        assert "409" in beside and "已保留" in beside
        assert "我的受理意见，一字不能丢。" in answer.text
        assert "他人先拟的意见。" in answer.text  # the fresh letter's slip
        fresh = (await _state(stack, registered))["version"]
        assert f'name="version" value="{fresh}"' in answer.text
        # Resubmitted as shown, it goes through.
        again = await post_form(clerk, registered, "/slip", mine, version=str(fresh))
        assert_redirected(again, registered)
        slip = (await _state(stack, registered))["slip"]
        assert isinstance(slip, dict) and slip["opinion"] == "我的受理意见，一字不能丢。"
    finally:
        await clerk.close()


async def test_a_send_back_without_a_reason_and_a_role_that_may_not_act(
    stack: ConsoleStack, registered: str
) -> None:
    clerk = await signed_in(stack, "cw.clerk.e", role="office_clerk")
    head = await signed_in(stack, "cw.head.e", role="office_head")
    try:
        assert_redirected(await post_form(clerk, registered, "/slip", slip_fields()), registered)
        assert_redirected(await post_form(clerk, registered, "/slip/submit", {}), registered)
        empty = await post_form(head, registered, "/slip/send-back", {"comment": ""})
        assert empty.status_code == 422, empty.text
        assert "意见：必须填写" in error_beside(empty.text, "slip-send-back")
        # The clerk may not approve her own slip: routing's 403, in words, on the page.
        refused = await post_form(clerk, registered, "/slip/approve", {"comment": "同意"})
        assert refused.status_code == 403, refused.text
        assert "无权" in error_beside(refused.text, "slip-approve")
        assert (await _state(stack, registered))["state"] == "slip_submitted"
        back = await post_form(head, registered, "/slip/send-back", {"comment": "请补充摘要。"})
        assert_redirected(back, registered)
        assert (await _state(stack, registered))["state"] == "slip_sent_back"
    finally:
        await clerk.close()
        await head.close()


async def test_the_casework_forms_refuse_a_post_without_the_csrf_token(
    stack: ConsoleStack, registered: str
) -> None:
    clerk = await signed_in(stack, "cw.clerk.f", role="office_clerk")
    try:
        _, hidden = await page_form(clerk, registered)
        fields = {**slip_fields(), "version": hidden["version"]}
        for tail in ("/slip", "/slip/submit", "/handler", "/sensitivity", "/referral"):
            missing = await clerk.post(f"/letters/{registered}{tail}", fields, token=None)
            assert missing.status_code == 403, (tail, missing.text)
            assert "页面已过期" in missing.text
        wrong = await clerk.post(f"/letters/{registered}/slip", fields, token="forged")
        assert wrong.status_code == 403
        assert (await _state(stack, registered))["state"] == "registered"
    finally:
        await clerk.close()
