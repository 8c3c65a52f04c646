"""The reply's way through the unit's approvals to the office, the office's review chain
with its Art. 26 returns, and extensions (Art. 19), each through the letter's page."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from shared.auth import Role
from tests.console.letter_harness import (
    RepliesStack,
    form_of,
    letter_page,
    page_form,
    post,
    replies_stack,
)
from tests.routing.harness import LEAD, REPLY


@pytest.fixture(scope="module")
async def rs() -> AsyncIterator[RepliesStack]:
    async with replies_stack() as running_stack:
        yield running_stack


async def test_the_unit_head_sends_back_then_the_unit_approves_and_submits_to_the_office(
    rs: RepliesStack,
) -> None:
    handler = await rs.signed_in("handler.lin", role="unit_handler", unit_id=LEAD)
    head = await rs.signed_in("head.lin", role="unit_head", unit_id=LEAD)
    leader = await rs.signed_in("leader.lin", role="unit_leader", unit_id=LEAD)
    letter_id = await rs.in_handling("handler.lin")
    await rs.desk.call(letter_id, "/reply", Role.unit_head, REPLY, method="PUT")
    await rs.desk.call(letter_id, "/reply/send-for-review", Role.unit_head)

    page, hidden = await page_form(head, letter_id)
    assert "审核通过" in form_of(page, "unit_approve")
    assert "退回" in form_of(page, "unit_send_back")
    assert REPLY["investigation"] in page  # the reply the head reviews
    # Sent back without saying why: routing's 422, named beside the form.
    empty = await post(head, letter_id, "/reply/unit-send-back", {"comment": " "}, hidden=hidden)
    assert empty.status_code == 422, empty.text
    assert "填写的内容有误：意见" in form_of(empty.text, "unit_send_back")
    back = {"comment": "请补充实地核查的时间和结论。"}
    sent_back = await post(head, letter_id, "/reply/unit-send-back", back, hidden=hidden)
    assert sent_back.status_code == 303, sent_back.text
    assert (await rs.desk.letter(letter_id))["state"] == "in_handling"

    _, hidden = await page_form(handler, letter_id)
    assert (
        await post(handler, letter_id, "/reply/send-for-review", {}, hidden=hidden)
    ).status_code == 303
    _, hidden = await page_form(head, letter_id)
    approved = await post(
        head, letter_id, "/reply/unit-approve", {"comment": "同意。"}, hidden=hidden
    )
    assert approved.status_code == 303, approved.text
    _, hidden = await page_form(leader, letter_id)
    assert (
        await post(leader, letter_id, "/reply/unit-approve", {}, hidden=hidden)
    ).status_code == 303
    assert (await rs.desk.letter(letter_id))["state"] == "unit_approved"

    page, hidden = await page_form(handler, letter_id)
    submit = form_of(page, "submit")
    assert "报送办公室" in submit and 'name="informed_channel"' in submit
    # When the writer was told: date and time to the minute, in Beijing time (a few minutes
    # past the hand-over, within routing's allowance for clocks that differ).
    assert 'type="datetime-local" id="submit-informed_at"' in submit and "北京时间" in submit
    informed = {
        "informed_channel": "phone",
        "informed_at": "2026-10-12T09:33",
        "informed_note": "已电话告知来信人处理结果。",
    }
    submitted = await post(handler, letter_id, "/reply/submit", informed, hidden=hidden)
    assert submitted.status_code == 303, submitted.text
    letter = await rs.desk.letter(letter_id)
    assert letter["state"] == "office_recheck"
    told = letter["reply"]["writer_informed"]
    assert told["channel"] == "phone"
    assert datetime.fromisoformat(told["at"]) == datetime(2026, 10, 12, 1, 33, tzinfo=UTC)
    timeline = (await letter_page(head, letter_id)).text
    assert "告知来信人办理情况（电话）：已电话告知来信人处理结果。" in timeline
    clerk = await rs.signed_in("clerk.lin", role="office_clerk")  # re-checks the reply
    shown = (await letter_page(clerk, letter_id)).text
    assert "电话，2026-10-12 09:33（北京时间）：已电话告知来信人处理结果。" in shown


async def test_the_office_approves_then_returns_the_reply_with_an_art26_reason(
    rs: RepliesStack,
) -> None:
    await rs.person("handler.gao", role="unit_handler", password=None, unit_id=LEAD)
    clerk = await rs.signed_in("clerk.gao", role="office_clerk")
    head = await rs.signed_in("officehead.gao", role="office_head")
    letter_id = await rs.at_office("handler.gao")

    page, hidden = await page_form(clerk, letter_id)
    approve = form_of(page, "review_approve")
    assert "审核通过" in approve and 'name="publication_mode"' in approve
    assert 'name="major"' in approve  # the re-check may mark the matter major
    assert "预览公开文本" in page
    ok = await post(
        clerk,
        letter_id,
        "/reply/review/approve",
        {"publication_mode": "online", "comment": "复核无误。"},
        hidden=hidden,
    )
    assert ok.status_code == 303, ok.text
    assert (await rs.desk.letter(letter_id))["state"] == "office_head_review"

    page, hidden = await page_form(head, letter_id)
    returning = form_of(page, "review_return")
    for reason in ("答非所问", "敷衍了事", "推诿扯皮"):
        assert reason in returning
    typed = {"reason": "", "comment": "答复未回应退款诉求，请重新办理。"}
    refused = await post(head, letter_id, "/reply/review/return", typed, hidden=hidden)
    assert refused.status_code == 422, refused.text
    shown = form_of(refused.text, "review_return")
    assert "填写的内容有误：理由" in shown and typed["comment"] in shown
    returned = await post(
        head, letter_id, "/reply/review/return", {**typed, "reason": "off_topic"}, hidden=hidden
    )
    assert returned.status_code == 303, returned.text
    letter = await rs.desk.letter(letter_id)
    assert letter["state"] == "returned"
    assert letter["returns"][0]["reason"] == "off_topic"
    # The clerk's step is over: approving again is refused by the state (409).
    _, hidden = await page_form(clerk, letter_id)
    late = await post(clerk, letter_id, "/reply/review/approve", {}, hidden=hidden)
    assert late.status_code == 409 and "答复被退回重办" in late.text


async def test_an_extension_is_asked_for_then_granted_or_refused(rs: RepliesStack) -> None:
    handler = await rs.signed_in("handler.he", role="unit_handler", unit_id=LEAD)
    head = await rs.signed_in("officehead.he", role="office_head")
    letter_id = await rs.in_handling("handler.he")

    page, hidden = await page_form(handler, letter_id)
    assert "申请延期" in form_of(page, "extension")
    asked = {"reason": "需会同区县现场核查，时间较长。", "extra_working_days": "5"}
    answer = await post(handler, letter_id, "/extensions", asked, hidden=hidden)
    assert answer.status_code == 303, answer.text
    extension = (await rs.desk.letter(letter_id))["extensions"][0]
    assert (extension["status"], extension["extra_working_days"]) == ("pending", 5)
    # One request waits at a time: a second (from the page read before) is refused.
    again = await post(handler, letter_id, "/extensions", asked, hidden=hidden)
    assert again.status_code == 409, again.text
    assert 'role="alert" data-status="409"' in again.text

    page, hidden = await page_form(head, letter_id)
    key = f"extension_approve:{extension['id']}"
    assert "同意延期" in form_of(page, key)
    assert "不同意延期" in form_of(page, f"extension_refuse:{extension['id']}")
    granted = await post(
        head,
        letter_id,
        f"/extensions/{extension['id']}/approve",
        {"extra_working_days": "3"},
        hidden=hidden,
    )
    assert granted.status_code == 303, granted.text
    decided = (await rs.desk.letter(letter_id))["extensions"][0]
    assert (decided["status"], decided["granted_extra_working_days"]) == ("approved", 3)

    _, hidden = await page_form(handler, letter_id)
    await post(
        handler, letter_id, "/extensions", {**asked, "extra_working_days": "2"}, hidden=hidden
    )
    second = (await rs.desk.letter(letter_id))["extensions"][1]
    page, hidden = await page_form(head, letter_id)
    path = f"/extensions/{second['id']}/refuse"
    short = await post(head, letter_id, path, {"reason": ""}, hidden=hidden)
    assert short.status_code == 422
    assert "填写的内容有误：理由" in form_of(short.text, f"extension_refuse:{second['id']}")
    refused = await post(head, letter_id, path, {"reason": "延期理由不充分。"}, hidden=hidden)
    assert refused.status_code == 303, refused.text
    assert (await rs.desk.letter(letter_id))["extensions"][1]["status"] == "refused"
