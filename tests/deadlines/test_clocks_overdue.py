"""Overdue handling (Art. 27): extensions, reminders, answers and deductions."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from services.deadlines.calendar.working_days import WorkingCalendar
from services.deadlines.clocks.models import (
    ClockDoc,
    answer_clock_id,
    handling_clock_id,
)
from services.deadlines.supervision.models import (
    reminder_id,
)
from shared.auth import Role
from shared.events.catalog import ExtensionApproved, ExtensionRefused, ExtensionRequested
from shared.events.vocabulary import ClockKind, ClockState
from tests.deadlines.harness import Harness, at, until
from tests.support import auth

CALENDAR = WorkingCalendar.build()
UNIT = "unit_trade"
OTHER = "unit_other"
HANDED_OVER = at("2026-10-13T09:00:00")
DUE = CALENDAR.due(HANDED_OVER, working_days=10).due  # 2026-10-27 23:59:59


@pytest.fixture(scope="module")
async def h() -> AsyncIterator[Harness]:
    harness = Harness(now=HANDED_OVER)
    await harness.start()
    yield harness
    await harness.stop()


async def _handling(
    h: Harness, *, unit: str = UNIT, unit_name: str | None = "对外贸易处"
) -> tuple[str, ClockDoc]:
    letter = h.letter_id()
    h.clock.set(HANDED_OVER)
    # The decision is published before the receipt: the receipt's handler then reads it in
    # the letter's facts and opens the acceptance clock closed, whatever the timing. The
    # other order leaves a real window, not a race of handlers (events of a letter are
    # handled one at a time): the receipt, seen after the acceptance clock's due-soon
    # instant, opens the clock and its due-soon timer fires at once; a decision delivered
    # by then waits ahead of the timer for the letter's turn and closes the clock first
    # (`DeadlinesService.letter_turn`), but one not yet sent finds the notice sent.
    await h.accepted(letter, handed_over_at=HANDED_OVER, unit_id=unit, unit_name=unit_name)
    await h.received(letter, received_at=at("2026-10-12T10:00:00"))
    return letter, await h.wait_clock(handling_clock_id(letter))


async def test_overdue_handling_raises_a_reminder_answered_in_time(h: Harness) -> None:
    letter, clock = await _handling(h)
    assert clock.due == DUE == at("2026-10-27T23:59:59")

    h.clock.set(at("2026-10-28T08:00:00"))
    await h.service.sweep()
    overdue = await h.clock_doc(clock.id)
    assert overdue is not None
    assert overdue.state == ClockState.overdue
    assert overdue.overdue_at == DUE
    rid = reminder_id(clock.id, number=1)
    assert overdue.reminders == [rid]
    assert overdue.follow_up is None
    issued = await h.probe.wait_for("reminder.issued", letter_id=letter)
    assert issued[0].data["unit_id"] == UNIT
    answer_clock = await h.clock_doc(answer_clock_id(rid))
    assert answer_clock is not None
    assert answer_clock.kind == ClockKind.reminder_answer
    assert answer_clock.due == at("2026-10-29T23:59:59")

    # Another unit cannot see or answer it; the office cannot answer for the unit.
    other = auth(Role.unit_handler, unit_id=OTHER)
    assert (await h.client.get(f"/reminders/{rid}", headers=other)).status_code == 404
    answer = {"text": "已联系来信人，明日提交答复。"}
    response = await h.client.post(f"/reminders/{rid}/answer", json=answer, headers=other)
    assert response.status_code == 404
    office = auth(Role.office_clerk)
    response = await h.client.post(f"/reminders/{rid}/answer", json=answer, headers=office)
    assert response.status_code == 403
    # The office never answers: 403 before the reminder is looked up, whatever its id.
    made_up = "rem_01JX0000000000000000000000"
    response = await h.client.post(f"/reminders/{made_up}/answer", json=answer, headers=office)
    assert response.status_code == 403

    h.clock.set(at("2026-10-29T10:00:00"))
    mine = auth(Role.unit_head, unit_id=UNIT)
    response = await h.client.post(f"/reminders/{rid}/answer", json=answer, headers=mine)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["answered"] is True
    assert body["answer"]["in_time"] is True
    again = await h.client.post(f"/reminders/{rid}/answer", json=answer, headers=mine)
    assert again.status_code == 409

    met = await h.clock_doc(answer_clock_id(rid))
    assert met is not None
    assert met.state == ClockState.met
    h.clock.set(at("2026-10-31T10:00:00"))
    await h.service.sweep()
    items = await h.client.get("/assessment", params={"year": 2026, "unit": UNIT}, headers=office)
    assert [i for i in items.json()["items"] if i["letter_id"] == letter] == []
    await h.probe.wait_for("reminder.answered", letter_id=letter)


async def test_unanswered_reminder_records_a_deduction(h: Harness) -> None:
    letter, clock = await _handling(h, unit="unit_silent", unit_name="沉默处")
    h.clock.set(at("2026-10-28T08:00:00"))
    await h.service.sweep()
    rid = reminder_id(clock.id, number=1)
    h.clock.set(at("2026-10-30T08:00:00"))  # the answer was due 10-29 at night
    await h.service.sweep()

    answer_clock = await h.clock_doc(answer_clock_id(rid))
    assert answer_clock is not None
    assert answer_clock.state == ClockState.overdue
    recorded = await h.probe.wait_for("assessment.recorded", letter_id=letter)
    assert recorded[0].data["kind"] == "reminder_unanswered"
    assert recorded[0].data["unit_id"] == "unit_silent"
    weight = h.settings.weight("reminder_unanswered")
    assert recorded[0].data["points"] == weight

    office = auth(Role.office_leader)
    scores = await h.client.get(
        "/assessment/scores", params={"year": 2026, "unit": "unit_silent"}, headers=office
    )
    assert scores.status_code == 200
    assert scores.json()["units"] == [
        {
            "unit_id": "unit_silent",
            "unit_name": "沉默处",
            "score": h.settings.assessment_base_points - weight,
            "deducted": weight,
            "items": 1,
        }
    ]
    # Sweeping again records nothing more.
    await h.service.sweep()
    assert len(h.probe.of_type("assessment.recorded", letter_id=letter)) == 1


async def test_a_letters_supervision_is_read_whole_for_the_archive(h: Harness) -> None:
    # Art. 16 files the reminders, the unit's answers and the deductions with the letter.
    letter, clock = await _handling(h, unit="unit_tardy", unit_name="迟缓处")
    h.clock.set(at("2026-10-28T08:00:00"))
    await h.service.sweep()
    rid = reminder_id(clock.id, number=1)
    h.clock.set(at("2026-10-30T10:00:00"))  # the answer was due 10-29 at night
    mine = auth(Role.unit_head, unit_id="unit_tardy")
    answer = {"text": "已联系来信人，答复稿正在审核。"}
    response = await h.client.post(f"/reminders/{rid}/answer", json=answer, headers=mine)
    assert response.status_code == 200, response.text
    await h.probe.wait_for("assessment.recorded", letter_id=letter)

    service = auth(Role.service, user_id="service:publishing")
    response = await h.client.get(f"/letters/{letter}/supervision", headers=service)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["letter_id"] == letter
    [reminder] = body["reminders"]
    assert reminder["id"] == rid
    assert reminder["unit_id"] == "unit_tardy"
    assert reminder["text"].startswith("催办")
    assert reminder["answer"]["text"] == answer["text"]
    assert reminder["answer"]["in_time"] is False
    [item] = body["assessment_items"]
    assert item["kind"] == "reminder_unanswered"
    assert item["reminder_id"] == rid
    assert item["unit_id"] == "unit_tardy"
    assert item["points"] == h.settings.weight("reminder_unanswered")
    # The unit that handled it sees the same; another unit and an unknown letter are not found.
    assert (await h.client.get(f"/letters/{letter}/supervision", headers=mine)).json() == body
    other = auth(Role.unit_handler, unit_id=OTHER)
    assert (await h.client.get(f"/letters/{letter}/supervision", headers=other)).status_code == 404
    unknown = await h.client.get(f"/letters/{h.letter_id()}/supervision", headers=service)
    assert unknown.status_code == 404
    # A letter without reminders has empty lists, not a 404.
    quiet, _ = await _handling(h)
    response = await h.client.get(f"/letters/{quiet}/supervision", headers=service)
    assert response.json() == {"letter_id": quiet, "reminders": [], "assessment_items": []}


async def test_approved_extension_moves_the_due(h: Harness) -> None:
    letter, clock = await _handling(h)
    h.clock.set(at("2026-10-20T09:00:00"))
    await h.publish(
        ExtensionRequested(
            extension_id="ext-a",
            unit_id=UNIT,
            reason="需要现场调查",
            extra_working_days=5,
            requested_at=at("2026-10-20T09:00:00"),
        ),
        letter_id=letter,
    )
    await h.wait_clock(clock.id, lambda c: bool(c.pending_extensions))
    await h.publish(
        ExtensionApproved(
            extension_id="ext-a",
            unit_id=UNIT,
            extra_working_days=5,
            decided_at=at("2026-10-21T09:00:00"),
        ),
        letter_id=letter,
    )
    moved = await h.wait_clock(clock.id, lambda c: c.due != clock.due)
    assert moved.due == CALENDAR.due(HANDED_OVER, working_days=15).due
    assert moved.working_days == 15
    assert moved.pending_extensions == []
    assert [e.action for e in moved.history] == ["opened", "extension_requested", "extended"]
    scheduled = await h.probe.wait_for("clock.scheduled", letter_id=letter, count=3)
    assert scheduled[-1].data["change"] == "extended"

    # The old due passes: nothing happens.
    h.clock.set(at("2026-10-28T08:00:00"))
    await h.service.sweep()
    still = await h.clock_doc(clock.id)
    assert still is not None
    assert still.state == ClockState.running


async def test_pending_extension_holds_the_clock_and_a_refusal_makes_it_overdue(
    h: Harness,
) -> None:
    letter, clock = await _handling(h)
    h.clock.set(at("2026-10-27T15:00:00"))
    await h.publish(
        ExtensionRequested(
            extension_id="ext-b",
            unit_id=UNIT,
            reason="等待其他部门材料",
            extra_working_days=3,
            requested_at=at("2026-10-27T15:00:00"),
        ),
        letter_id=letter,
    )
    await h.wait_clock(clock.id, lambda c: bool(c.pending_extensions))

    h.clock.set(at("2026-10-28T09:00:00"))
    await h.service.sweep()
    waiting = await h.clock_doc(clock.id)
    assert waiting is not None
    assert waiting.state == ClockState.running
    assert waiting.awaiting_decision
    assert h.probe.of_type("clock.overdue", letter_id=letter) == []

    h.clock.set(at("2026-10-28T11:00:00"))
    await h.publish(
        ExtensionRefused(
            extension_id="ext-b",
            unit_id=UNIT,
            reason="理由不充分",
            decided_at=at("2026-10-28T11:00:00"),
        ),
        letter_id=letter,
    )
    overdue = await h.wait_clock(
        clock.id, lambda c: c.state == ClockState.overdue and bool(c.reminders)
    )
    assert overdue.overdue_at == DUE
    assert overdue.reminders == [reminder_id(clock.id, number=1)]
    await h.probe.wait_for("reminder.issued", letter_id=letter)


async def test_units_see_only_their_own_clocks(h: Harness) -> None:
    letter, clock = await _handling(h, unit="unit_seen")
    mine = auth(Role.unit_handler, unit_id="unit_seen")
    other = auth(Role.unit_handler, unit_id=OTHER)

    listed = await h.client.get("/units/unit_seen/clocks", headers=mine)
    assert listed.status_code == 200
    items = listed.json()["items"]
    assert [i["id"] for i in items] == [clock.id]
    assert items[0]["time_left"]["working_days"] == 10
    assert (await h.client.get("/units/unit_seen/clocks", headers=other)).status_code == 404
    assert (await h.client.get(f"/letters/{letter}/clocks", headers=other)).status_code == 404
    assert (await h.client.get(f"/clocks/{clock.id}", headers=other)).status_code == 404
    overdue = await h.client.get("/clocks/overdue", params={"unit": "unit_seen"}, headers=other)
    assert overdue.status_code == 404
    letter_clocks = await h.client.get(f"/letters/{letter}/clocks", headers=mine)
    assert {c["kind"] for c in letter_clocks.json()["items"]} == {"acceptance", "handling"}


async def test_only_office_heads_record_deductions(h: Harness) -> None:
    letter, _ = await _handling(h)
    body = {
        "unit_id": UNIT,
        "kind": "wrong_publication_mode",
        "trigger": "negative_social_impact",
        "reason": "应不公开却网上发布",
        "letter_id": letter,
    }
    for role, unit in ((Role.unit_head, UNIT), (Role.office_clerk, None)):
        response = await h.client.post("/assessment", json=body, headers=auth(role, unit_id=unit))
        assert response.status_code == 403
    h.clock.set(at("2026-11-02T10:00:00"))
    response = await h.client.post("/assessment", json=body, headers=auth(Role.office_head))
    assert response.status_code == 201, response.text
    item = response.json()
    assert item["kind"] == "wrong_publication_mode"
    assert item["points"] == h.settings.weight("wrong_publication_mode")
    assert item["year"] == 2026
    mine = await h.client.get(
        "/assessment", params={"year": 2026}, headers=auth(Role.unit_handler, unit_id=UNIT)
    )
    assert item["id"] in [i["id"] for i in mine.json()["items"]]
    theirs = await h.client.get(
        "/assessment", params={"year": 2026}, headers=auth(Role.unit_handler, unit_id=OTHER)
    )
    assert theirs.json()["items"] == []


async def test_a_deduction_is_for_a_unit_that_handled_a_known_letter(h: Harness) -> None:
    letter, _ = await _handling(h)
    head = auth(Role.office_head)
    item = {"unit_id": UNIT, "kind": "manual", "reason": "未按要求报送材料"}
    refused = {
        "no letter": (item, "letter_id"),
        "a letter nobody handed over": (
            {**item, "letter_id": "ltr_01JX9NOSUCHLETTER000000000"},
            "letter_id",
        ),
        "a unit that did not handle it": (
            {**item, "letter_id": letter, "unit_id": OTHER},
            "unit_id",
        ),
    }
    for what, (body, field) in refused.items():
        response = await h.client.post("/assessment", json=body, headers=head)
        assert response.status_code == 422, (what, response.text)
        errors = response.json()["details"]["errors"]
        assert errors[0]["field"] == field, (what, errors)
        assert errors[0]["reason"], what
    listed = await h.client.get("/assessment", params={"unit": UNIT}, headers=head)
    assert [i for i in listed.json()["items"] if i["letter_id"] == letter] == []
    assert h.probe.of_type("assessment.recorded", letter_id=letter) == []
    recorded = await h.client.post("/assessment", json={**item, "letter_id": letter}, headers=head)
    assert recorded.status_code == 201, recorded.text
    assert recorded.json()["letter_id"] == letter
    events = await h.probe.wait_for("assessment.recorded", letter_id=letter)
    assert events[0].data["unit_id"] == UNIT


async def test_a_request_after_the_due_does_not_hold_the_clock(h: Harness) -> None:
    letter, clock = await _handling(h)
    h.clock.set(at("2026-10-28T09:00:00"))
    late = await h.publish(
        ExtensionRequested(
            extension_id="ext-late",
            unit_id=UNIT,
            reason="来不及了",
            extra_working_days=2,
            requested_at=at("2026-10-28T09:00:00"),
        ),
        letter_id=letter,
    )

    async def applied() -> bool:
        raw = await h.service.clocks.get(clock.id)
        return raw is not None and late.id in raw["applied_events"]

    await until(applied, what="late extension request handled")
    await h.service.sweep()
    overdue = await h.wait_clock(clock.id, lambda c: c.state == ClockState.overdue)
    assert overdue.pending_extensions == []
    assert not overdue.awaiting_decision


async def test_due_soon_is_sent_once_at_the_start_of_the_last_working_day(h: Harness) -> None:
    letter, clock = await _handling(h)
    assert clock.due_soon_at == at("2026-10-27T00:00:00")
    h.clock.set(at("2026-10-26T23:59:00"))
    await h.service.sweep()
    assert h.probe.of_type("clock.due_soon", letter_id=letter) == []
    h.clock.set(at("2026-10-27T00:00:00"))
    await h.service.sweep()
    await h.service.sweep()
    notices = await h.probe.wait_for("clock.due_soon", letter_id=letter)
    assert len(notices) == 1
    assert notices[0].data["due"].startswith("2026-10-27T15:59:59")
