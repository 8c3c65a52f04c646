"""What the reply's submission and the office's review add (Art. 14 ¶1, 15 ¶2).

The unit tells the writer the handling result as it reports to the office, and says how
(unless the contact details are void); an office reviewer may mark the matter major, and
the principal leader then approves after the office leader.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from shared.auth import Role
from tests.routing.harness import NOW, WRITER_INFORMED, Desk


async def _unit_approved(desk: Desk) -> str:
    letter_id = await desk.register()
    await desk.accept_direct(letter_id)
    letter = await desk.handle_to_unit_approval(letter_id)
    assert letter["state"] == "unit_approved"
    return letter_id


def _field_of(answer: dict[str, Any]) -> tuple[str, str]:
    """The first field a 422 names, and why."""
    first = answer["details"]["errors"][0]
    return str(first["field"]), str(first["reason"])


# Art. 14 ¶1: 反馈至委办公室，同时将有关办理情况回复来信人


async def test_the_submission_says_how_the_writer_was_told(desk: Desk) -> None:
    letter_id = await _unit_approved(desk)
    submit = "/reply/submit"
    answer = await desk.call(letter_id, submit, Role.unit_handler, expect=422)
    field, reason = _field_of(answer)
    assert field == "writer_informed"
    assert "Art. 14" in reason
    later = {**WRITER_INFORMED, "at": (NOW + timedelta(hours=2)).isoformat()}
    answer = await desk.call(
        letter_id, submit, Role.unit_handler, {"writer_informed": later}, expect=422
    )
    assert _field_of(answer)[0] == "writer_informed.at"
    earlier = {**WRITER_INFORMED, "at": (NOW - timedelta(hours=1)).isoformat()}
    answer = await desk.call(
        letter_id, submit, Role.unit_handler, {"writer_informed": earlier}, expect=422
    )
    field, reason = _field_of(answer)
    assert field == "writer_informed.at"
    assert "handed" in reason
    carrier = {**WRITER_INFORMED, "channel": "pigeon"}
    await desk.call(letter_id, submit, Role.unit_handler, {"writer_informed": carrier}, expect=422)
    assert (await desk.letter(letter_id))["state"] == "unit_approved"

    letter = await desk.submit(letter_id)
    assert letter["state"] == "office_recheck"
    told = letter["reply"]["writer_informed"]
    assert told["channel"] == "phone"
    assert told["at"].startswith(NOW.isoformat()[:19])
    assert told["note"] == WRITER_INFORMED["note"]
    assert told["recorded_by"]["role"] == "unit_handler"
    event = (await desk.stack.probe.wait_for("reply.submitted", letter_id=letter_id))[0]
    assert event.data["revision"] == 1

    response = await desk.client.get(
        f"/letters/{letter_id}/dossier", headers=desk.headers(Role.service)
    )
    assert response.status_code == 200, response.text
    dossier = response.json()
    assert dossier["letter"]["reply"]["writer_informed"]["channel"] == "phone"
    submitted = [e for e in dossier["audit"] if e["action"] == "submit_reply"]
    assert submitted[0]["note"] == "writer informed by phone"


async def test_a_writer_with_void_contact_details_is_not_told(desk: Desk) -> None:
    letter_id = await desk.register()
    await desk.accept_direct(letter_id)
    await desk.call(
        letter_id, "/handler", Role.unit_head, {"user_id": "u_handler_li", "name": "李华"}
    )
    await desk.call(
        letter_id, "/contact-invalid", Role.unit_handler, {"reason": "来信人所留电话为空号。"}
    )
    await desk.handle_to_unit_approval(letter_id)
    answer = await desk.call(
        letter_id,
        "/reply/submit",
        Role.unit_handler,
        {"writer_informed": WRITER_INFORMED},
        expect=422,
    )
    field, reason = _field_of(answer)
    assert field == "writer_informed"
    assert "Art. 14 ¶3" in reason
    letter = await desk.call(letter_id, "/reply/submit", Role.unit_handler)
    assert letter["state"] == "office_recheck"
    assert letter["reply"]["writer_informed"] is None
    assert letter["reply"]["from_letter_alone"] is True


async def test_a_returned_reply_tells_the_writer_again(desk: Desk) -> None:
    letter_id = await _unit_approved(desk)
    await desk.submit(letter_id)
    returned = {"reason": "off_topic", "comment": "答复未回应退款诉求，请重新办理。"}
    letter = await desk.call(letter_id, "/reply/review/return", Role.office_clerk, returned)
    assert letter["state"] == "returned"
    assert letter["reply"]["writer_informed"] is None
    assert letter["reply_history"][0]["writer_informed"]["channel"] == "phone"
    await desk.handle_to_unit_approval(letter_id)
    answer = await desk.call(letter_id, "/reply/submit", Role.unit_handler, expect=422)
    assert _field_of(answer)[0] == "writer_informed"
    letter = await desk.submit(letter_id)
    assert letter["reply"]["revision"] == 2
    assert letter["reply"]["writer_informed"]["channel"] == "phone"


# Art. 15 ¶2: 涉及重大事项、难点问题 … 提请委主要领导审定

MAJOR = {"major": True, "major_reason": "涉及全市预付卡监管政策调整，属重大事项。"}


async def test_the_clerk_marks_the_matter_major_and_the_principal_leader_decides(
    desk: Desk,
) -> None:
    letter_id = await _unit_approved(desk)
    await desk.submit(letter_id)
    letter = await desk.call(letter_id, "/reply/review/approve", Role.office_clerk, MAJOR)
    assert letter["state"] == "office_head_review"
    assert letter["major"] is True
    mark = letter["major_mark"]
    assert mark["step"] == "office_recheck"
    assert mark["reason"] == MAJOR["major_reason"]
    assert mark["by"]["role"] == "office_clerk"

    answer = await desk.call(
        letter_id, "/reply/review/approve", Role.office_head, {"major": False}, expect=422
    )
    field, reason = _field_of(answer)
    assert field == "major"
    assert "cannot unmark" in reason
    await desk.call(letter_id, "/reply/review/approve", Role.office_head)
    letter = await desk.call(letter_id, "/reply/review/approve", Role.office_leader)
    assert letter["state"] == "principal_review"
    assert (
        "principal_approve"
        in (await desk.get(letter_id, Role.principal_leader)).json()["allowed_actions"]
    )
    letter = await desk.call(letter_id, "/reply/review/approve", Role.principal_leader)
    assert letter["state"] == "approved"
    steps = [r["step"] for r in letter["reply"]["reviews"] if r["step"].startswith(("office", "p"))]
    assert steps == ["office_recheck", "office_head", "office_leader", "principal_leader"]
    assert letter["major_mark"]["by"]["role"] == "office_clerk"

    response = await desk.client.get(
        f"/letters/{letter_id}/dossier", headers=desk.headers(Role.office_head)
    )
    recheck = [e for e in response.json()["audit"] if e["action"] == "recheck_approve"]
    assert MAJOR["major_reason"] in recheck[0]["note"]
    assert recheck[0]["after"]["major"] is True


async def test_the_office_leader_marks_it_at_the_last_office_step(desk: Desk) -> None:
    letter_id = await _unit_approved(desk)
    await desk.submit(letter_id)
    await desk.call(letter_id, "/reply/review/approve", Role.office_clerk)
    await desk.call(letter_id, "/reply/review/approve", Role.office_head)
    letter = await desk.call(letter_id, "/reply/review/approve", Role.office_leader, MAJOR)
    assert letter["state"] == "principal_review"
    assert letter["major_mark"]["step"] == "office_leader"


async def test_without_the_mark_the_office_leader_approves_for_good(desk: Desk) -> None:
    letter_id = await _unit_approved(desk)
    await desk.submit(letter_id)
    letter = await desk.office_chain(letter_id)
    assert letter["state"] == "approved"
    assert letter["major"] is False
    assert letter.get("major_mark") is None
    await desk.stack.probe.wait_for("reply.approved", letter_id=letter_id)


async def test_marking_major_says_why(desk: Desk) -> None:
    letter_id = await _unit_approved(desk)
    await desk.submit(letter_id)
    approve = "/reply/review/approve"
    for body in ({"major": True}, {"major": True, "major_reason": "  "}):
        answer = await desk.call(letter_id, approve, Role.office_clerk, body, expect=422)
        assert _field_of(answer)[0] == "major_reason"
    answer = await desk.call(
        letter_id, approve, Role.office_clerk, {"major_reason": "难点问题。"}, expect=422
    )
    assert _field_of(answer)[0] == "major_reason"
    letter = await desk.letter(letter_id)
    assert letter["state"] == "office_recheck"
    assert letter["major"] is False


async def test_a_slip_marked_major_stays_major(desk: Desk) -> None:
    letter_id = await desk.register()
    await desk.accept_direct(letter_id, major=True)
    await desk.handle_to_submission(letter_id)
    answer = await desk.call(
        letter_id, "/reply/review/approve", Role.office_clerk, {"major": False}, expect=422
    )
    assert "the handling slip" in _field_of(answer)[1]
    letter = await desk.call(letter_id, "/reply/review/approve", Role.office_clerk, MAJOR)
    assert letter["major_mark"] is None  # major from the slip: marking again changes nothing
    await desk.call(letter_id, "/reply/review/approve", Role.office_head)
    letter = await desk.call(letter_id, "/reply/review/approve", Role.office_leader)
    assert letter["state"] == "principal_review"
