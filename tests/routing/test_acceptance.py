"""Registration, the handling slip and acceptance against the real servers (Art. 9, 12, 13)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest

from services.routing.letters.models import default_not_accepted_text
from shared.auth import Role
from shared.events import make_event
from shared.events.catalog import LetterArchived, LetterPublished
from shared.events.vocabulary import LABELS_ZH, NotAcceptedReason, Person
from shared.mongo import is_ferretdb, make_client
from tests.routing.harness import ASSIST, LEAD, NOW, OTHER, Desk, received
from tests.support import MONGO_URL


async def test_a_received_letter_is_stored_once_with_its_suggestion(desk: Desk) -> None:
    event = received()
    letter_id = await desk.register(event)
    await desk.stack.probe.publish(event)  # redelivered: nothing new happens
    letter = await desk.letter(letter_id)
    assert letter["state"] == "registered"
    assert letter["person"]["phone"] == "13800001234"
    assert letter["suggestion"]["nature"]["value"] == "complaint"
    assert letter["suggestion"]["nature"]["reasons"], "a suggestion comes with its reasons"
    assert letter["why"]
    classified = desk.stack.probe.of_type("letter.classified", letter_id=letter_id)
    assert len(classified) == 1
    assert classified[0].data["nature"] == "complaint"
    assert "draft_slip" in letter["allowed_actions"]


async def test_a_repeated_letter_is_suggested_not_accepted(desk: Desk) -> None:
    person = Person(name="赵六", phone="13912345678")
    first = await desk.register(received(person=person))
    second = await desk.register(received(person=person))
    event = desk.stack.probe.of_type("letter.classified", letter_id=second)[0]
    assert event.data["accepted"] is False
    assert event.data["not_accepted_reason"] == "repetitive_or_empty"
    assert first in event.data["repeated_of"]


@pytest.mark.parametrize("reason", list(NotAcceptedReason))
async def test_each_not_accepted_reason_answers_the_writer(
    desk: Desk, reason: NotAcceptedReason
) -> None:
    letter_id = await desk.register()
    slip = {
        "opinion": "建议不予受理。",
        "nature": "other",
        "accepted": False,
        "not_accepted_reason": reason.value,
    }
    await desk.call(letter_id, "/slip", Role.office_clerk, slip, method="PUT")
    await desk.call(letter_id, "/slip/submit", Role.office_clerk)
    letter = await desk.call(letter_id, "/slip/approve", Role.office_head)
    assert letter["state"] == "not_accepted"
    assert letter["decision"]["outcome"] == "not_accepted"
    events = await desk.stack.probe.wait_for("letter.not_accepted", letter_id=letter_id)
    assert events[0].data["reason"] == reason.value
    assert events[0].data["reply_text"] == default_not_accepted_text(reason)
    assert LABELS_ZH[reason] in events[0].data["reply_text"]
    for other in ("letter.accepted", "letter.forwarded", "letter.escalated"):
        assert desk.stack.probe.of_type(other, letter_id=letter_id) == []


async def test_the_clerk_may_write_the_non_acceptance_reply(desk: Desk) -> None:
    letter_id = await desk.register()
    text = "您好！您反映的事项属于法院审判工作，建议向人民法院反映。"
    slip = {
        "opinion": "属法院职责。",
        "nature": "help",
        "accepted": False,
        "not_accepted_reason": "other_authority",
        "reply_text": text,
    }
    await desk.call(letter_id, "/slip", Role.office_clerk, slip, method="PUT")
    await desk.call(letter_id, "/slip/submit", Role.office_clerk)
    await desk.call(letter_id, "/slip/approve", Role.office_head)
    events = await desk.stack.probe.wait_for("letter.not_accepted", letter_id=letter_id)
    assert events[0].data["reply_text"] == text


async def test_forward_names_the_recipient_and_tells_the_writer(desk: Desk) -> None:
    letter_id = await desk.register()
    slip = {
        "opinion": "属医保局职责，转阅。",
        "nature": "help",
        "accepted": True,
        "route": "forward",
        "recipient_id": "medical-insurance",
    }
    letter = await desk.call(letter_id, "/slip", Role.office_clerk, slip, method="PUT")
    assert letter["slip"]["recipient_name"]
    await desk.call(letter_id, "/slip/submit", Role.office_clerk)
    letter = await desk.call(letter_id, "/slip/approve", Role.office_head)
    assert letter["state"] == "forwarded"
    event = (await desk.stack.probe.wait_for("letter.forwarded", letter_id=letter_id))[0]
    assert event.data["recipient_id"] == "medical-insurance"
    assert event.data["recipient_name"] in event.data["notice_text"]
    # The decision is final; the content is still to send on, and an Art. 23 referral can
    # still be proposed.
    assert letter["allowed_actions"] == ["propose_referral", "record_transfer"]


async def test_escalation_goes_to_the_city_mailbox_office(desk: Desk) -> None:
    letter_id = await desk.register()
    slip = {
        "opinion": "涉及多个部门，呈办。",
        "nature": "complaint",
        "accepted": True,
        "route": "escalate",
    }
    await desk.call(letter_id, "/slip", Role.office_clerk, slip, method="PUT")
    await desk.call(letter_id, "/slip/submit", Role.office_clerk)
    letter = await desk.call(letter_id, "/slip/approve", Role.office_head)
    assert letter["state"] == "escalated"
    event = (await desk.stack.probe.wait_for("letter.escalated", letter_id=letter_id))[0]
    assert event.data["recipient_id"] == "city-mailbox-office"
    assert "公开信箱办公室" in event.data["recipient_name"]


async def test_accepted_letters_go_to_the_lead_and_assisting_units(desk: Desk) -> None:
    letter_id = await desk.register()
    letter = await desk.accept_direct(letter_id, major=True)
    assert letter["state"] == "assigned"
    event = (await desk.stack.probe.wait_for("letter.accepted", letter_id=letter_id))[0]
    assert event.data["lead_unit_id"] == LEAD
    assert event.data["assisting_unit_ids"] == [ASSIST]
    assert event.data["major"] is True
    assert event.data["nature"] == "complaint"
    assert event.data["lead_unit_name"] == "市场秩序处"

    lead_items = await desk.inbox(LEAD, letter_id=letter_id, kind="letter.assigned")
    assist_items = await desk.inbox(ASSIST, letter_id=letter_id, kind="letter.assigned")
    assert lead_items[0]["kind"] == "letter.assigned"
    assert lead_items[0]["payload"]["role"] == "lead"
    assert assist_items[0]["payload"]["role"] == "assisting"


async def test_a_slip_sent_back_is_redrafted_and_approved(desk: Desk) -> None:
    letter_id = await desk.register()
    slip = {
        "opinion": "建议直办。",
        "nature": "complaint",
        "accepted": True,
        "route": "direct",
        "lead_unit_id": OTHER,
    }
    await desk.call(letter_id, "/slip", Role.office_clerk, slip, method="PUT")
    await desk.call(letter_id, "/slip/submit", Role.office_clerk)
    letter = await desk.call(
        letter_id, "/slip/send-back", Role.office_head, {"comment": "牵头单位应为市场秩序处。"}
    )
    assert letter["state"] == "slip_sent_back"
    assert letter["slip"]["reviews"][-1]["decision"] == "sent_back"
    letter = await desk.call(
        letter_id, "/slip", Role.office_clerk, {**slip, "lead_unit_id": LEAD}, method="PUT"
    )
    assert letter["state"] == "slip_drafted"
    await desk.call(letter_id, "/slip/submit", Role.office_clerk)
    letter = await desk.call(letter_id, "/slip/approve", Role.office_head)
    assert letter["state"] == "assigned"
    assert letter["lead_unit_id"] == LEAD
    assert [r["decision"] for r in letter["slip"]["reviews"]] == ["sent_back", "approved"]
    events = await desk.stack.probe.wait_for("letter.accepted", letter_id=letter_id)
    assert len(events) == 1


async def test_each_submission_of_the_slip_tells_when_the_opinion_was_proposed(
    desk: Desk,
) -> None:
    # Art. 18: the acceptance opinion is due from the office (the clerk submitting the
    # slip), not from the head's approval: deadlines stops the acceptance clock on it.
    letter_id = await desk.register()
    slip = {"opinion": "建议直办。", "nature": "complaint", "accepted": True, "route": "direct"}
    first_at, again_at = NOW + timedelta(hours=2), NOW + timedelta(hours=30)
    clock = desk.stack.clock
    try:
        await desk.call(
            letter_id, "/slip", Role.office_clerk, {**slip, "lead_unit_id": OTHER}, method="PUT"
        )
        clock.set(first_at)
        letter = await desk.call(letter_id, "/slip/submit", Role.office_clerk)
        first = (await desk.stack.probe.wait_for("slip.submitted", letter_id=letter_id))[0]
        assert first.data["slip_id"] == letter["slip"]["id"]
        assert datetime.fromisoformat(first.data["submitted_at"]) == first_at
        assert first.data["submission"] == 1
        assert first.data["accepted"] is True
        assert first.data["route"] == "direct"
        assert first.producer == "routing"

        await desk.call(letter_id, "/slip/send-back", Role.office_head, {"comment": "改牵头单位。"})
        await desk.call(
            letter_id, "/slip", Role.office_clerk, {**slip, "lead_unit_id": LEAD}, method="PUT"
        )
        clock.set(again_at)
        await desk.call(letter_id, "/slip/submit", Role.office_clerk)
        both = await desk.stack.probe.wait_for("slip.submitted", letter_id=letter_id, count=2)
        again = next(e for e in both if e.id != first.id)
        assert again.data["slip_id"] == first.data["slip_id"]
        assert again.data["submission"] == 2
        assert datetime.fromisoformat(again.data["submitted_at"]) == again_at

        await desk.call(letter_id, "/slip/approve", Role.office_head)
        await desk.stack.probe.wait_for("letter.accepted", letter_id=letter_id)
        assert len(desk.stack.probe.of_type("slip.submitted", letter_id=letter_id)) == 2
    finally:
        clock.set(NOW)


async def test_a_refused_submission_sends_no_event(desk: Desk) -> None:
    letter_id = await desk.register()
    answer = await desk.call(letter_id, "/slip/submit", Role.office_clerk, expect=409)
    assert answer["details"]["action"] == "submit_slip"
    slip = {"opinion": "建议直办。", "nature": "complaint", "accepted": True, "route": "direct"}
    await desk.call(
        letter_id, "/slip", Role.office_clerk, {**slip, "lead_unit_id": LEAD}, method="PUT"
    )
    await desk.call(letter_id, "/slip/submit", Role.office_head, expect=403)
    await desk.call(letter_id, "/slip/submit", Role.office_clerk)
    await desk.call(letter_id, "/slip/approve", Role.office_head)
    await desk.stack.probe.wait_for("letter.accepted", letter_id=letter_id)
    assert len(desk.stack.probe.of_type("slip.submitted", letter_id=letter_id)) == 1


@pytest.mark.parametrize(
    ("slip", "field"),
    [
        ({"accepted": True, "route": "direct", "lead_unit_id": "no-such-unit"}, "lead_unit_id"),
        (
            {
                "accepted": True,
                "route": "direct",
                "lead_unit_id": LEAD,
                "assisting_unit_ids": ["nowhere-unit"],
            },
            "assisting_unit_ids",
        ),
        (
            {
                "accepted": True,
                "route": "direct",
                "lead_unit_id": LEAD,
                "assisting_unit_ids": [LEAD],
            },
            "assisting_unit_ids",
        ),
        ({"accepted": True, "route": "direct"}, "lead_unit_id"),
        ({"accepted": True, "route": "forward", "recipient_id": "no-such-dept"}, "recipient_id"),
        (
            {"accepted": True, "route": "forward", "recipient_id": "city-mailbox-office"},
            "recipient_id",
        ),
        ({"accepted": True}, "route"),
        ({"accepted": False}, "not_accepted_reason"),
        (
            {"accepted": False, "not_accepted_reason": "malicious", "lead_unit_id": LEAD},
            "lead_unit_id",
        ),
        ({"accepted": True, "route": "sideways"}, "route"),
        ({"accepted": True, "route": "direct", "lead_unit_id": "BAD ID"}, "lead_unit_id"),
    ],
)
async def test_a_bad_slip_answers_422_naming_the_field(
    desk: Desk, slip: dict[str, object], field: str
) -> None:
    letter_id = await desk.register()
    body = {"opinion": "意见。", "nature": "complaint", **slip}
    answer = await desk.call(letter_id, "/slip", Role.office_clerk, body, method="PUT", expect=422)
    fields = [e["field"] for e in answer["details"]["errors"]]
    assert fields[0].startswith(field), answer
    assert (await desk.letter(letter_id))["state"] == "registered"


async def test_the_slip_prints_as_a_confidential_page(desk: Desk) -> None:
    letter_id = await desk.register()
    await desk.accept_direct(letter_id)
    response = await desk.client.get(
        f"/letters/{letter_id}/slip.html", headers=desk.headers(Role.office_clerk)
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    for words in (
        "市商务委公开信箱（电话）处理单",
        "内部资料 注意保密",
        "王小明",
        "受理意见",
        "办公室负责人",
        "牵头单位：市场秩序处",
        "@page",
        "A4",
        "10个工作日",
    ):
        assert words in page, words
    admin = await desk.client.get(
        f"/letters/{letter_id}/slip.html", headers=desk.headers(Role.admin)
    )
    assert admin.status_code == 403


async def test_only_the_office_head_approves_and_only_a_submitted_slip(desk: Desk) -> None:
    letter_id = await desk.register()
    answer = await desk.call(letter_id, "/slip/approve", Role.office_head, expect=409)
    assert answer["error"] == "invalid_state"
    assert answer["details"]["state"] == "registered"
    assert "draft_slip" in answer["details"]["allowed_actions"]
    slip = {
        "opinion": "建议直办。",
        "nature": "complaint",
        "accepted": True,
        "route": "direct",
        "lead_unit_id": LEAD,
    }
    await desk.call(letter_id, "/slip", Role.office_clerk, slip, method="PUT")
    await desk.call(letter_id, "/slip/submit", Role.office_clerk)
    answer = await desk.call(letter_id, "/slip/approve", Role.office_clerk, expect=403)
    assert answer["details"]["allowed_roles"] == ["office_head"]
    answer = await desk.call(letter_id, "/slip", Role.office_clerk, slip, method="PUT", expect=409)
    assert answer["details"]["state"] == "slip_submitted"


async def test_a_unit_never_sees_letters_before_they_are_its_own(desk: Desk) -> None:
    letter_id = await desk.register()
    response = await desk.get(letter_id, Role.unit_head, unit=LEAD)
    assert response.status_code == 404
    listed = await desk.client.get("/letters", headers=desk.headers(Role.unit_head, LEAD))
    assert letter_id not in [item["id"] for item in listed.json()["items"]]


async def test_letters_are_stored_with_search_tokens_beside_the_seeded_directory(
    desk: Desk,
) -> None:
    letter_id = await desk.register()
    client = make_client(MONGO_URL)
    try:
        db = client[desk.stack.settings.mongo_db]
        doc = await db["letters"].find_one({"_id": letter_id})
        assert doc is not None
        assert {"预付卡", "健身房", "退款"} <= set(doc["search_tokens"])
        names = {i["name"] for i in await (await db["letters"].list_indexes()).to_list(None)}
        # FerretDB v1 would only pay for a secondary index, never use it: MongoDB gets it.
        searchable = any(name.startswith("search_tokens_1") for name in names)
        assert searchable is not await is_ferretdb(db)
        assert await db["units"].find_one({"_id": LEAD}) is not None
        assert await db["recipients"].find_one({"kind": "city_mailbox_office"}) is not None
        assert await db["rules"].find_one({"_id": "current"}) is not None
    finally:
        await client.close()


async def test_a_not_accepted_letter_stays_so_when_answered_and_is_archived(desk: Desk) -> None:
    letter_id = await desk.register()
    slip = {
        "opinion": "推销广告。",
        "nature": "other",
        "accepted": False,
        "not_accepted_reason": "advertising",
    }
    await desk.call(letter_id, "/slip", Role.office_clerk, slip, method="PUT")
    await desk.call(letter_id, "/slip/submit", Role.office_clerk)
    await desk.call(letter_id, "/slip/approve", Role.office_head)
    published = LetterPublished(
        upload_id="upl_na",
        platform="cq-gov-mailbox",
        kind="not_accepted",
        visibility="public",
        published_at=NOW,
    )
    archived = LetterArchived(archive_id="arc_na", sha256="a" * 64, archived_at=NOW)
    for data in (published, archived):
        await desk.stack.probe.publish(
            make_event(data, producer="publishing", occurred_at=NOW, letter_id=letter_id)
        )
    deadline = asyncio.get_running_loop().time() + 10
    letter = await desk.letter(letter_id)
    while letter["state"] != "archived":
        assert asyncio.get_running_loop().time() < deadline, letter["state"]
        await asyncio.sleep(0.05)
        letter = await desk.letter(letter_id)
    assert letter["publications"][0]["kind"] == "not_accepted"
    assert letter["decision"]["outcome"] == "not_accepted"


async def test_the_workflow_table_is_served(desk: Desk) -> None:
    response = await desk.client.get("/workflow", headers=desk.headers(Role.unit_handler))
    assert response.status_code == 200
    table = response.json()
    assert table["slip_submitted"]["approve_slip"]["roles"] == ["office_head"]
    assert table["registered"]["draft_slip"]["target"] == "slip_drafted"
    assert (await desk.client.get("/workflow")).status_code == 401
