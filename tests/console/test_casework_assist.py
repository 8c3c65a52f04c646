"""协办 on the letter page: the lead unit's handler asks an assisting unit, the assisting
unit finds it on its 待办 and answers, the lead sees the answer; and naming the handler by
choosing one of the unit's people."""

from __future__ import annotations

import html

import pytest

from shared.auth import Role
from tests.console.harness import ConsoleStack
from tests.console.letter_harness import (
    assert_redirected,
    casework_form,
    error_beside,
    letter_page,
    page_form,
    post,
    post_form,
    signed_in,
)
from tests.routing.harness import ASSIST, HANDLER, LEAD, OTHER, Desk


@pytest.fixture
async def assigned(stack: ConsoleStack) -> str:
    desk = Desk(stack.routing)
    letter_id = await desk.register()
    await desk.accept_direct(letter_id, assisting=[ASSIST])
    return letter_id


async def test_the_head_names_the_handler_by_choosing_one_of_the_units_people(
    stack: ConsoleStack, assigned: str
) -> None:
    head = await signed_in(stack, "as.head.a", role="unit_head", unit_id=LEAD)
    await stack.person("as.handler.a", role="unit_handler", password=None, unit_id=LEAD)
    try:
        form = casework_form((await letter_page(head, assigned)).text, "handler")
        # A select of the unit's active handlers, by name; no user id to type.
        assert '<select name="user_id" required>' in form
        assert '<option value="as.handler.a">测试as.handler.a（as.handler.a）</option>' in form
        assert f'<option value="{HANDLER}">李华（{HANDLER}）</option>' in form
        assert 'id="handler-none"' not in form
        # A person of another unit is no choice; routing refuses one posted all the same.
        elsewhere = {"user_id": "u_not_here", "name": ""}
        refused = await post_form(head, assigned, "/handler", elsewhere)
        assert refused.status_code == 422, refused.text
        assert "经办人员" in error_beside(refused.text, "handler")
        # Chosen, the name left blank: the name is the one the list gives.
        chosen = {"user_id": "as.handler.a", "name": "", "phone": "023-63660000"}
        assert_redirected(await post_form(head, assigned, "/handler", chosen), assigned)
        handler = (await Desk(stack.routing).letter(assigned))["handler"]
        assert (handler["user_id"], handler["name"]) == ("as.handler.a", "测试as.handler.a")
        shown = (await letter_page(head, assigned)).text
        assert "指定经办人：测试as.handler.a" in shown
        # Naming again shows the current one chosen.
        again = casework_form(shown, "handler")
        assert '<option value="as.handler.a" selected>' in again
    finally:
        await head.close()


async def test_a_unit_without_handlers_is_told_so_beside_the_form(stack: ConsoleStack) -> None:
    desk = Desk(stack.routing)
    letter_id = await desk.register()
    slip = {
        "opinion": "属外贸处职责，建议直办。",
        "nature": "complaint",
        "accepted": True,
        "route": "direct",
        "lead_unit_id": OTHER,
        "assisting_unit_ids": [],
    }
    await desk.call(letter_id, "/slip", Role.office_clerk, slip, method="PUT")
    await desk.call(letter_id, "/slip/submit", Role.office_clerk)
    await desk.call(letter_id, "/slip/approve", Role.office_head, {"comment": "同意。"})
    head = await signed_in(stack, "as.head.b", role="unit_head", unit_id=OTHER)
    try:
        form = casework_form((await letter_page(head, letter_id)).text, "handler")
        assert 'id="handler-none"' in form and "没有可以指定的经办人员" in form
        assert "<button" not in form and 'name="user_id"' not in form
    finally:
        await head.close()


async def test_the_lead_asks_the_assisting_unit_which_answers_on_its_own_page(
    stack: ConsoleStack, assigned: str
) -> None:
    head = await signed_in(stack, "as.head.c", role="unit_head", unit_id=LEAD)
    handler = await signed_in(stack, "as.handler.c", role="unit_handler", unit_id=LEAD)
    helper = await signed_in(stack, "as.helper.c", role="unit_head", unit_id=ASSIST)
    try:
        named = {"user_id": "as.handler.c", "name": ""}
        assert_redirected(await post_form(head, assigned, "/handler", named), assigned)

        page = (await letter_page(handler, assigned)).text
        form = casework_form(page, "assist-request")
        assert '<option value="consumption">消费促进处</option>' in form
        assert "发送协办请求" in form
        # Too short a question: routing's 422 beside the form, what was typed kept.
        short = await post_form(
            handler, assigned, "/assist-requests", {"unit_id": ASSIST, "question": "请看"}
        )
        assert short.status_code == 422, short.text
        told = error_beside(short.text, "assist-request")
        assert "请配合单位提供的内容" in told and "至少 4 个字" in told
        assert ">请看</textarea>" in casework_form(short.text, "assist-request")
        # A unit that is not assisting on this letter: refused, named, the question kept.
        question = "请提供该商家的预付卡备案情况及近期投诉记录。"
        wrong = await post_form(
            handler, assigned, "/assist-requests", {"unit_id": OTHER, "question": question}
        )
        assert wrong.status_code == 422, wrong.text
        assert "不是这封信的配合单位" in error_beside(wrong.text, "assist-request")
        assert question in casework_form(wrong.text, "assist-request")

        asked = {"unit_id": ASSIST, "question": question}
        assert_redirected(await post_form(handler, assigned, "/assist-requests", asked), assigned)
        requests = (await Desk(stack.routing).letter(assigned))["assist_requests"]
        assert [(r["unit_id"], r["question"], r["answer"]) for r in requests] == [
            (ASSIST, question, None)
        ]
        request_id = requests[0]["id"]
        lead_page = (await letter_page(handler, assigned)).text
        assert "请消费促进处配合" in lead_page and "待配合单位答复" in lead_page

        # The assisting unit finds it on its 待办 and on the letter's page.
        worklist = (await helper.get("/worklist")).text
        assert f"/letters/{assigned}" in worklist and "答复牵头单位" in worklist
        page = (await letter_page(helper, assigned)).text
        form = casework_form(page, f"assist-answer-{request_id}")
        assert question in html.unescape(page) and "答复牵头单位" in form
        tail = f"/assist-requests/{request_id}/answer"
        _, kept = await page_form(helper, assigned)
        empty = await post_form(helper, assigned, tail, {"text": "  "})
        assert empty.status_code == 422, empty.text
        assert "答复内容" in error_beside(empty.text, f"assist-answer-{request_id}")
        answer = "经查，该商家已于2026年3月备案，近三个月收到投诉12件。"
        assert_redirected(await post_form(helper, assigned, tail, {"text": answer}), assigned)
        after = (await letter_page(helper, assigned)).text
        assert f'id="form-assist-answer-{request_id}"' not in after  # answered once

        # The lead sees the answer, in the 协办 section and in the timeline.
        shown = html.unescape((await letter_page(handler, assigned)).text)
        assert answer in shown and "消费促进处答复：" + answer in shown
        assert "待配合单位答复" not in shown
        # Answering again (a form left open in another tab): routing's 409, told where the
        # form was, what was typed kept.
        version = str((await Desk(stack.routing).letter(assigned))["version"])
        hidden = {"csrf_token": kept["csrf_token"], "version": version}
        twice = await post(helper, assigned, tail, {"text": answer + "补充。"}, hidden=hidden)
        assert twice.status_code == 409, twice.text
        assert "环节" in error_beside(twice.text, f"assist-answer-{request_id}")
        assert answer + "补充。" in html.unescape(twice.text)
    finally:
        await head.close()
        await handler.close()
        await helper.close()
