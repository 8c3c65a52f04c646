"""Calendar administration: overrides and confirmed years recount running clocks."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from pydantic import ValidationError

from services.deadlines.calendar.working_days import DayOverride, WorkingCalendar
from services.deadlines.clocks.models import (
    acceptance_clock_id,
    handling_clock_id,
)
from services.deadlines.settings import DeadlinesSettings
from shared.auth import Role
from shared.events.vocabulary import ClockState
from tests.deadlines.harness import Harness, at
from tests.support import auth

UNIT = "unit_calendar"
ADMIN = auth(Role.admin)


@pytest.fixture(scope="module")
async def h() -> AsyncIterator[Harness]:
    harness = Harness(now=at("2026-10-13T09:00:00"), clock_control=True)
    await harness.start()
    yield harness
    await harness.stop()


async def test_an_override_recounts_running_clocks_and_is_recorded(h: Harness) -> None:
    letter = h.letter_id()
    handed_over = at("2026-10-13T09:00:00")
    h.clock.set(handed_over)
    await h.received(letter, received_at=at("2026-10-12T10:00:00"))
    await h.accepted(letter, handed_over_at=handed_over, unit_id=UNIT)
    before = await h.wait_clock(handling_clock_id(letter))
    assert before.due == at("2026-10-27T23:59:59")

    body = {"kind": "holiday", "note": "市政府临时通知：10月20日停工一天"}
    forbidden = await h.client.put(
        "/calendar/overrides/2026-10-20", json=body, headers=auth(Role.office_head)
    )
    assert forbidden.status_code == 403
    response = await h.client.put("/calendar/overrides/2026-10-20", json=body, headers=ADMIN)
    assert response.status_code == 200, response.text
    year = response.json()
    assert year["recomputed_clocks"] >= 1
    assert [o["day"] for o in year["overrides"]] == ["2026-10-20"]

    expected = WorkingCalendar.build(
        overrides=[DayOverride(day=at("2026-10-20T00:00:00").date(), kind="holiday", note="x")]
    ).due(handed_over, working_days=10)
    after = await h.clock_doc(handling_clock_id(letter))
    assert after is not None
    assert after.due == expected.due == at("2026-10-28T23:59:59")
    assert after.history[-1].action == "recomputed"
    assert after.history[-1].why == "working-day calendar changed"
    recomputed = [
        e
        for e in await h.probe.wait_for("clock.scheduled", letter_id=letter, count=3)
        if e.data["change"] == "recomputed"
    ]
    assert recomputed[0].data["due"].startswith("2026-10-28T15:59:59")
    # A clock already closed keeps its due.
    acceptance = await h.clock_doc(acceptance_clock_id(letter))
    assert acceptance is not None
    assert acceptance.history[-1].action == "closed"

    removed = await h.client.delete("/calendar/overrides/2026-10-20", headers=ADMIN)
    assert removed.status_code == 200
    back = await h.clock_doc(handling_clock_id(letter))
    assert back is not None
    assert back.due == before.due
    missing = await h.client.delete("/calendar/overrides/2026-10-21", headers=ADMIN)
    assert missing.status_code == 404


async def test_a_letter_of_christmas_eve_gets_provisional_dues_until_2027_is_confirmed(
    h: Harness,
) -> None:
    letter = h.letter_id()
    received = at("2026-12-24T10:00:00")
    h.clock.set(received)
    await h.received(letter, received_at=received)
    await h.accepted(letter, handed_over_at=received, unit_id=UNIT)
    handling = await h.wait_clock(handling_clock_id(letter))
    assert handling.due.year == 2027
    assert handling.provisional
    acceptance = await h.clock_doc(acceptance_clock_id(letter))
    assert acceptance is not None
    assert not acceptance.provisional  # due on 2026-12-25

    status = await h.client.get("/calendar/2027", headers=auth(Role.office_clerk))
    assert status.json()["status"] == "provisional"
    listed = await h.client.get(f"/letters/{letter}/clocks", headers=auth(Role.office_clerk))
    assert [c["provisional"] for c in listed.json()["items"] if c["kind"] == "handling"] == [True]

    response = await h.client.put(
        "/calendar/years/2027",
        json={"confirmed": True, "note": "国办发明电〔2026〕X号 关于2027年部分节假日安排的通知"},
        headers=ADMIN,
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "confirmed"
    assert response.json()["confirmation"]["by"] == "u_admin"
    confirmed = await h.clock_doc(handling_clock_id(letter))
    assert confirmed is not None
    assert not confirmed.provisional
    assert confirmed.due == handling.due
    assert confirmed.history[-1].action == "recomputed"
    events = await h.probe.wait_for("clock.scheduled", letter_id=letter, count=3)
    assert events[-1].data["provisional"] is False


async def test_moving_the_clock_sweeps_at_once(h: Harness) -> None:
    letter = h.letter_id()
    received = at("2026-11-02T10:00:00")
    h.clock.set(received)
    await h.received(letter, received_at=received)
    clock = await h.wait_clock(acceptance_clock_id(letter))

    forbidden = await h.client.post(
        "/admin/clock", json={"advance_s": 60}, headers=auth(Role.office_leader)
    )
    assert forbidden.status_code == 403
    backwards = await h.client.post(
        "/admin/clock", json={"set_to": "2026-11-01T00:00:00+08:00"}, headers=ADMIN
    )
    assert backwards.status_code == 422
    target = clock.due + timedelta(seconds=1)
    response = await h.client.post(
        "/admin/clock", json={"set_to": target.isoformat()}, headers=ADMIN
    )
    assert response.status_code == 200, response.text
    assert response.json()["sweep"]["overdue"] >= 1
    overdue = await h.clock_doc(clock.id)
    assert overdue is not None
    assert overdue.state == ClockState.overdue


def test_clock_control_is_refused_in_production() -> None:
    with pytest.raises(ValidationError, match="clock_control"):
        DeadlinesSettings(
            environment="production",
            clock_control=True,
            token_secret=secrets.token_hex(32),  # a secret in the repository is refused
            amqp_url="amqp://mailbox:pw@127.0.0.1:5672/",
        )


async def test_without_clock_control_there_is_no_clock_endpoint() -> None:
    harness = Harness(now=at("2026-10-13T09:00:00"))
    await harness.start()
    try:
        response = await harness.client.post("/admin/clock", json={"advance_s": 1}, headers=ADMIN)
        assert response.status_code == 404
    finally:
        await harness.stop()
