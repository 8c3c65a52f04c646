"""Clocks opened, closed and overdue through events, against the real servers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from services.deadlines.calendar.working_days import WorkingCalendar
from services.deadlines.clocks.models import (
    ClockDoc,
    acceptance_clock_id,
    handling_clock_id,
    upload_clock_id,
)
from shared.events.catalog import (
    LetterNotAccepted,
    LetterPublished,
    ReplyReturned,
)
from shared.events.vocabulary import (
    ClockKind,
    ClockState,
    LetterSource,
    Nature,
    NotAcceptedReason,
    PublicationMode,
    ReturnReason,
)
from tests.deadlines.harness import Harness, at, until

CALENDAR = WorkingCalendar.build()
UNIT = "unit_market"


@pytest.fixture(scope="module")
async def h() -> AsyncIterator[Harness]:
    harness = Harness(now=at("2026-10-12T10:00:00"))
    await harness.start()
    yield harness
    await harness.stop()


async def applied(h: Harness, clock_id: str, event_id: str) -> None:
    """Wait until the clock has seen an event (also one that changed nothing)."""

    async def seen() -> bool:
        raw = await h.service.clocks.get(clock_id)
        return raw is not None and event_id in raw.get("applied_events", [])

    await until(seen, what=f"event {event_id} applied to {clock_id}")


def closings(clock: ClockDoc) -> list[str]:
    return [e.action for e in clock.history if e.action in ("opened", "closed", "reopened")]


async def test_acceptance_clock_opens_on_receipt_and_is_met_by_the_slip_submission(
    h: Harness,
) -> None:
    # Art. 18: the office proposes its acceptance opinion (the clerk submits the slip to
    # the office head) within one working day; the head's approval is not the deadline.
    letter = h.letter_id()
    received_at = at("2026-10-12T10:00:00")
    h.clock.set(received_at)
    await h.received(letter, received_at=received_at)

    opened = await h.wait_clock(acceptance_clock_id(letter))
    assert opened.kind == ClockKind.acceptance
    assert opened.state == ClockState.running
    assert opened.unit_id is None
    assert opened.due == CALENDAR.due(received_at, working_days=1).due
    assert opened.due == at("2026-10-13T23:59:59")
    assert not opened.provisional

    submitted_at = at("2026-10-13T16:00:00")
    h.clock.set(submitted_at)
    await h.slip_submitted(letter, submitted_at=submitted_at)
    closed = await h.wait_clock(acceptance_clock_id(letter), lambda c: c.closed_at is not None)
    assert closed.state == ClockState.met
    assert closed.closed_at == submitted_at
    assert closings(closed) == ["opened", "closed"]
    closed_events = await h.probe.wait_for("clock.closed", letter_id=letter)
    assert closed_events[0].data["state"] == "met"

    # The head approves two days later, past the acceptance due: nothing changes.
    decided_at = at("2026-10-15T09:00:00")
    h.clock.set(decided_at)
    approval = await h.accepted(letter, handed_over_at=decided_at, unit_id=UNIT)
    await applied(h, acceptance_clock_id(letter), approval.id)
    after = await h.clock_doc(acceptance_clock_id(letter))
    assert after is not None
    assert after.state == ClockState.met
    assert after.closed_at == submitted_at
    assert closings(after) == ["opened", "closed"]
    handling = await h.wait_clock(handling_clock_id(letter))
    assert handling.start == decided_at  # the unit's time runs from the hand-over

    scheduled = await h.probe.wait_for("clock.scheduled", letter_id=letter, count=2)
    assert {e.data["kind"] for e in scheduled} == {"acceptance", "handling"}
    acceptance_closed = [
        e
        for e in h.probe.of_type("clock.closed", letter_id=letter)
        if e.data["kind"] == "acceptance"
    ]
    assert len(acceptance_closed) == 1


async def test_a_slip_submitted_after_the_working_day_closes_the_clock_overdue(h: Harness) -> None:
    letter = h.letter_id()
    received_at = at("2026-10-16T18:00:00")  # Friday evening: due Monday night
    h.clock.set(received_at)
    await h.received(letter, received_at=received_at)
    clock = await h.wait_clock(acceptance_clock_id(letter))
    assert clock.due == at("2026-10-19T23:59:59")

    submitted_at = at("2026-10-20T08:30:00")
    h.clock.set(submitted_at)
    await h.slip_submitted(letter, submitted_at=submitted_at)
    closed = await h.wait_clock(acceptance_clock_id(letter), lambda c: c.closed_at is not None)
    assert closed.state == ClockState.overdue
    assert closed.closed_at == submitted_at


async def test_a_resubmission_after_a_send_back_does_not_move_the_closed_clock(
    h: Harness,
) -> None:
    letter = h.letter_id()
    h.clock.set(at("2026-10-12T10:00:00"))
    await h.received(letter, received_at=at("2026-10-12T10:00:00"))
    await h.wait_clock(acceptance_clock_id(letter))

    first = at("2026-10-13T11:00:00")
    h.clock.set(first)
    await h.slip_submitted(letter, submitted_at=first)
    await h.wait_clock(acceptance_clock_id(letter), lambda c: c.closed_at is not None)

    # The head sent the slip back; the clerk resubmits after the due.
    again = at("2026-10-14T10:00:00")
    h.clock.set(again)
    resubmitted = await h.slip_submitted(letter, submitted_at=again, submission=2)
    await applied(h, acceptance_clock_id(letter), resubmitted.id)
    h.clock.set(at("2026-10-14T15:00:00"))
    approval = await h.accepted(letter, handed_over_at=at("2026-10-14T15:00:00"), unit_id=UNIT)
    await applied(h, acceptance_clock_id(letter), approval.id)

    clock = await h.clock_doc(acceptance_clock_id(letter))
    assert clock is not None
    assert clock.state == ClockState.met
    assert clock.closed_at == first
    assert closings(clock) == ["opened", "closed"]
    acceptance_closed = [
        e
        for e in h.probe.of_type("clock.closed", letter_id=letter)
        if e.data["kind"] == "acceptance"
    ]
    assert len(acceptance_closed) == 1


async def test_a_slip_submitted_before_the_receipt_is_seen_closes_the_new_clock(
    h: Harness,
) -> None:
    letter = h.letter_id()
    h.clock.set(at("2026-10-13T15:00:00"))
    await h.slip_submitted(letter, submitted_at=at("2026-10-13T09:00:00"))
    await until(lambda: _has_submission(h, letter), what=f"the slip submission of {letter}")
    await h.accepted(letter, handed_over_at=at("2026-10-13T15:00:00"), unit_id=UNIT)
    await h.wait_clock(handling_clock_id(letter))
    await h.received(letter, received_at=at("2026-10-12T10:00:00"))

    acceptance = await h.wait_clock(acceptance_clock_id(letter))
    assert acceptance.state == ClockState.met
    assert acceptance.closed_at == at("2026-10-13T09:00:00")


async def _has_submission(h: Harness, letter: str) -> bool:
    known = await h.app.state.facts.get(letter)
    return bool(known and known.get("slip_submissions"))


async def test_a_letter_taken_by_phone_counts_from_the_call(h: Harness) -> None:
    # Art. 31: the office received the letter when the writer called; the clerk may
    # register it later, and the acceptance day runs from the call.
    letter = h.letter_id()
    called_at = at("2026-10-12T17:30:00")  # Monday afternoon
    registered_at = at("2026-10-13T09:10:00")  # Tuesday morning
    h.clock.set(registered_at)
    await h.received(
        letter,
        received_at=registered_at,
        platform="manual",
        source=LetterSource.hotline,
        submitted_at=called_at,
    )
    clock = await h.wait_clock(acceptance_clock_id(letter))
    assert clock.start == called_at
    assert clock.due == at("2026-10-13T23:59:59")
    assert clock.due == CALENDAR.due(called_at, working_days=1).due
    assert "called" in clock.history[0].why


async def test_a_platform_letter_counts_from_its_registration_not_the_platform_time(
    h: Harness,
) -> None:
    letter = h.letter_id()
    registered_at = at("2026-10-13T09:10:00")
    h.clock.set(registered_at)
    await h.received(letter, received_at=registered_at, submitted_at=at("2026-10-12T17:30:00"))
    clock = await h.wait_clock(acceptance_clock_id(letter))
    assert clock.start == registered_at
    assert clock.due == at("2026-10-14T23:59:59")


# Art. 19: 咨询 3 working days; 建议、求助、投诉、举报 and 其他 10. Spelled out per nature
# (not derived from the code under test), and every nature of the enum is here.
HANDLING_WORKING_DAYS = {
    Nature.consultation: 3,
    Nature.suggestion: 10,
    Nature.help: 10,
    Nature.complaint: 10,
    Nature.report: 10,
    Nature.other: 10,
}


def test_every_nature_has_its_handling_time() -> None:
    assert set(HANDLING_WORKING_DAYS) == set(Nature)


@pytest.mark.parametrize(("nature", "working_days"), list(HANDLING_WORKING_DAYS.items()))
async def test_handling_clock_counts_three_or_ten_working_days(
    h: Harness, nature: Nature, working_days: int
) -> None:
    letter = h.letter_id()
    handed_over_at = at("2026-10-13T09:00:00")
    h.clock.set(handed_over_at)
    await h.received(letter, received_at=at("2026-10-12T10:00:00"))
    await h.accepted(letter, handed_over_at=handed_over_at, unit_id=UNIT, nature=nature)

    clock = await h.wait_clock(handling_clock_id(letter))
    assert clock.unit_id == UNIT
    assert clock.working_days == working_days
    assert clock.due == CALENDAR.due(handed_over_at, working_days=working_days).due
    assert clock.state == ClockState.running


async def test_reply_closes_handling_and_opens_upload_closed_by_publication(h: Harness) -> None:
    letter = h.letter_id()
    h.clock.set(at("2026-10-13T09:00:00"))
    await h.received(letter, received_at=at("2026-10-12T10:00:00"))
    await h.accepted(letter, handed_over_at=at("2026-10-13T09:00:00"), unit_id=UNIT)
    await h.wait_clock(handling_clock_id(letter))

    submitted_at = at("2026-10-20T15:00:00")
    h.clock.set(submitted_at)
    await h.submitted(letter, submitted_at=submitted_at, unit_id=UNIT)
    handling = await h.wait_clock(handling_clock_id(letter), lambda c: c.closed_at is not None)
    assert handling.state == ClockState.met
    upload_id = upload_clock_id(letter, reply_id=f"rpl-{letter}", revision=1)
    upload = await h.wait_clock(upload_id)
    assert upload.kind == ClockKind.upload
    assert upload.unit_id is None
    assert upload.due == at("2026-10-21T23:59:59")

    published_at = at("2026-10-22T10:00:00")  # a day late
    h.clock.set(published_at)
    await h.publish(
        LetterPublished(
            upload_id="upl-1",
            platform="cq_gov",
            kind="reply",
            visibility="public",
            mode=PublicationMode.online,
            published_at=published_at,
        ),
        letter_id=letter,
        producer="publishing",
    )
    late = await h.wait_clock(upload_id, lambda c: c.closed_at is not None)
    assert late.state == ClockState.overdue
    assert late.closed_at == published_at


async def test_returned_reply_stops_upload_and_reopens_handling_with_the_old_due(
    h: Harness,
) -> None:
    letter = h.letter_id()
    h.clock.set(at("2026-10-13T09:00:00"))
    await h.received(letter, received_at=at("2026-10-12T10:00:00"))
    await h.accepted(letter, handed_over_at=at("2026-10-13T09:00:00"), unit_id=UNIT)
    first = await h.wait_clock(handling_clock_id(letter))
    h.clock.set(at("2026-10-15T09:00:00"))
    await h.submitted(letter, submitted_at=at("2026-10-15T09:00:00"), unit_id=UNIT)
    upload_id = upload_clock_id(letter, reply_id=f"rpl-{letter}", revision=1)
    await h.wait_clock(upload_id)

    returned_at = at("2026-10-15T16:00:00")
    h.clock.set(returned_at)
    await h.publish(
        ReplyReturned(
            reply_id=f"rpl-{letter}",
            revision=1,
            unit_id=UNIT,
            reason=ReturnReason.perfunctory,
            comment="未说明调查经过",
            returned_at=returned_at,
        ),
        letter_id=letter,
    )
    stopped = await h.wait_clock(upload_id, lambda c: c.state == ClockState.stopped)
    assert stopped.closed_at == returned_at
    reopened = await h.wait_clock(
        handling_clock_id(letter), lambda c: c.closed_at is None and len(c.history) >= 3
    )
    assert reopened.state == ClockState.running
    assert reopened.due == first.due
    assert [e.action for e in reopened.history] == ["opened", "closed", "reopened"]

    # A returned reply with a new due set by the office moves it.
    new_due = at("2026-10-30T17:00:00")
    await h.publish(
        ReplyReturned(
            reply_id=f"rpl-{letter}",
            revision=2,
            unit_id=UNIT,
            reason=ReturnReason.off_topic,
            comment="答非所问",
            new_due=new_due,
            returned_at=returned_at + timedelta(minutes=5),
        ),
        letter_id=letter,
    )
    moved = await h.wait_clock(handling_clock_id(letter), lambda c: c.due == new_due)
    assert not moved.provisional


async def test_acceptance_overdue_concerns_the_office_and_raises_no_reminder(h: Harness) -> None:
    letter = h.letter_id()
    received_at = at("2026-10-16T18:00:00")  # Friday evening: due Monday night
    h.clock.set(received_at)
    await h.received(letter, received_at=received_at)
    clock = await h.wait_clock(acceptance_clock_id(letter))
    assert clock.due == at("2026-10-19T23:59:59")

    h.clock.set(at("2026-10-20T08:00:00"))
    await h.service.sweep()
    overdue = await h.clock_doc(acceptance_clock_id(letter))
    assert overdue is not None
    assert overdue.state == ClockState.overdue
    assert overdue.follow_up is None
    assert overdue.reminders == []
    events = await h.probe.wait_for("clock.overdue", letter_id=letter)
    assert events[0].data["kind"] == "acceptance"
    assert h.probe.of_type("reminder.issued", letter_id=letter) == []

    # No `slip.submitted` came (lost, or a letter from before it existed): the decision
    # closes the clock as a fallback, late, so still overdue.
    h.clock.set(at("2026-10-20T09:00:00"))
    await h.publish(
        LetterNotAccepted(
            slip_id="s",
            reason=NotAcceptedReason.advertising,
            reply_text="推销广告，不予受理。",
            decided_at=at("2026-10-20T09:00:00"),
        ),
        letter_id=letter,
    )
    closed = await h.wait_clock(acceptance_clock_id(letter), lambda c: c.closed_at is not None)
    assert closed.state == ClockState.overdue


async def test_a_redelivered_event_changes_nothing(h: Harness) -> None:
    letter = h.letter_id()
    # Before the acceptance clock's due-soon instant (00:00 of its last working day), so
    # no due-soon timer races the acceptance: the history is the events' alone.
    h.clock.set(at("2026-10-12T12:00:00"))
    await h.received(letter, received_at=at("2026-10-12T10:00:00"))
    accepted = await h.accepted(letter, handed_over_at=at("2026-10-13T09:00:00"), unit_id=UNIT)
    await h.wait_clock(handling_clock_id(letter))
    await h.probe.publish(accepted)  # the broker delivers it again
    await h.submitted(letter, submitted_at=at("2026-10-14T09:00:00"), unit_id=UNIT)
    handling = await h.wait_clock(handling_clock_id(letter), lambda c: c.closed_at is not None)

    assert [e.action for e in handling.history] == ["opened", "closed"]
    acceptance = await h.clock_doc(acceptance_clock_id(letter))
    assert acceptance is not None
    assert [e.action for e in acceptance.history] == ["opened", "closed"]
    handling_opened = [
        e
        for e in h.probe.of_type("clock.scheduled", letter_id=letter)
        if e.data["kind"] == "handling"
    ]
    assert len(handling_opened) == 1


async def test_a_decision_seen_before_the_receipt_closes_the_new_clock(h: Harness) -> None:
    letter = h.letter_id()
    h.clock.set(at("2026-10-13T09:00:00"))
    await h.accepted(letter, handed_over_at=at("2026-10-13T09:00:00"), unit_id=UNIT)
    await h.wait_clock(handling_clock_id(letter))
    await h.received(letter, received_at=at("2026-10-12T10:00:00"))

    acceptance = await h.wait_clock(acceptance_clock_id(letter))
    assert acceptance.state == ClockState.met
    assert acceptance.closed_at == at("2026-10-13T09:00:00")
