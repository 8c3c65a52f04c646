"""Unit notices: written with the change, delivered at least once, kept in the inbox once."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from datetime import datetime
from typing import Any

import pytest

from services.routing.notify.service import InboxNotifier, NoticeRelay
from shared.locks import KeyedLocks
from shared.mongo import Database, make_client
from tests.routing.harness import NOW
from tests.support import MONGO_URL, unique_name


@pytest.fixture
async def db() -> AsyncIterator[Database]:
    client = make_client(MONGO_URL)
    name = unique_name("routing_notices")
    yield client[name]
    await client.drop_database(name)
    await client.close()


class Flaky:
    """Fails the first `failures` deliveries, then records into the inbox like the default."""

    def __init__(self, inner: InboxNotifier, *, failures: int) -> None:
        self.inner = inner
        self.failures = failures
        self.calls = 0

    async def notify(
        self,
        unit_id: str,
        kind: str,
        payload: Mapping[str, Any],
        *,
        notice_id: str,
        letter_id: str | None,
        at: datetime,
    ) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise ConnectionError("webhook down")
        await self.inner.notify(
            unit_id, kind, payload, notice_id=notice_id, letter_id=letter_id, at=at
        )


def _notice(notice_id: str, unit: str) -> dict[str, Any]:
    return {
        "id": notice_id,
        "unit_id": unit,
        "kind": "reply.returned",
        "payload": {"revision": 1},
        "at": NOW,
    }


async def test_the_sweep_delivers_what_a_crash_left_and_only_once(db: Database) -> None:
    await db["letters"].insert_one(
        {
            "_id": "ltr_a",
            "notices_outbox": [_notice("ntc_1", "market-order"), _notice("ntc_2", "port")],
            "has_notices": True,
        }
    )
    relay = NoticeRelay(
        db["letters"], notifier=InboxNotifier(db["inbox"]), locks=KeyedLocks(), interval_s=1
    )
    assert await relay.sweep() == 0
    await relay.deliver(
        {"_id": "ltr_a", "notices_outbox": [_notice("ntc_1", "market-order")]}
    )  # a redelivery of a notice already in the inbox
    inbox = await db["inbox"].find().sort("_id", 1).to_list(None)
    assert [(n["_id"], n["unit_id"], n["letter_id"]) for n in inbox] == [
        ("ntc_1", "market-order", "ltr_a"),
        ("ntc_2", "port", "ltr_a"),
    ]
    letter = await db["letters"].find_one({"_id": "ltr_a"})
    assert letter is not None
    assert letter["notices_outbox"] == []
    assert letter["has_notices"] is False


async def test_a_failed_delivery_stays_in_the_outbox_until_it_succeeds(db: Database) -> None:
    await db["letters"].insert_one(
        {"_id": "ltr_b", "notices_outbox": [_notice("ntc_3", "port")], "has_notices": True}
    )
    notifier = Flaky(InboxNotifier(db["inbox"]), failures=1)
    relay = NoticeRelay(db["letters"], notifier=notifier, locks=KeyedLocks(), interval_s=1)
    assert await relay.sweep() == 1
    letter = await db["letters"].find_one({"_id": "ltr_b"})
    assert letter is not None
    assert letter["has_notices"] is True
    assert len(letter["notices_outbox"]) == 1
    assert await relay.sweep() == 0
    assert await db["inbox"].count_documents({"_id": "ntc_3"}) == 1
    letter = await db["letters"].find_one({"_id": "ltr_b"})
    assert letter is not None
    assert letter["notices_outbox"] == []
