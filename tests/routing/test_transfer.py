"""转阅/呈办 (Art. 13): the letter's content is passed on, and the office records that it was."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from shared.auth import Role
from tests.routing.harness import NOW, Desk

SENT = {"channel": "document_exchange", "reference": "渝商务办转〔2026〕15号"}


async def _passed_on(desk: Desk, route: str) -> str:
    letter_id = await desk.register()
    slip: dict[str, Any] = {
        "opinion": "属其他部门职责。",
        "nature": "help",
        "accepted": True,
        "route": route,
    }
    if route == "forward":
        slip["recipient_id"] = "medical-insurance"
    await desk.call(letter_id, "/slip", Role.office_clerk, slip, method="PUT")
    await desk.call(letter_id, "/slip/submit", Role.office_clerk)
    await desk.call(letter_id, "/slip/approve", Role.office_head)
    return letter_id


@pytest.mark.parametrize("route", ["forward", "escalate"])
async def test_approval_leaves_a_transfer_to_send(desk: Desk, route: str) -> None:
    letter_id = await _passed_on(desk, route)
    letter = await desk.letter(letter_id)
    transfer = letter["transfer"]
    assert transfer["status"] == "to_send"
    assert transfer["route"] == route
    assert transfer["recipient_id"] == letter["slip"]["recipient_id"]
    assert transfer["recipient_name"] == letter["slip"]["recipient_name"]
    assert "record_transfer" in letter["allowed_actions"]


async def test_the_transfer_letter_carries_the_whole_letter(desk: Desk) -> None:
    letter_id = await _passed_on(desk, "forward")
    letter = await desk.letter(letter_id)
    response = await desk.client.get(
        f"/letters/{letter_id}/transfer.html", headers=desk.headers(Role.office_clerk)
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert "公开信箱来信转办函" in page
    assert letter["transfer"]["recipient_name"] in page
    assert letter["text"].splitlines()[0] in page
    assert letter["person"]["phone"] in page  # the recipient answers the writer
    assert "内部资料 注意保密" in page
    assert "待送出" in page


async def test_a_unit_may_not_read_the_transfer_letter(desk: Desk) -> None:
    letter_id = await _passed_on(desk, "escalate")
    response = await desk.client.get(
        f"/letters/{letter_id}/transfer.html", headers=desk.headers(Role.unit_head)
    )
    # The role is refused before the letter is looked for (an escalated letter has no unit).
    assert response.status_code == 403


async def test_a_direct_letter_has_no_transfer(desk: Desk) -> None:
    letter_id = await desk.register()
    await desk.accept_direct(letter_id)
    response = await desk.client.get(
        f"/letters/{letter_id}/transfer.html", headers=desk.headers(Role.office_clerk)
    )
    assert response.status_code == 404
    assert "nothing to transfer" in response.json()["message"]
    await desk.call(letter_id, "/transfer/sent", Role.office_clerk, SENT, expect=409)


async def test_recording_the_transfer_sends_its_event_once(desk: Desk) -> None:
    letter_id = await _passed_on(desk, "forward")
    before = await desk.letter(letter_id)
    letter = await desk.call(letter_id, "/transfer/sent", Role.office_clerk, SENT)
    transfer = letter["transfer"]
    assert transfer["status"] == "sent"
    assert transfer["channel"] == "document_exchange"
    assert transfer["reference"] == SENT["reference"]
    assert transfer["sent_by"]["role"] == "office_clerk"
    assert letter["state"] == "forwarded"
    events = await desk.stack.probe.wait_for("letter.transferred", letter_id=letter_id)
    assert events[0].data["recipient_id"] == "medical-insurance"
    assert events[0].data["channel"] == "document_exchange"
    # The same record again (an answer lost on the way) changes nothing.
    again = await desk.call(letter_id, "/transfer/sent", Role.office_clerk, SENT)
    assert again["version"] == letter["version"] == before["version"] + 1
    other = {**SENT, "reference": "另一个文号"}
    await desk.call(letter_id, "/transfer/sent", Role.office_head, other, expect=409)
    assert len(desk.stack.probe.of_type("letter.transferred", letter_id=letter_id)) == 1
    page = await desk.client.get(
        f"/letters/{letter_id}/transfer.html", headers=desk.headers(Role.office_clerk)
    )
    assert "公文交换" in page.text
    assert SENT["reference"] in page.text


async def test_who_and_when_are_checked(desk: Desk) -> None:
    letter_id = await _passed_on(desk, "escalate")
    await desk.call(letter_id, "/transfer/sent", Role.office_leader, SENT, expect=403)
    await desk.call(letter_id, "/transfer/sent", Role.unit_head, SENT, expect=404)
    future = {**SENT, "sent_at": (NOW + timedelta(days=1)).isoformat()}
    error = await desk.call(letter_id, "/transfer/sent", Role.office_clerk, future, expect=422)
    assert "sent_at" in error["message"]
    early = {**SENT, "sent_at": (NOW - timedelta(days=30)).isoformat()}
    error = await desk.call(letter_id, "/transfer/sent", Role.office_clerk, early, expect=422)
    assert "approved" in error["message"]
    bad = {"channel": "pigeon", "reference": "x"}
    await desk.call(letter_id, "/transfer/sent", Role.office_clerk, bad, expect=422)


async def test_the_clerk_lists_what_is_still_to_send(desk: Desk) -> None:
    waiting = await _passed_on(desk, "forward")
    done = await _passed_on(desk, "escalate")
    await desk.call(done, "/transfer/sent", Role.office_clerk, SENT)
    response = await desk.client.get(
        "/letters", params={"transfer": "to_send"}, headers=desk.headers(Role.office_clerk)
    )
    assert response.status_code == 200, response.text
    ids = {item["id"] for item in response.json()["items"]}
    assert waiting in ids
    assert done not in ids
    response = await desk.client.get(
        "/letters", params={"transfer": "sent"}, headers=desk.headers(Role.office_clerk)
    )
    assert done in {item["id"] for item in response.json()["items"]}
