"""Answers to reminders (Art. 27): in time by the answer clock's due, or at the cost of a deduction.

The answer clock decides: the answer's `in_time` and the deduction both follow its due
as it stands when the unit answers (a calendar change moves it), and the races between
an answer and the timer or sweep that sees the due pass end in one verdict.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from services.deadlines.clocks.follow_ups import record_unanswered
from services.deadlines.clocks.models import (
    ClockDoc,
    answer_clock_id,
    handling_clock_id,
)
from services.deadlines.supervision.models import (
    ReminderAnswer,
    assessment_item_id,
    reminder_id,
)
from services.deadlines.supervision.repository import (
    AssessmentRepository,
    ReminderRepository,
)
from shared.aggregate import AggregateStore, Change
from shared.auth import Role
from shared.events.vocabulary import ClockState
from shared.mongo import make_client
from tests.deadlines.harness import Harness, at
from tests.support import auth

HANDED_OVER = at("2026-10-13T09:00:00")  # handling due 10-27 at night
ANSWER_DUE = at("2026-10-29T23:59:59")  # a reminder issued 10-28 is answered by 10-29
OFFICE = auth(Role.office_leader)
ADMIN = auth(Role.admin)


@pytest.fixture(scope="module")
async def h() -> AsyncIterator[Harness]:
    harness = Harness(now=HANDED_OVER)
    await harness.start()
    yield harness
    await harness.stop()


async def _overdue_with_reminder(h: Harness, *, unit: str, unit_name: str) -> tuple[str, str]:
    """A letter whose handling went overdue and raised a reminder; its id and the reminder's."""
    letter = h.letter_id()
    h.clock.set(HANDED_OVER)
    await h.received(letter, received_at=at("2026-10-12T10:00:00"))
    await h.accepted(letter, handed_over_at=HANDED_OVER, unit_id=unit, unit_name=unit_name)
    clock = await h.wait_clock(handling_clock_id(letter))
    h.clock.set(at("2026-10-28T08:00:00"))
    await h.service.sweep()
    rid = reminder_id(clock.id, number=1)
    answer_clock = await h.clock_doc(answer_clock_id(rid))
    assert answer_clock is not None
    assert answer_clock.state == ClockState.running
    assert answer_clock.due == ANSWER_DUE
    return letter, rid


async def _answer(h: Harness, rid: str, *, unit: str) -> dict[str, object]:
    mine = auth(Role.unit_head, unit_id=unit)
    response = await h.client.post(
        f"/reminders/{rid}/answer", json={"text": "已办结，答复已提交。"}, headers=mine
    )
    assert response.status_code == 200, response.text
    answer: dict[str, object] = response.json()["answer"]
    return answer


async def _answer_clock(h: Harness, rid: str) -> ClockDoc:
    clock = await h.clock_doc(answer_clock_id(rid))
    assert clock is not None
    return clock


async def _items(h: Harness, *, unit: str) -> list[str]:
    items = await h.client.get("/assessment", params={"year": 2026, "unit": unit}, headers=OFFICE)
    assert items.status_code == 200, items.text
    return [i["id"] for i in items.json()["items"]]


async def _assert_one_deduction(h: Harness, *, letter: str, rid: str, unit: str) -> None:
    recorded = await h.probe.wait_for("assessment.recorded", letter_id=letter)
    assert recorded[0].data["kind"] == "reminder_unanswered"
    assert recorded[0].data["unit_id"] == unit
    assert recorded[0].data["points"] == h.settings.weight("reminder_unanswered")
    assert await _items(h, unit=unit) == [assessment_item_id(rid)]
    closed = await _answer_clock(h, rid)
    assert closed.state == ClockState.overdue
    assert closed.follow_up is None


