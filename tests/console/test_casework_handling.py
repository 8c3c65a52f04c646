"""The rest of the casework on the letter page: the handler, calls to the writer, the
transfer letter, sensitivity, the referral and its decision, the timeline's audit trail."""

from __future__ import annotations

import html
from datetime import UTC, datetime

import pytest

from shared.auth import Role
from tests.console.harness import ConsoleStack
from tests.console.letter_harness import (
    assert_redirected,
    casework_form,
    error_beside,
    letter_page,
    post_form,
    signed_in,
)
from tests.routing.harness import HANDLER, LEAD, Desk

# NOW of the routing harness, in Beijing time as the form's datetime-local gives it.
CALLED_AT = "2026-10-12T09:28"


@pytest.fixture
async def assigned(stack: ConsoleStack) -> str:
    desk = Desk(stack.routing)
    letter_id = await desk.register()
    await desk.accept_direct(letter_id)
    return letter_id


async def test_the_unit_names_its_handler_and_records_calls(
    stack: ConsoleStack, assigned: str
) -> None:
    head = await signed_in(stack, "cw.unithead.a", role="unit_head", unit_id=LEAD)
    try:
        page = await letter_page(head, assigned)
        assert 'id="form-handler"' in page.text and "指定经办人" in page.text
        assert 'id="form-contact"' not in page.text  # not before the handler is named
        named = await post_form(head, assigned, "/handler", {"user_id": HANDLER, "name": "李华"})
        assert_redirected(named, assigned)
        desk = Desk(stack.routing)
        assert (await desk.letter(assigned))["state"] == "in_handling"

        late = await post_form(
            head,
            assigned,
            "/contact-attempts",
            {"at": "", "channel": "phone", "outcome": "reached"},
        )
        assert late.status_code == 422, late.text
        assert "填写的内容有误：时间" in error_beside(late.text, "contact")
        contact = casework_form((await letter_page(head, assigned)).text, "contact")
        assert 'type="datetime-local" name="at"' in contact and "北京时间" in contact
        call = {"at": CALLED_AT, "channel": "phone", "outcome": "no_answer", "note": "下午再打"}
        assert_redirected(await post_form(head, assigned, "/contact-attempts", call), assigned)
        attempts = (await desk.letter(assigned))["contact_attempts"]
        assert [(a["channel"], a["outcome"]) for a in attempts] == [("phone", "no_answer")]
        # Typed to the minute in Beijing time, kept to the minute as an instant.
        called = datetime.fromisoformat(attempts[0]["at"])
        assert called == datetime(2026, 10, 12, 1, 28, tzinfo=UTC)
        assert "2026-10-12 09:28" in (await head.get(f"/letters/{assigned}")).text

        invalid = {"reason": "来信人所留电话为空号。"}
        assert_redirected(await post_form(head, assigned, "/contact-invalid", invalid), assigned)
        shown = (await head.get(f"/letters/{assigned}")).text
        assert 'id="form-contact-invalid"' not in shown  # marked once
        for step in (
            "指定经办人：李华",
            "联系来信人（电话）：无人接听",
            "联系方式无效：来信人所留电话为空号。",
        ):
            assert step in shown
        # The unit sees no audit trail: it is the office's (the dossier).
        assert 'hx-get="/letters/' + assigned + '/audit"' not in shown
        trail = await head.get(f"/letters/{assigned}/audit", headers={"HX-Request": "true"})
        assert trail.status_code == 200 and "审计记录仅办公室可查看" in trail.text
    finally:
        await head.close()


async def test_a_unit_may_not_mark_sensitivity_and_the_office_does(
    stack: ConsoleStack, assigned: str
) -> None:
    head = await signed_in(stack, "cw.unithead.b", role="unit_head", unit_id=LEAD)
    clerk = await signed_in(stack, "cw.clerk.h", role="office_clerk")
    try:
        mark = {"sensitivity_privacy": "on", "reason": "涉及来信人家庭纠纷细节。"}
        refused = await post_form(head, assigned, "/sensitivity", mark)
        assert refused.status_code == 403, refused.text
        assert "无权" in error_beside(refused.text, "sensitivity")
        assert "涉及来信人家庭纠纷细节。" in refused.text  # what was typed is kept

        page = await letter_page(clerk, assigned)
        assert 'id="form-sensitivity"' in page.text and "标记敏感" in page.text
        none_chosen = await post_form(clerk, assigned, "/sensitivity", {"reason": "涉及隐私。"})
        assert none_chosen.status_code == 422
        assert "敏感情形" in error_beside(none_chosen.text, "sensitivity")
        assert_redirected(await post_form(clerk, assigned, "/sensitivity", mark), assigned)
        letter = await Desk(stack.routing).letter(assigned)
        assert letter["not_public"] is True and letter["sensitivity"]["sensitivities"] == [
            "privacy"
        ]
        shown = (await clerk.get(f"/letters/{assigned}")).text
        assert "标记敏感信息（个人隐私）" in shown
        trail = await clerk.get(f"/letters/{assigned}/audit", headers={"HX-Request": "true"})
        assert trail.status_code == 200 and "<table" in trail.text
        assert "标记敏感信息" in trail.text and "拟写处理单" in trail.text
    finally:
        await head.close()
        await clerk.close()


