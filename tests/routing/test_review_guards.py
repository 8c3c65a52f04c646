"""Guards on the office's review: a late return sets a new due (Art. 26, 27), and a pending
referral holds the reply back from upload until the office leader decides (Art. 23)."""

from __future__ import annotations

from datetime import timedelta

from shared.auth import Role
from shared.events.catalog import ReplyReturned
from tests.routing.harness import LEAD, NOW, Desk

RETURN = {"reason": "off_topic", "comment": "答复未回应退款诉求，请重新办理。"}


async def _submitted_with_handling_due(desk: Desk, *, due_in: timedelta) -> str:
    """A letter whose reply is at the office's re-check, its handling clock due NOW + due_in."""
    letter_id = await desk.accept_with_clock(due_in=due_in)
    await desk.handle_to_submission(letter_id)
    return letter_id


async def test_a_return_after_the_handling_due_must_set_a_future_due(desk: Desk) -> None:
    letter_id = await _submitted_with_handling_due(desk, due_in=timedelta(days=-1))
    answer = await desk.call(
        letter_id, "/reply/review/return", Role.office_clerk, RETURN, expect=422
    )
    error = answer["details"]["errors"][0]
    assert error["field"] == "new_due"
    assert "passed" in error["reason"]
    assert "overdue" in error["reason"]
    past = (NOW - timedelta(hours=1)).isoformat()
    answer = await desk.call(
        letter_id,
        "/reply/review/return",
        Role.office_clerk,
        {**RETURN, "new_due": past},
        expect=422,
    )
    assert answer["details"]["errors"][0]["field"] == "new_due"
    assert "future" in answer["details"]["errors"][0]["reason"]
    assert (await desk.letter(letter_id))["state"] == "office_recheck"
    assert desk.stack.probe.of_type("reply.returned", letter_id=letter_id) == []

    new_due = NOW + timedelta(days=5)
    letter = await desk.call(
        letter_id,
        "/reply/review/return",
        Role.office_clerk,
        {**RETURN, "new_due": new_due.isoformat()},
    )
    assert letter["state"] == "returned"
    assert letter["returns"][0]["new_due"].startswith(new_due.date().isoformat())
    returned = (await desk.stack.probe.wait_for("reply.returned", letter_id=letter_id))[0]
    assert returned.parse_data(ReplyReturned).new_due == new_due
    notice = (await desk.inbox(LEAD, letter_id=letter_id, kind="reply.returned"))[0]
    assert notice["payload"]["new_due"] is not None


async def test_a_return_before_the_handling_due_may_keep_the_running_due(desk: Desk) -> None:
    letter_id = await _submitted_with_handling_due(desk, due_in=timedelta(days=3))
    answer = await desk.call(
        letter_id,
        "/reply/review/return",
        Role.office_clerk,
        {**RETURN, "new_due": NOW.isoformat()},
        expect=422,
    )
    assert answer["details"]["errors"][0]["field"] == "new_due"
    letter = await desk.call(letter_id, "/reply/review/return", Role.office_clerk, RETURN)
    assert letter["state"] == "returned"
    returned = (await desk.stack.probe.wait_for("reply.returned", letter_id=letter_id))[0]
    assert returned.data["new_due"] is None


async def test_a_pending_referral_holds_the_reply_back_from_upload(desk: Desk) -> None:
    letter_id = await desk.register()
    await desk.accept_direct(letter_id)
    await desk.handle_to_submission(letter_id)
    letter = await desk.call(
        letter_id,
        "/referral",
        Role.office_clerk,
        {"agency": "state_security", "reason": "来信内容疑似涉及危害国家安全。"},
    )
    assert letter["referrals"][0]["status"] == "pending"
    # The internal review steps go on; only the approval that releases the reply waits.
    await desk.call(letter_id, "/reply/review/approve", Role.office_clerk)
    await desk.call(letter_id, "/reply/review/approve", Role.office_head)
    answer = await desk.call(letter_id, "/reply/review/approve", Role.office_leader, expect=409)
    assert answer["error"] == "conflict"
    assert "referral" in answer["message"]
    assert "office leader" in answer["message"]
    assert "Art. 23" in answer["message"]
    assert answer["details"]["referral_id"] == letter["referrals"][0]["id"]
    assert (await desk.letter(letter_id))["state"] == "office_leader_review"
    assert desk.stack.probe.of_type("reply.approved", letter_id=letter_id) == []

    letter = await desk.call(
        letter_id,
        "/referral/decision",
        Role.office_leader,
        {"approve": False, "comment": "经核查不涉及国家安全，不予移交。"},
    )
    assert letter["referrals"][0]["status"] == "refused"
    assert letter["locked"] is False
    letter = await desk.call(letter_id, "/reply/review/approve", Role.office_leader)
    assert letter["state"] == "approved"
    approved = (await desk.stack.probe.wait_for("reply.approved", letter_id=letter_id))[0]
    assert approved.data["publication_mode"] == "online"
    assert approved.data["locked"] is False
