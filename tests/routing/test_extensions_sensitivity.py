"""Extensions (Art. 19 ③), sensitivity (Art. 22), referral and lock (Art. 23), reminders."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from prometheus_client import REGISTRY

from shared.auth import Role
from shared.events import make_event
from shared.events.catalog import AssessmentRecorded, ClockDueSoon, ReminderIssued
from shared.events.topology import queue_name
from shared.events.vocabulary import ClockKind
from tests.routing.harness import (
    HANDLER,
    LEAD,
    NOW,
    REPLY,
    Desk,
)


async def test_the_handling_clock_is_kept_and_told_to_the_unit(desk: Desk) -> None:
    letter_id = await desk.accept_with_clock(due_in=timedelta(days=14))
    letter = await desk.letter(letter_id)
    assert letter["handling_due"] == letter["clocks"]["handling"]["due"]
    notice = (await desk.inbox(LEAD, letter_id=letter_id, kind="clock.scheduled"))[0]
    assert notice["payload"]["kind"] == "handling"


async def test_an_extension_granted_with_other_days(desk: Desk) -> None:
    letter_id = await desk.accept_with_clock(due_in=timedelta(days=14))
    letter = await desk.call(
        letter_id,
        "/extensions",
        Role.unit_head,
        {"reason": "需会同区县现场核查。", "extra_working_days": 5},
    )
    extension = letter["extensions"][0]
    assert extension["status"] == "pending"
    assert extension["due_at_request"] is not None
    requested = (await desk.stack.probe.wait_for("extension.requested", letter_id=letter_id))[0]
    assert requested.data["extra_working_days"] == 5
    answer = await desk.call(
        letter_id,
        "/extensions",
        Role.unit_head,
        {"reason": "再次申请延期。", "extra_working_days": 2},
        expect=409,
    )
    assert "already" in answer["message"]
    await desk.call(
        letter_id, f"/extensions/{extension['id']}/approve", Role.office_clerk, expect=403
    )
    letter = await desk.call(
        letter_id,
        f"/extensions/{extension['id']}/approve",
        Role.office_head,
        {"extra_working_days": 3},
    )
    assert letter["extensions"][0]["status"] == "approved"
    assert letter["extensions"][0]["granted_extra_working_days"] == 3
    approved = (await desk.stack.probe.wait_for("extension.approved", letter_id=letter_id))[0]
    assert approved.data["extra_working_days"] == 3
    assert approved.data["new_due"] is None
    notice = (await desk.inbox(LEAD, letter_id=letter_id, kind="extension.approved"))[0]
    assert notice["payload"]["extra_working_days"] == 3
    await desk.call(
        letter_id,
        f"/extensions/{extension['id']}/refuse",
        Role.office_head,
        {"reason": "已经批准过。"},
        expect=409,
    )


async def test_an_extension_refused_with_its_reason(desk: Desk) -> None:
    letter_id = await desk.accept_with_clock(due_in=timedelta(days=14))
    new_due = (NOW + timedelta(days=30)).isoformat()
    letter = await desk.call(
        letter_id, "/extensions", Role.unit_leader, {"reason": "案情复杂。", "new_due": new_due}
    )
    extension_id = letter["extensions"][0]["id"]
    letter = await desk.call(
        letter_id,
        f"/extensions/{extension_id}/refuse",
        Role.office_head,
        {"reason": "延期理由不充分。"},
    )
    assert letter["extensions"][0]["status"] == "refused"
    refused = (await desk.stack.probe.wait_for("extension.refused", letter_id=letter_id))[0]
    assert refused.data["reason"] == "延期理由不充分。"
    notice = (await desk.inbox(LEAD, letter_id=letter_id, kind="extension.refused"))[0]
    assert notice["payload"]["reason"] == "延期理由不充分。"


async def test_an_extension_after_the_due_is_too_late(desk: Desk) -> None:
    letter_id = await desk.accept_with_clock(due_in=timedelta(days=-1))
    answer = await desk.call(
        letter_id,
        "/extensions",
        Role.unit_head,
        {"reason": "来不及办完。", "extra_working_days": 2},
        expect=409,
    )
    assert answer["details"]["due"].startswith((NOW - timedelta(days=1)).date().isoformat())
    assert desk.stack.probe.of_type("extension.requested", letter_id=letter_id) == []


@pytest.mark.parametrize(
    "body",
    [
        {"reason": "理由充分。"},
        {"reason": "理由充分。", "extra_working_days": 2, "new_due": NOW.isoformat()},
        {"reason": "理由充分。", "extra_working_days": 0},
        {"reason": "理由充分。", "new_due": "2026-12-01T00:00:00"},
    ],
)
async def test_a_bad_extension_request_answers_422(desk: Desk, body: dict[str, Any]) -> None:
    letter_id = await desk.accept_with_clock(due_in=timedelta(days=14))
    answer = await desk.call(letter_id, "/extensions", Role.unit_head, body, expect=422)
    assert answer["error"] == "validation_error"


async def test_a_sensitive_letter_is_never_public(desk: Desk) -> None:
    letter_id = await desk.register()
    await desk.accept_direct(letter_id)
    await desk.handle_to_submission(letter_id)
    answer = await desk.call(
        letter_id,
        "/sensitivity",
        Role.office_clerk,
        {"sensitivities": ["national_security"], "reason": "涉及国家安全。"},
        expect=422,
    )
    assert answer["details"]["errors"][0]["field"] == "sensitivities"
    letter = await desk.call(
        letter_id,
        "/sensitivity",
        Role.office_clerk,
        {"sensitivities": ["privacy", "trade_secret"], "reason": "涉及企业经营数据和个人隐私。"},
    )
    assert letter["reply"]["mode"] == "not_public"
    assert letter["not_public"] is True
    marked = (await desk.stack.probe.wait_for("letter.sensitivity_marked", letter_id=letter_id))[0]
    assert marked.data["sensitivities"] == ["privacy", "trade_secret"]
    await desk.call(letter_id, "/reply/review/approve", Role.office_clerk)
    answer = await desk.call(
        letter_id,
        "/reply/review/approve",
        Role.office_head,
        {"publication_mode": "online"},
        expect=422,
    )
    assert answer["details"]["errors"][0]["field"] == "publication_mode"
    assert "not_public only" in answer["message"]
    await desk.call(letter_id, "/reply/review/approve", Role.office_head)
    await desk.call(letter_id, "/reply/review/approve", Role.office_leader)
    approved = (await desk.stack.probe.wait_for("reply.approved", letter_id=letter_id))[0]
    assert approved.data["publication_mode"] == "not_public"
    assert approved.data["not_public_reason"] == "涉及企业经营数据和个人隐私。"
    assert approved.data["sensitivities"] == ["privacy", "trade_secret"]
    answer = await desk.call(
        letter_id,
        "/sensitivity",
        Role.office_clerk,
        {"sensitivities": ["sensitive"], "reason": "批准后再标记。"},
        expect=409,
    )
    assert answer["details"]["state"] == "approved"


async def test_a_unit_cannot_propose_public_after_a_mark(desk: Desk) -> None:
    letter_id = await desk.register()
    await desk.accept_direct(letter_id)
    await desk.call(
        letter_id,
        "/sensitivity",
        Role.office_head,
        {"sensitivities": ["public_opinion_risk"], "reason": "可能引发舆论炒作。"},
    )
    await desk.call(letter_id, "/handler", Role.unit_head, {"user_id": HANDLER, "name": "李华"})
    answer = await desk.call(
        letter_id, "/reply", Role.unit_handler, REPLY, method="PUT", expect=422
    )
    assert answer["details"]["errors"][0]["field"] == "proposed_mode"
    await desk.call(
        letter_id,
        "/reply",
        Role.unit_handler,
        {**REPLY, "proposed_mode": "not_public", "not_public_reason": "舆情风险。"},
        method="PUT",
    )


async def test_a_national_security_letter_is_locked_for_good(desk: Desk) -> None:
    letter_id = await desk.register()
    await desk.accept_direct(letter_id)
    await desk.call(
        letter_id,
        "/referral",
        Role.unit_head,
        {"agency": "state_security", "reason": "疑似危害国家安全。"},
        expect=403,
    )
    letter = await desk.call(
        letter_id,
        "/referral",
        Role.office_clerk,
        {"agency": "state_security", "reason": "来信内容疑似涉及危害国家安全。"},
    )
    assert letter["referrals"][0]["status"] == "pending"
    await desk.call(
        letter_id, "/referral/decision", Role.office_head, {"approve": True}, expect=403
    )
    await desk.call(
        letter_id, "/referral/decision", Role.office_leader, {"approve": False}, expect=422
    )
    letter = await desk.call(
        letter_id, "/referral/decision", Role.office_leader, {"approve": True, "comment": "同意。"}
    )
    assert letter["locked"] is True
    assert letter["referrals"][0]["status"] == "approved"
    assert letter["referrals"][0]["decided_by"]["role"] == "office_leader"
    locked = (await desk.stack.probe.wait_for("letter.locked", letter_id=letter_id))[0]
    assert locked.data["agency"] == "state_security"
    await desk.call(
        letter_id,
        "/referral",
        Role.office_clerk,
        {"agency": "public_security", "reason": "再次移交。"},
        expect=409,
    )
    await desk.inbox(LEAD, letter_id=letter_id, kind="letter.locked")

    await desk.call(letter_id, "/handler", Role.unit_head, {"user_id": HANDLER, "name": "李华"})
    answer = await desk.call(
        letter_id, "/reply", Role.unit_handler, REPLY, method="PUT", expect=422
    )
    assert "never published online" in answer["message"]
    await desk.handle_to_submission(letter_id, reply={**REPLY, "proposed_mode": "email"})
    await desk.call(letter_id, "/reply/review/approve", Role.office_clerk)
    answer = await desk.call(
        letter_id,
        "/reply/review/approve",
        Role.office_head,
        {"publication_mode": "online"},
        expect=422,
    )
    assert answer["details"]["errors"][0]["field"] == "publication_mode"
    await desk.call(letter_id, "/reply/review/approve", Role.office_head)
    await desk.call(letter_id, "/reply/review/approve", Role.office_leader)
    approved = (await desk.stack.probe.wait_for("reply.approved", letter_id=letter_id))[0]
    assert approved.data["locked"] is True
    assert approved.data["publication_mode"] != "online"
    assert "national_security" in approved.data["sensitivities"]


async def test_a_lock_after_the_unit_chose_online_takes_the_reply_offline(desk: Desk) -> None:
    letter_id = await desk.register()
    await desk.accept_direct(letter_id)
    await desk.handle_to_submission(letter_id)
    await desk.call(
        letter_id,
        "/referral",
        Role.office_head,
        {"agency": "public_security", "reason": "来信涉及违法犯罪线索。"},
    )
    letter = await desk.call(letter_id, "/referral/decision", Role.office_leader, {"approve": True})
    assert letter["reply"]["mode"] == "not_public"
    await desk.office_chain(letter_id)
    approved = (await desk.stack.probe.wait_for("reply.approved", letter_id=letter_id))[0]
    assert approved.data["publication_mode"] == "not_public"


async def test_reminders_and_deductions_reach_the_unit_inbox(desk: Desk) -> None:
    letter_id = await desk.accept_with_clock(due_in=timedelta(days=1))
    due_soon = ClockDueSoon(
        clock_id=f"{letter_id}:handling",
        kind=ClockKind.handling,
        unit_id=LEAD,
        due=NOW + timedelta(days=1),
    )
    reminder = ReminderIssued(
        reminder_id="rem_1",
        clock_id=f"{letter_id}:handling",
        unit_id=LEAD,
        answer_due=NOW + timedelta(days=2),
        text="请于1个工作日内反馈办理情况。",
    )
    deduction = AssessmentRecorded(
        item_id="asm_1",
        unit_id=LEAD,
        kind="reminder_unanswered",
        points=2.0,
        year=2026,
        reason="催办逾期未反馈",
    )
    for data in (due_soon, reminder, deduction):
        event = make_event(data, producer="deadlines", occurred_at=NOW, letter_id=letter_id)
        await desk.stack.probe.publish(event)
        await desk.stack.probe.publish(event)  # at least once: applied once
    notice = (await desk.inbox(LEAD, letter_id=letter_id, kind="reminder.issued"))[0]
    assert notice["payload"]["text"] == reminder.text
    await desk.inbox(LEAD, letter_id=letter_id, kind="clock.due_soon")
    await desk.inbox(LEAD, letter_id=letter_id, kind="assessment.recorded")
    letter = await desk.letter(letter_id)
    assert [r["reminder_id"] for r in letter["reminders"]] == ["rem_1"]
    assert [a["item_id"] for a in letter["assessments"]] == ["asm_1"]
    assert letter["clocks"]["handling"]["due_soon"] is True
    other = await desk.client.get("/inbox", headers=desk.headers(Role.unit_head, "port"))
    assert letter_id not in [item["letter_id"] for item in other.json()["items"]]
    office = await desk.client.get("/inbox", headers=desk.headers(Role.office_clerk))
    assert office.status_code == 422


def _handled(queue: str, outcome: str) -> float:
    labels = {"queue": queue, "type": "assessment.recorded", "outcome": outcome}
    return REGISTRY.get_sample_value("mailbox_events_handled_total", labels) or 0.0


async def test_a_deduction_for_no_letter_or_an_unknown_one_is_acknowledged(desk: Desk) -> None:
    # Deadlines refuses such items now; ones recorded before (or by another producer) must
    # not go round the retries into the dead-letter queue.
    letter_id = await desk.register()
    queue = queue_name(desk.stack.settings.exchange_name, "routing")
    before = {outcome: _handled(queue, outcome) for outcome in ("ok", "retried", "parked")}
    targets = {"asm_none": None, "asm_unknown": "ltr_01JX9NOSUCHLETTER000000000"}
    targets["asm_known"] = letter_id
    for item_id, target in targets.items():
        data = AssessmentRecorded(
            item_id=item_id, unit_id=LEAD, kind="manual", points=1.0, year=2026, reason="测试"
        )
        event = make_event(data, producer="deadlines", occurred_at=NOW, letter_id=target)
        await desk.stack.probe.publish(event)
    for _ in range(200):  # each is handled once, whatever order: at most 10 s
        if _handled(queue, "ok") >= before["ok"] + len(targets):
            break
        await asyncio.sleep(0.05)
    assert _handled(queue, "ok") == before["ok"] + len(targets)
    assert _handled(queue, "retried") == before["retried"]
    assert _handled(queue, "parked") == before["parked"]
    letter = await desk.letter(letter_id)
    assert [a["item_id"] for a in letter["assessments"]] == ["asm_known"]
