"""A reminder (催办, Art. 27) on a letter's page: deadlines raises it when the handling is
overdue, routing shows it, the unit answers it through the console (deadlines keeps it)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from services.deadlines.clocks.service import DeadlinesService
from shared.auth import Role
from tests.console.letter_harness import RepliesStack, form_of, page_form, post, replies_stack
from tests.routing.harness import LEAD
from tests.support import auth

# Two days past the handling due of a letter handed over on Monday 12 October 2026.
OVERDUE = datetime(2026, 10, 28, 0, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
async def rs() -> AsyncIterator[RepliesStack]:
    async with replies_stack(with_deadlines=True) as running_stack:
        yield running_stack


async def _eventually(rs: RepliesStack, letter_id: str, ready: Any, what: str) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 20
    while True:
        letter = await rs.desk.letter(letter_id)
        if ready(letter):
            return letter
        assert loop.time() < deadline, f"{what}: {letter}"
        await asyncio.sleep(0.1)


async def test_the_unit_answers_a_reminder_once_on_the_letters_page(rs: RepliesStack) -> None:
    assert rs.deadlines is not None and rs.deadlines_clock is not None
    handler = await rs.signed_in("handler.cui", role="unit_handler", unit_id=LEAD)
    letter_id = await rs.in_handling("handler.cui")
    await _eventually(rs, letter_id, lambda d: "handling" in d["clocks"], "no handling clock")
    rs.deadlines_clock.set(OVERDUE)
    deadlines: DeadlinesService = rs.deadlines.state.deadlines
    await deadlines.sweep()
    letter = await _eventually(rs, letter_id, lambda d: d["reminders"], "no reminder")
    reminder = letter["reminders"][0]
    assert reminder["unit_id"] == LEAD

    key = f"reminder:{reminder['reminder_id']}"
    page, hidden = await page_form(handler, letter_id)
    form = form_of(page, key)
    assert "反馈催办" in form and 'name="text"' in form and "催办" in form
    tail = f"/reminders/{reminder['reminder_id']}/answer"
    answer = {"text": "已联系来信人，答复稿正在审核，明日报送办公室。"}
    answered = await post(handler, letter_id, tail, answer, hidden=hidden)
    assert answered.status_code == 303, answered.text
    assert rs.deadlines_client is not None
    stored = await rs.deadlines_client.get(
        f"/reminders/{reminder['reminder_id']}", headers=auth(Role.office_leader)
    )
    kept = stored.json()
    assert kept["answered"] is True and kept["answer"]["text"] == answer["text"]
    await _eventually(
        rs, letter_id, lambda d: d["reminders"][0].get("answered_at"), "answer not in routing"
    )
    page, _ = await page_form(handler, letter_id)
    assert f'data-form="{key}"' not in page  # answered: the form is gone
    # Answered again (an old page): deadlines' 409, said on the page.
    twice = await post(handler, letter_id, tail, answer, hidden=hidden)
    assert twice.status_code == 409, twice.text
    assert 'role="alert" data-status="409"' in twice.text and "已经办理过" in twice.text


async def test_the_office_does_not_answer_a_units_reminder(rs: RepliesStack) -> None:
    assert rs.deadlines is not None and rs.deadlines_clock is not None
    await rs.person("handler.bai", role="unit_handler", password=None, unit_id=LEAD)
    clerk = await rs.signed_in("clerk.bai", role="office_clerk")
    rs.deadlines_clock.set(datetime(2026, 10, 12, 1, 30, tzinfo=UTC))
    letter_id = await rs.in_handling("handler.bai")
    await _eventually(rs, letter_id, lambda d: "handling" in d["clocks"], "no handling clock")
    rs.deadlines_clock.set(OVERDUE)
    deadlines: DeadlinesService = rs.deadlines.state.deadlines
    await deadlines.sweep()
    letter = await _eventually(rs, letter_id, lambda d: d["reminders"], "no reminder")
    reminder_id = letter["reminders"][0]["reminder_id"]
    page, hidden = await page_form(clerk, letter_id)
    assert f'data-form="reminder:{reminder_id}"' not in page
    tail = f"/reminders/{reminder_id}/answer"
    refused = await post(clerk, letter_id, tail, {"text": "代为反馈。"}, hidden=hidden)
    assert refused.status_code == 403, refused.text
    assert "无权" in refused.text