async def test_a_reminder_answered_late_records_one_deduction(h: Harness) -> None:
    # Art. 27: an answer after the answer due is not one in time, even when no timer or
    # sweep marked its clock overdue first (Redis down, a restart, between two sweeps).
    letter, rid = await _overdue_with_reminder(h, unit="unit_late", unit_name="迟复处")

    answered_at = at("2026-10-30T10:00:00")  # the answer was due 10-29 at night
    h.clock.set(answered_at)
    assert (await _answer(h, rid, unit="unit_late"))["in_time"] is False
    late = await _answer_clock(h, rid)
    assert late.closed_at == answered_at
    assert [e.action for e in late.history] == ["opened", "closed"]
    await _assert_one_deduction(h, letter=letter, rid=rid, unit="unit_late")
    recorded = h.probe.of_type("assessment.recorded", letter_id=letter)
    assert "反馈于 2026-10-30 10:00" in recorded[0].data["reason"]

    # The timer arriving late, the sweep, and the closing applied again deduct nothing more.
    await h.service.on_timer(answer_clock_id(rid), "due")
    await h.service.sweep()
    await h.service.close_clock(answer_clock_id(rid), at=answered_at, why="answered again")
    await _assert_one_deduction(h, letter=letter, rid=rid, unit="unit_late")
    assert len(h.probe.of_type("assessment.recorded", letter_id=letter)) == 1


async def test_a_late_answer_whose_closing_was_lost_records_one_deduction(h: Harness) -> None:
    # The answer is stored, then the process dies before closing its clock: the sweep
    # closes the clock from the stored answer, and the late answer still costs the unit.
    letter, rid = await _overdue_with_reminder(h, unit="unit_crashed", unit_name="断电处")
    answered_at = at("2026-10-30T09:00:00")
    answer = ReminderAnswer(
        text="已办结。", answered_at=answered_at, by="u-head", by_name="处长", in_time=False
    )
    reminders: ReminderRepository = h.app.state.reminders
    await reminders.mutate(
        rid, lambda _: Change(set={"answered": True, "answer": answer.model_dump()})
    )

    h.clock.set(at("2026-10-30T10:00:00"))
    await h.service.sweep()
    closed = await _answer_clock(h, rid)
    assert closed.closed_at == answered_at
    await _assert_one_deduction(h, letter=letter, rid=rid, unit="unit_crashed")
    await h.service.sweep()
    await _assert_one_deduction(h, letter=letter, rid=rid, unit="unit_crashed")