async def test_a_referral_is_proposed_refused_without_reason_then_approved(
    stack: ConsoleStack, assigned: str
) -> None:
    clerk = await signed_in(stack, "cw.clerk.i", role="office_clerk")
    leader = await signed_in(stack, "cw.leader.i", role="office_leader")
    try:
        page = await letter_page(leader, assigned)
        assert 'id="form-referral-decision"' not in page.text  # nothing to decide yet
        proposal = {"agency": "state_security", "reason": "来信涉嫌危害国家安全。"}
        assert_redirected(await post_form(clerk, assigned, "/referral", proposal), assigned)
        page = await letter_page(leader, assigned)
        assert "同意移交" in page.text and "不同意移交" in page.text
        assert "来信涉嫌危害国家安全。" in page.text
        bare = await post_form(leader, assigned, "/referral/decision", {"decision": "refuse"})
        assert bare.status_code == 422, bare.text
        assert "422" in error_beside(bare.text, "referral-decision")
        yes = {"decision": "approve", "comment": "同意移交。"}
        assert_redirected(await post_form(leader, assigned, "/referral/decision", yes), assigned)
        letter = await Desk(stack.routing).letter(assigned)
        assert letter["locked"] is True
        shown = (await leader.get(f"/letters/{assigned}")).text
        assert "已锁定" in shown and "已同意移交：同意移交。" in shown
    finally:
        await clerk.close()
        await leader.close()


async def test_a_forwarded_letter_prints_its_transfer_letter_and_records_it_sent(
    stack: ConsoleStack,
) -> None:
    desk = Desk(stack.routing)
    letter_id = await desk.register()
    slip = {
        "opinion": "来信反映的事项属市市场监管局职责，建议转阅。",
        "nature": "complaint",
        "accepted": True,
        "route": "forward",
        "recipient_id": "market-regulation",
    }
    await desk.call(letter_id, "/slip", Role.office_clerk, slip, method="PUT")
    await desk.call(letter_id, "/slip/submit", Role.office_clerk)
    await desk.call(letter_id, "/slip/approve", Role.office_head, {"comment": "同意转阅。"})
    clerk = await signed_in(stack, "cw.clerk.j", role="office_clerk")
    try:
        page = await letter_page(clerk, letter_id)
        assert "打印转办函" in page.text and 'id="form-transfer-sent"' in page.text
        printed = await clerk.get(f"/letters/{letter_id}/transfer/print")
        assert printed.status_code == 200, printed.text
        text = html.unescape(printed.text)
        assert "公开信箱来信转办函" in text and "重庆市市场监督管理局：" in text
        assert "沙坪坝区某健身房" in text and "王小明" in text and "待送出" in text
        missing = await post_form(clerk, letter_id, "/transfer/sent", {"reference": ""})
        assert missing.status_code == 422
        assert "文号或回执号" in error_beside(missing.text, "transfer-sent")
        sent = {"channel": "document_exchange", "reference": "渝商务办转〔2026〕15号"}
        assert_redirected(await post_form(clerk, letter_id, "/transfer/sent", sent), letter_id)
        transfer = (await desk.letter(letter_id))["transfer"]
        assert (transfer["status"], transfer["reference"]) == ("sent", "渝商务办转〔2026〕15号")
        again = html.unescape((await clerk.get(f"/letters/{letter_id}/transfer/print")).text)
        assert "公文交换，渝商务办转〔2026〕15号" in again
        shown = (await clerk.get(f"/letters/{letter_id}")).text
        assert 'id="form-transfer-sent"' not in shown
        assert "来信内容已送重庆市市场监督管理局" in html.unescape(shown)
    finally:
        await clerk.close()
    # A unit prints no transfer letter (routing: the office sends it).
    head = await signed_in(stack, "cw.unithead.j", role="unit_head", unit_id=LEAD)
    try:
        assert (await head.get(f"/letters/{letter_id}/transfer/print")).status_code == 403
    finally:
        await head.close()


async def test_print_pages_of_a_letter_without_a_slip_or_transfer_are_not_found(
    stack: ConsoleStack,
) -> None:
    letter_id = await Desk(stack.routing).register()
    clerk = await signed_in(stack, "cw.clerk.k", role="office_clerk")
    try:
        for tail in ("/slip/print", "/transfer/print"):
            page = await clerk.get(f"/letters/{letter_id}{tail}")
            assert page.status_code == 404, (tail, page.text)
        assert (await clerk.get("/letters/%2E%2E/slip/print")).status_code == 404
        post = await post_form(clerk, letter_id, "/slip/submit", {})
        assert post.status_code == 409  # nothing drafted: routing's state refuses
        assert "环节" in error_beside(post.text, "slip-submit")
    finally:
        await clerk.close()


async def test_the_timeline_follows_the_reply_through_the_units_approvals(
    stack: ConsoleStack, assigned: str
) -> None:
    await Desk(stack.routing).handle_to_submission(assigned)
    clerk = await signed_in(stack, "cw.clerk.l", role="office_clerk")
    try:
        page = await letter_page(clerk, assigned)
        steps = [
            "收到来信",
            "决定：直办，交承办单位办理",
            "指定经办人：李华",
            "处室负责人审核同意答复",
            "分管委领导审核同意答复",
            "答复报送办公室（第1稿）",
        ]
        where = [page.text.index(step) for step in steps]
        assert where == sorted(where)  # oldest first
    finally:
        await clerk.close()
