"""The units' handling and the office's review against the real servers (Art. 14, 15, 26, 29)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from shared.auth import Role
from shared.events import make_event
from shared.events.catalog import LetterArchived, LetterPublished
from shared.events.vocabulary import ReturnReason
from tests.routing.harness import (
    ASSIST,
    HANDLER,
    LEAD,
    NOW,
    OTHER,
    REPLY,
    Desk,
)
from tests.support import eventually


async def test_a_direct_letter_from_hand_over_to_archive(desk: Desk) -> None:
    letter_id = await desk.register()
    await desk.accept_direct(letter_id)
    letter = await desk.call(
        letter_id, "/handler", Role.unit_head, {"user_id": HANDLER, "name": "李华"}
    )
    assert letter["state"] == "in_handling"
    assert letter["handler"]["user_id"] == HANDLER
    await desk.call(
        letter_id,
        "/contact-attempts",
        Role.unit_handler,
        {"at": NOW.isoformat(), "channel": "phone", "outcome": "reached", "note": "已沟通"},
    )
    letter = await desk.call(
        letter_id,
        "/assist-requests",
        Role.unit_handler,
        {"unit_id": ASSIST, "question": "请提供该商家预付卡备案情况。"},
    )
    request_id = letter["assist_requests"][0]["id"]
    await desk.inbox(ASSIST, letter_id=letter_id, kind="assist.requested")
    letter = await desk.call(
        letter_id,
        f"/assist-requests/{request_id}/answer",
        Role.unit_handler,
        {"text": "经查，该商家已备案，备案号渝商预备2026001。"},
        unit=ASSIST,
        user="u_assist",
    )
    assert letter["assist_requests"][0]["answer"].startswith("经查")
    await desk.inbox(LEAD, letter_id=letter_id, kind="assist.answered")
    await desk.call(letter_id, "/reply", Role.unit_handler, REPLY, method="PUT")
    letter = await desk.call(letter_id, "/reply/send-for-review", Role.unit_handler)
    assert letter["state"] == "unit_head_review"
    letter = await desk.call(letter_id, "/reply/unit-approve", Role.unit_head)
    assert letter["state"] == "unit_leader_review"
    letter = await desk.call(letter_id, "/reply/unit-approve", Role.unit_leader)
    assert letter["state"] == "unit_approved"
    letter = await desk.submit(letter_id)
    assert letter["state"] == "office_recheck"
    assert letter["reply"]["writer_informed"]["channel"] == "phone"
    submitted = (await desk.stack.probe.wait_for("reply.submitted", letter_id=letter_id))[0]
    assert submitted.data["revision"] == 1
    assert submitted.data["unit_id"] == LEAD
    assert submitted.data["proposed_mode"] == "online"

    letter = await desk.call(letter_id, "/reply/review/approve", Role.office_clerk)
    assert letter["state"] == "office_head_review"
    letter = await desk.call(letter_id, "/reply/review/approve", Role.office_head)
    assert letter["state"] == "office_leader_review"
    letter = await desk.call(letter_id, "/reply/review/approve", Role.office_leader)
    assert letter["state"] == "approved"
    approved = (await desk.stack.probe.wait_for("reply.approved", letter_id=letter_id))[0]
    assert approved.data["publication_mode"] == "online"
    assert approved.data["unit_name"] == REPLY["unit"]
    assert approved.data["policy_basis"] == REPLY["policy_basis"]
    assert approved.data["locked"] is False
    steps = [(r["step"], r["decision"]) for r in letter["reply"]["reviews"]]
    assert steps == [
        ("unit_head", "approved"),
        ("unit_leader", "approved"),
        ("office_recheck", "approved"),
        ("office_head", "approved"),
        ("office_leader", "approved"),
    ]
    await desk.inbox(LEAD, letter_id=letter_id, kind="reply.approved")

    published = LetterPublished(
        upload_id="upl_1",
        platform="cq-gov-mailbox",
        kind="reply",
        visibility="public",
        mode=approved.data["publication_mode"],
        published_at=NOW + timedelta(hours=2),
    )
    await desk.stack.probe.publish(
        make_event(published, producer="publishing", occurred_at=NOW, letter_id=letter_id)
    )
    await _wait_state(desk, letter_id, "published")
    archived = LetterArchived(archive_id="arc_1", sha256="f" * 64, archived_at=NOW)
    await desk.stack.probe.publish(
        make_event(archived, producer="publishing", occurred_at=NOW, letter_id=letter_id)
    )
    letter = await _wait_state(desk, letter_id, "archived")
    assert letter["publications"][0]["upload_id"] == "upl_1"
    assert letter["archive"]["archive_id"] == "arc_1"

    response = await desk.client.get(
        f"/letters/{letter_id}/dossier", headers=desk.headers(Role.service)
    )
    assert response.status_code == 200
    dossier = response.json()
    assert dossier["letter"]["person"]["name"] == "王小明"
    actions = [entry["action"] for entry in dossier["audit"]]
    for action in (
        "letter.registered",
        "draft_slip",
        "approve_slip",
        "name_handler",
        "record_contact",
        "request_assist",
        "answer_assist",
        "draft_reply",
        "unit_head_approve",
        "unit_leader_approve",
        "submit_reply",
        "recheck_approve",
        "office_head_approve",
        "office_leader_approve",
        "letter.published",
        "letter.archived",
    ):
        assert action in actions, action
    approve = next(e for e in dossier["audit"] if e["action"] == "office_leader_approve")
    assert approve["actor"]["role"] == "office_leader"
    assert approve["before"]["state"] == "office_leader_review"
    assert approve["after"]["state"] == "approved"


async def _wait_state(desk: Desk, letter_id: str, state: str) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    deadline = asyncio.get_running_loop().time() + 10
    while asyncio.get_running_loop().time() < deadline:
        seen = await desk.letter(letter_id)
        if seen["state"] == state:
            return seen
        await asyncio.sleep(0.05)
    raise AssertionError(f"letter stayed {seen.get('state')}, expected {state}")


@pytest.mark.parametrize("reason", list(ReturnReason))
async def test_a_returned_reply_is_redone_and_resubmitted(desk: Desk, reason: ReturnReason) -> None:
    letter_id = await desk.register()
    await desk.accept_direct(letter_id)
    await desk.handle_to_submission(letter_id)
    await desk.call(letter_id, "/reply/review/approve", Role.office_clerk)
    new_due = (NOW + timedelta(days=5)).isoformat()
    letter = await desk.call(
        letter_id,
        "/reply/review/return",
        Role.office_head,
        {"reason": reason.value, "comment": "答复未回应退款诉求，请重新办理。", "new_due": new_due},
    )
    assert letter["state"] == "returned"
    assert letter["reply"]["revision"] == 2
    assert letter["reply"]["reviews"] == []
    assert letter["reply_history"][0]["revision"] == 1
    assert letter["reply_history"][0]["returned"]["reason"] == reason.value
    assert letter["returns"][0]["by"]["role"] == "office_head"
    returned = (await desk.stack.probe.wait_for("reply.returned", letter_id=letter_id))[0]
    assert returned.data["reason"] == reason.value
    assert returned.data["revision"] == 1
    assert returned.data["new_due"] is not None
    notice = (await desk.inbox(LEAD, letter_id=letter_id, kind="reply.returned"))[0]
    assert notice["payload"]["reason"] == reason.value

    better = {
        **REPLY,
        "result": "经督促，商家已制定退款方案，来信人预付卡余额五千元已于十月十五日全额退还。",
    }
    letter = await desk.handle_to_submission(letter_id, reply=better)
    assert letter["state"] == "office_recheck"
    submissions = await desk.stack.probe.wait_for("reply.submitted", count=2, letter_id=letter_id)
    assert [e.data["revision"] for e in submissions] == [1, 2]
    letter = await desk.office_chain(letter_id)
    assert letter["state"] == "approved"
    approved = (await desk.stack.probe.wait_for("reply.approved", letter_id=letter_id))[0]
    assert approved.data["revision"] == 2
    assert approved.data["result"] == better["result"]


async def test_a_major_matter_needs_the_principal_leader(desk: Desk) -> None:
    letter_id = await desk.register()
    await desk.accept_direct(letter_id, major=True)
    await desk.handle_to_submission(letter_id)
    letter = await desk.office_chain(letter_id, major=False)
    assert letter["state"] == "principal_review"
    assert desk.stack.probe.of_type("reply.approved", letter_id=letter_id) == []
    answer = await desk.call(letter_id, "/reply/review/approve", Role.office_leader, expect=403)
    assert answer["details"]["allowed_roles"] == ["principal_leader"]
    letter = await desk.call(letter_id, "/reply/review/approve", Role.principal_leader)
    assert letter["state"] == "approved"
    await desk.stack.probe.wait_for("reply.approved", letter_id=letter_id)


async def test_each_review_step_is_approved_by_its_reviewer_only(desk: Desk) -> None:
    letter_id = await desk.register()
    await desk.accept_direct(letter_id)
    # A reviewer before the reply reached the office: the right role at the wrong state.
    early = await desk.call(letter_id, "/reply/review/approve", Role.office_head, expect=409)
    assert early["error"] == "invalid_state"
    await desk.handle_to_submission(letter_id)
    steps = [
        (Role.office_clerk, "office_recheck"),
        (Role.office_head, "office_head_review"),
        (Role.office_leader, "office_leader_review"),
    ]
    reviewers = {Role.office_clerk, Role.office_head, Role.office_leader, Role.principal_leader}
    for reviewer, state in steps:
        assert (await desk.letter(letter_id))["state"] == state
        # Another reviewer, or someone who never reviews: forbidden, whatever the state.
        for role in [*sorted(reviewers - {reviewer}), Role.unit_head, Role.admin]:
            unit = LEAD if role is Role.unit_head else None
            answer = await desk.call(
                letter_id, "/reply/review/approve", role, unit=unit, expect=403
            )
            assert answer["error"] == "forbidden", (state, role, answer)
            if role in reviewers:
                assert answer["details"]["allowed_roles"] == [reviewer.value], (state, role)
        await desk.call(letter_id, "/reply/review/approve", reviewer)
    letter = await desk.letter(letter_id)
    assert letter["state"] == "approved"
    assert [r["step"] for r in letter["reply"]["reviews"]][-3:] == [
        "office_recheck",
        "office_head",
        "office_leader",
    ]
    late = await desk.call(letter_id, "/reply/review/approve", Role.office_leader, expect=409)
    assert late["error"] == "invalid_state"


async def test_reviewers_change_the_mode_with_a_reason(desk: Desk) -> None:
    letter_id = await desk.register()
    await desk.accept_direct(letter_id)
    await desk.handle_to_submission(letter_id)
    answer = await desk.call(
        letter_id,
        "/reply/review/approve",
        Role.office_clerk,
        {"publication_mode": "not_public"},
        expect=422,
    )
    assert answer["details"]["errors"][0]["field"] == "not_public_reason"
    await desk.call(
        letter_id,
        "/reply/review/approve",
        Role.office_clerk,
        {"publication_mode": "not_public", "not_public_reason": "涉及来信人个人隐私。"},
    )
    await desk.call(
        letter_id, "/reply/review/approve", Role.office_head, {"publication_mode": "email"}
    )
    await desk.call(letter_id, "/reply/review/approve", Role.office_leader)
    approved = (await desk.stack.probe.wait_for("reply.approved", letter_id=letter_id))[0]
    assert approved.data["publication_mode"] == "email"
    assert approved.data["not_public_reason"] is None


async def test_unit_head_and_leader_send_back_to_the_handler(desk: Desk) -> None:
    letter_id = await desk.register()
    await desk.accept_direct(letter_id)
    await desk.call(letter_id, "/handler", Role.unit_head, {"user_id": HANDLER, "name": "李华"})
    answer = await desk.call(letter_id, "/reply/send-for-review", Role.unit_handler, expect=409)
    assert "draft the reply" in answer["message"]
    await desk.call(letter_id, "/reply", Role.unit_handler, REPLY, method="PUT")
    answer = await desk.call(letter_id, "/reply/send-for-review", Role.unit_handler, expect=409)
    assert "contact" in answer["message"]
    await desk.call(
        letter_id, "/contact-invalid", Role.unit_handler, {"reason": "来信人所留电话为空号。"}
    )
    letter = await desk.call(letter_id, "/reply/send-for-review", Role.unit_handler)
    assert letter["reply"]["from_letter_alone"] is True
    await desk.call(
        letter_id, "/reply/unit-send-back", Role.unit_leader, {"comment": "x"}, expect=422
    )
    answer = await desk.call(
        letter_id, "/reply/unit-send-back", Role.unit_leader, {"comment": "请补充。"}, expect=409
    )
    assert "unit_head_send_back" in answer["details"]["allowed_actions"]
    letter = await desk.call(
        letter_id, "/reply/unit-send-back", Role.unit_head, {"comment": "请补充政策依据原文。"}
    )
    assert letter["state"] == "in_handling"
    await desk.call(letter_id, "/reply/send-for-review", Role.unit_handler)
    await desk.call(letter_id, "/reply/unit-approve", Role.unit_head)
    letter = await desk.call(
        letter_id, "/reply/unit-send-back", Role.unit_leader, {"comment": "处理结果表述不清。"}
    )
    assert letter["state"] == "in_handling"
    decisions = [(r["step"], r["decision"]) for r in letter["reply"]["reviews"]]
    assert decisions == [
        ("unit_head", "sent_back"),
        ("unit_head", "approved"),
        ("unit_leader", "sent_back"),
    ]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("unit", "无"),
        ("handler", "略"),
        ("investigation", "见附件"),
        ("investigation", "已调查。"),
        ("policy_basis", "  "),
        ("result", "无无无无无无无无无无无"),
        ("result", "同上"),
        ("proposed_mode", "published"),
    ],
)
async def test_reply_parts_are_required_and_substantive(desk: Desk, field: str, value: str) -> None:
    letter_id = await desk.register()
    await desk.accept_direct(letter_id)
    await desk.call(letter_id, "/handler", Role.unit_head, {"user_id": HANDLER, "name": "李华"})
    answer = await desk.call(
        letter_id, "/reply", Role.unit_handler, {**REPLY, field: value}, method="PUT", expect=422
    )
    assert answer["details"]["errors"][0]["field"] == field
    missing = {k: v for k, v in REPLY.items() if k != field}
    answer = await desk.call(
        letter_id, "/reply", Role.unit_handler, missing, method="PUT", expect=422
    )
    assert answer["details"]["errors"][0]["field"] == field
    not_public = {**REPLY, "proposed_mode": "not_public"}
    answer = await desk.call(
        letter_id, "/reply", Role.unit_handler, not_public, method="PUT", expect=422
    )
    assert answer["details"]["errors"][0]["field"] == "not_public_reason"


async def test_units_see_only_their_letters_and_act_only_in_their_role(desk: Desk) -> None:
    letter_id = await desk.register()
    await desk.accept_direct(letter_id)
    other = await desk.get(letter_id, Role.unit_head, unit=OTHER)
    assert other.status_code == 404
    answer = await desk.call(
        letter_id,
        "/handler",
        Role.unit_head,
        {"user_id": "u_x", "name": "某人"},
        unit=OTHER,
        version=1,
        expect=404,
    )
    assert answer["error"] == "not_found"
    listed = await desk.client.get("/letters", headers=desk.headers(Role.unit_head, OTHER))
    assert letter_id not in [item["id"] for item in listed.json()["items"]]
    listed = await desk.client.get(
        "/letters", params={"unit": LEAD}, headers=desk.headers(Role.unit_head, OTHER)
    )
    assert listed.json()["items"] == []

    mine = await desk.client.get("/letters", headers=desk.headers(Role.unit_head, LEAD))
    assert letter_id in [item["id"] for item in mine.json()["items"]]
    assisting = await desk.get(letter_id, Role.unit_handler, unit=ASSIST)
    assert assisting.status_code == 200
    assert assisting.json()["person"]["name"] == "王小明"
    assert assisting.json()["allowed_actions"] == ["answer_assist"]
    admin = await desk.get(letter_id, Role.admin)
    assert admin.json()["person"] is None

    answer = await desk.call(
        letter_id, "/handler", Role.unit_handler, {"user_id": HANDLER, "name": "李华"}, expect=403
    )
    assert answer["error"] == "forbidden"
    answer = await desk.call(
        letter_id,
        "/handler",
        Role.unit_head,
        {"user_id": HANDLER, "name": "李华"},
        unit=ASSIST,
        expect=403,
    )
    assert answer["details"]["required_party"] == "lead"
    await desk.call(letter_id, "/handler", Role.unit_head, {"user_id": HANDLER, "name": "李华"})
    answer = await desk.call(
        letter_id,
        "/reply",
        Role.unit_handler,
        REPLY,
        method="PUT",
        user="u_someone_else",
        expect=403,
    )
    assert answer["details"]["handler"] == HANDLER
    stranger = await desk.client.get(
        f"/letters/{letter_id}", headers=desk.headers(Role.unit_handler, LEAD, "u_someone_else")
    )
    assert "draft_reply" not in stranger.json()["allowed_actions"]
    named = await desk.get(letter_id, Role.unit_handler)
    assert "draft_reply" in named.json()["allowed_actions"]
    await desk.call(letter_id, "/reply/review/approve", Role.unit_head, expect=403)
    await desk.call(letter_id, "/slip/approve", Role.unit_leader, expect=403)


async def test_illegal_transitions_name_the_allowed_actions(desk: Desk) -> None:
    letter_id = await desk.register()
    await desk.accept_direct(letter_id)
    answer = await desk.call(letter_id, "/reply/submit", Role.unit_handler, expect=409)
    assert answer["details"]["state"] == "assigned"
    assert answer["details"]["action"] == "submit_reply"
    assert "name_handler" in answer["details"]["allowed_actions"]
    answer = await desk.call(letter_id, "/reply/review/approve", Role.office_clerk, expect=409)
    assert answer["details"]["state"] == "assigned"
    answer = await desk.call(
        letter_id,
        "/reply/review/return",
        Role.office_head,
        {"reason": "perfunctory", "comment": "敷衍了事，请重办。"},
        expect=409,
    )
    assert answer["error"] == "invalid_state"


async def test_a_stale_version_is_refused_and_concurrent_edits_conflict(desk: Desk) -> None:
    letter_id = await desk.register()
    version = (await desk.letter(letter_id))["version"]
    slip = {
        "opinion": "建议直办。",
        "nature": "complaint",
        "accepted": True,
        "route": "direct",
        "lead_unit_id": LEAD,
    }
    results = await asyncio.gather(
        *(
            desk.client.put(
                f"/letters/{letter_id}/slip",
                json={"version": version, **slip, "notes": f"第{n}稿"},
                headers=desk.headers(Role.office_clerk),
            )
            for n in range(4)
        )
    )
    codes = sorted(r.status_code for r in results)
    assert codes == [200, 409, 409, 409]
    stale = next(r for r in results if r.status_code == 409).json()
    assert stale["error"] == "stale_version"
    assert stale["details"]["expected_version"] == version
    letter = await desk.letter(letter_id)
    assert letter["version"] == version + 1
    winner = next(r for r in results if r.status_code == 200).json()
    assert letter["slip"]["notes"] == winner["slip"]["notes"]


async def test_lists_filter_and_page_by_index(desk: Desk) -> None:
    ids = [await desk.register() for _ in range(3)]
    await desk.accept_direct(ids[0])
    headers = desk.headers(Role.office_clerk)
    response = await desk.client.get(
        "/letters", params={"state": "assigned", "unit": LEAD}, headers=headers
    )
    assert ids[0] in [item["id"] for item in response.json()["items"]]
    assert all(item["state"] == "assigned" for item in response.json()["items"])
    pages: list[str] = []
    cursor: str | None = None
    for _ in range(50):
        params: dict[str, str | int] = {"limit": 2, "platform": "cq-gov-mailbox"}
        if cursor:
            params["cursor"] = cursor
        page = (await desk.client.get("/letters", params=params, headers=headers)).json()
        pages.extend(item["id"] for item in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(pages) == len(set(pages))
    assert set(ids) <= set(pages)
    window = await desk.client.get(
        "/letters",
        params={"received_from": (NOW + timedelta(days=1)).isoformat()},
        headers=headers,
    )
    assert window.json()["items"] == []
    bad = await desk.client.get("/letters", params={"cursor": "not-ours"}, headers=headers)
    assert bad.status_code == 422
    bad = await desk.client.get("/letters", params={"state": "limbo"}, headers=headers)
    assert bad.status_code == 422
    assert bad.json()["details"]["errors"][0]["field"] == "state"


async def test_the_audit_trail_arrives_in_the_append_only_log(desk: Desk) -> None:
    letter_id = await desk.register()
    await desk.accept_direct(letter_id)
    entries: list[dict[str, object]] = []

    async def fetch() -> None:
        response = await desk.client.get(
            f"/letters/{letter_id}/dossier", headers=desk.headers(Role.office_head)
        )
        entries[:] = response.json()["audit"]

    await fetch()
    await eventually(lambda: len(entries) >= 4, what="audit entries")
    actions = [e["action"] for e in entries]
    assert actions[:4] == ["letter.registered", "draft_slip", "submit_slip", "approve_slip"]
    unit = await desk.client.get(
        f"/letters/{letter_id}/dossier", headers=desk.headers(Role.unit_head, LEAD)
    )
    assert unit.status_code == 403