@asynccontextmanager
async def _assessment_unreachable(h: Harness) -> AsyncIterator[None]:
    """The service's deduction items on a MongoDB nobody listens on: every write fails."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))  # a free port, released: nobody listens there
        port: int = sock.getsockname()[1]
    client = make_client(f"mongodb://127.0.0.1:{port}/", server_selection_timeout_s=0.2)
    working = h.service.assessment
    h.service.assessment = AssessmentRepository(
        AggregateStore(client["gone"]["assessment"], clock=h.clock)
    )
    try:
        yield
    finally:
        h.service.assessment = working
        await client.close()


async def test_a_late_answer_is_kept_when_its_deduction_cannot_be_recorded_yet(
    h: Harness,
) -> None:
    # The answer is stored before its clock closes; a deduction that fails to record
    # then must not turn the answer into an error (its retry would only get a 409): the
    # flag stays on the clock and the sweep records the deduction.
    letter, rid = await _overdue_with_reminder(h, unit="unit_unlucky", unit_name="不巧处")
    h.clock.set(at("2026-10-30T10:00:00"))
    async with _assessment_unreachable(h):
        assert (await _answer(h, rid, unit="unit_unlucky"))["in_time"] is False
    owed = await _answer_clock(h, rid)
    assert owed.state == ClockState.overdue
    assert owed.closed_at == at("2026-10-30T10:00:00")
    assert owed.follow_up == "assessment"
    assert await _items(h, unit="unit_unlucky") == []

    h.clock.set(at("2026-10-30T11:00:00"))
    await h.service.sweep()
    await _assert_one_deduction(h, letter=letter, rid=rid, unit="unit_unlucky")


async def test_an_answer_by_a_due_the_calendar_moved_is_in_time_and_costs_nothing(
    h: Harness,
) -> None:
    # The reminder says 10-29; a holiday declared after it was issued moves its answer
    # clock to 10-30. An answer on 10-30 is in time by that clock: the answer says so
    # and no deduction follows (before, it was stored late yet never deducted).
    letter, rid = await _overdue_with_reminder(h, unit="unit_holiday", unit_name="放假处")
    h.clock.set(at("2026-10-28T09:00:00"))
    body = {"kind": "holiday", "note": "临时停工一天"}
    declared = await h.client.put("/calendar/overrides/2026-10-29", json=body, headers=ADMIN)
    assert declared.status_code == 200, declared.text
    try:
        moved = await _answer_clock(h, rid)
        assert moved.due == at("2026-10-30T23:59:59")
        reminder = await h.client.get(f"/reminders/{rid}", headers=OFFICE)
        assert reminder.json()["answer_due"].startswith("2026-10-29T23:59:59")

        h.clock.set(at("2026-10-30T10:00:00"))
        assert (await _answer(h, rid, unit="unit_holiday"))["in_time"] is True
        met = await _answer_clock(h, rid)
        assert met.state == ClockState.met
        assert met.follow_up is None
    finally:
        removed = await h.client.delete("/calendar/overrides/2026-10-29", headers=ADMIN)
        assert removed.status_code == 200, removed.text

    h.clock.set(at("2026-11-02T10:00:00"))
    await h.service.sweep()
    assert await _items(h, unit="unit_holiday") == []
    assert h.probe.of_type("assessment.recorded", letter_id=letter) == []


async def _timer_marks_overdue(h: Harness, rid: str) -> ClockDoc:
    """The timer's first step (due passed, reminder unanswered): overdue, deduction owed.

    Its second step, recording the deduction, has not run yet: what the follow-up read is
    returned, to finish that step later.
    """
    h.clock.set(at("2026-10-30T00:00:05"))
    service = h.service
    await service.clocks.mutate(
        answer_clock_id(rid),
        lambda d: service.rules.overdue(d, now=h.clock.now(), actor=service.actor),
    )
    marked = await _answer_clock(h, rid)
    assert marked.state == ClockState.overdue
    assert marked.follow_up == "assessment"
    return marked


async def test_an_answer_by_the_due_that_the_timer_overtook_costs_nothing(h: Harness) -> None:
    # The unit answered at 23:50, by the 23:59:59 due; the answer's write was slow, and the
    # timer read the reminder unanswered and marked the clock overdue before it landed.
    letter, rid = await _overdue_with_reminder(h, unit="unit_slow", unit_name="慢写处")
    timer_read = await _timer_marks_overdue(h, rid)

    answered_at = at("2026-10-29T23:50:00")
    h.clock.set(answered_at)  # the instant the answer was given, before the timer woke
    assert (await _answer(h, rid, unit="unit_slow"))["in_time"] is True
    met = await _answer_clock(h, rid)
    assert met.state == ClockState.met
    assert met.closed_at == answered_at
    assert met.overdue_at is None
    assert met.follow_up is None
    assert [e.action for e in met.history] == ["opened", "overdue", "closed"]

    # The timer's follow-up, still holding the clock it read overdue, then the sweep:
    # neither records a deduction for an answer given in time.
    await record_unanswered(h.service, timer_read)
    h.clock.set(at("2026-10-30T10:00:00"))
    await h.service.sweep()
    assert await _items(h, unit="unit_slow") == []
    assert h.probe.of_type("assessment.recorded", letter_id=letter) == []


async def test_an_answer_by_the_due_after_the_deduction_was_recorded_keeps_it(
    h: Harness,
) -> None:
    # The same race, but the timer's follow-up got as far as recording the deduction
    # before the answer's clock closed: a deduction recorded stands, and the answer and
    # the clock say late, as it cost the unit.
    letter, rid = await _overdue_with_reminder(h, unit="unit_slower", unit_name="更慢处")
    await _timer_marks_overdue(h, rid)
    await h.service.follow_up(answer_clock_id(rid))

    h.clock.set(at("2026-10-29T23:50:00"))
    assert (await _answer(h, rid, unit="unit_slower"))["in_time"] is False
    await _assert_one_deduction(h, letter=letter, rid=rid, unit="unit_slower")
    h.clock.set(at("2026-10-30T10:00:00"))
    await h.service.sweep()
    await _assert_one_deduction(h, letter=letter, rid=rid, unit="unit_slower")
    assert len(h.probe.of_type("assessment.recorded", letter_id=letter)) == 1
