"""`allowed_actions` offers only what the letter's data lets the caller do now.

The state machine allows an action; the letter may still refuse it (409). Such an action is
not offered, so a client shows no button that can only fail.
"""

from __future__ import annotations

from shared.auth import Role
from tests.routing.harness import Desk

REFERRAL = {
    "agency": "public_security",
    "reason": "来信涉及危害国家安全的线索，需商请公安机关核查。",
}
SENT = {"channel": "document_exchange", "reference": "渝商务办转〔2026〕16号"}


async def _offered(desk: Desk, letter_id: str, role: Role) -> list[str]:
    response = await desk.get(letter_id, role)
    assert response.status_code == 200, response.text
    offered: list[str] = response.json()["allowed_actions"]
    return offered


async def test_a_recorded_transfer_is_not_offered_again(desk: Desk) -> None:
    letter_id = await desk.register()
    slip = {"opinion": "涉及多个部门，呈办。", "nature": "complaint", "accepted": True}
    await desk.call(
        letter_id, "/slip", Role.office_clerk, {**slip, "route": "escalate"}, method="PUT"
    )
    await desk.call(letter_id, "/slip/submit", Role.office_clerk)
    await desk.call(letter_id, "/slip/approve", Role.office_head)
    assert "record_transfer" in await _offered(desk, letter_id, Role.office_clerk)
    await desk.call(letter_id, "/transfer/sent", Role.office_clerk, SENT)
    assert "record_transfer" not in await _offered(desk, letter_id, Role.office_clerk)


async def test_referral_actions_follow_the_pending_referral(desk: Desk) -> None:
    letter_id = await desk.register()
    assert "decide_referral" not in await _offered(desk, letter_id, Role.office_leader)
    assert "propose_referral" in await _offered(desk, letter_id, Role.office_clerk)
    await desk.call(letter_id, "/referral", Role.office_clerk, REFERRAL)
    assert "decide_referral" in await _offered(desk, letter_id, Role.office_leader)
    assert "propose_referral" not in await _offered(desk, letter_id, Role.office_clerk)
    await desk.call(
        letter_id, "/referral/decision", Role.office_leader, {"approve": True, "comment": "同意。"}
    )
    assert "decide_referral" not in await _offered(desk, letter_id, Role.office_leader)
    # Locked for good: nothing more to refer.
    assert "propose_referral" not in await _offered(desk, letter_id, Role.office_clerk)


async def test_the_releasing_approval_waits_for_a_pending_referral(desk: Desk) -> None:
    letter_id = await desk.register()
    await desk.accept_direct(letter_id)
    await desk.handle_to_submission(letter_id)
    await desk.call(letter_id, "/reply/review/approve", Role.office_clerk)
    await desk.call(letter_id, "/reply/review/approve", Role.office_head)
    assert "office_leader_approve" in await _offered(desk, letter_id, Role.office_leader)
    await desk.call(letter_id, "/referral", Role.office_clerk, REFERRAL)
    offered = await _offered(desk, letter_id, Role.office_leader)
    assert "office_leader_approve" not in offered
    assert "decide_referral" in offered
    await desk.call(
        letter_id, "/referral/decision", Role.office_leader, {"approve": False, "comment": "不必。"}
    )
    assert "office_leader_approve" in await _offered(desk, letter_id, Role.office_leader)
