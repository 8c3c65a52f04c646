"""Repeat candidates when the window holds more letters than are compared by text."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from services.routing.letters.repository import Desk as LetterDesk
from services.routing.letters.repository import LetterRepository
from services.routing.letters.worklist import DESK_FIELDS, on_some_desk
from shared.aggregate import AggregateStore
from shared.audit import AuditLog
from shared.events.vocabulary import Person
from shared.mongo import make_client
from tests.routing.harness import NOW, Desk, Stack, received, routing_stack
from tests.support import MONGO_URL

OTHER_MATTER = "我想咨询一下今年家电以旧换新补贴的申领条件和办理流程，请问应向哪个部门提出申请？"


@pytest.fixture(scope="module")
async def stack() -> AsyncIterator[Stack]:
    # Only the latest letter is compared by text; the writer's letters always are.
    async with routing_stack(repeat_candidates_max=1) as running_stack:
        yield running_stack


async def test_the_writers_earlier_letter_is_found_beyond_the_latest(stack: Stack) -> None:
    desk = Desk(stack)
    writer = Person(name="钱七", phone="13711112222")
    first = await desk.register(received(person=writer, received_at=NOW - timedelta(hours=2)))
    latest = await desk.register(
        received(
            text=OTHER_MATTER,
            person=Person(name="孙八", phone="13633334444"),
            received_at=NOW - timedelta(hours=1),
        )
    )
    again = await desk.register(received(person=writer))

    event = stack.probe.of_type("letter.classified", letter_id=again)[0]
    assert event.data["repeated_of"] == [first]
    assert latest not in event.data["repeated_of"]
    assert event.data["not_accepted_reason"] == "repetitive_or_empty"


async def test_letters_stored_before_the_candidates_were_kept_apart_are_copied_once(
    stack: Stack,
) -> None:
    desk = Desk(stack)
    writer = Person(name="周九", phone="13555556666")
    earlier = await desk.register(received(person=writer, received_at=NOW - timedelta(hours=3)))
    client = make_client(MONGO_URL)
    try:
        db = client[stack.settings.mongo_db]
        # As a database from before: the letter without its candidate, never backfilled.
        await db["repeat_candidates"].delete_many({"_id": {"$in": [earlier, "~backfilled"]}})
        desk_index = LetterDesk(
            db["desk"], letters=db["letters"], keep=on_some_desk, fields=DESK_FIELDS
        )
        letters = LetterRepository(
            AggregateStore(db["letters"], clock=stack.clock),
            audit=AuditLog(db["audit"]),
            desk=desk_index,
        )
        stored = await db["letters"].count_documents({})

        assert await letters.backfill_candidates() == stored
        assert await letters.backfill_candidates() == 0
    finally:
        await client.close()
    again = await desk.register(received(person=writer))

    event = stack.probe.of_type("letter.classified", letter_id=again)[0]
    assert earlier in event.data["repeated_of"]
