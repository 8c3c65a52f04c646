"""Aggregates with outbox against real MongoDB-wire and RabbitMQ servers."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from shared.aggregate import AggregateStore, Change
from shared.audit import AuditEntry, AuditLog, system_actor
from shared.bus import EventBus
from shared.clock import FixedClock
from shared.errors import NotFound, VersionConflict
from shared.events import Event, make_event
from shared.events.catalog import TokenRevoked
from shared.locks import KeyedLocks
from shared.mongo import Database, Document
from shared.outbox import OutboxRelay

NOW = datetime(2026, 10, 9, 8, 0, tzinfo=UTC)


def _event(letter_id: str) -> Event:
    return make_event(
        TokenRevoked(token_id="t", expires_at=NOW),
        producer="test",
        occurred_at=NOW,
        letter_id=letter_id,
    )


def _audit(letter_id: str, action: str) -> AuditEntry:
    return AuditEntry(
        at=NOW,
        actor=system_actor("test"),
        action=action,
        target_type="letter",
        target_id=letter_id,
        letter_id=letter_id,
    )


@pytest.fixture
def store(db: Database) -> AggregateStore:
    return AggregateStore(db["letters"], clock=FixedClock(NOW))


async def test_create_is_once_per_id(store: AggregateStore) -> None:
    assert await store.create({"_id": "a", "state": "new"})
    assert not await store.create({"_id": "a", "state": "other"})
    doc = await store.get("a")
    assert doc is not None and doc["state"] == "new" and doc["version"] == 1


async def test_concurrent_creates_each_land_once(store: AggregateStore) -> None:
    # Creates made together leave as one insert; each still learns whether it won.
    ids = [f"c{i % 7}" for i in range(30)]
    created = await asyncio.gather(*(store.create({"_id": i, "n": n}) for n, i in enumerate(ids)))
    assert sum(created) == 7
    for doc_id in set(ids):
        winners = [
            n for n, (i, won) in enumerate(zip(ids, created, strict=True)) if won and i == doc_id
        ]
        assert len(winners) == 1
        doc = await store.get(doc_id)
        assert doc is not None and doc["n"] == winners[0]


async def test_an_event_is_applied_once(store: AggregateStore) -> None:
    await store.create({"_id": "a", "count": 0})

    def bump(doc: dict) -> Change:  # type: ignore[type-arg]
        return Change(set={"count": doc["count"] + 1})

    await store.mutate("a", bump, event_id="evt_1")
    await store.mutate("a", bump, event_id="evt_1")
    await store.mutate("a", bump, event_id="evt_2")
    doc = await store.get("a")
    assert doc is not None
    assert doc["count"] == 2
    assert doc["applied_events"] == ["evt_1", "evt_2"]


async def test_a_stale_version_is_a_conflict(store: AggregateStore) -> None:
    await store.create({"_id": "a", "n": 0})
    await store.mutate("a", lambda d: Change(set={"n": 1}), expected_version=1)
    with pytest.raises(VersionConflict) as info:
        await store.mutate("a", lambda d: Change(set={"n": 2}), expected_version=1)
    assert info.value.details == {"expected_version": 1, "current_version": 2}


async def test_concurrent_event_driven_changes_all_land(store: AggregateStore) -> None:
    await store.create({"_id": "a", "items": []})

    def add(i: int) -> Callable[[Document], Change]:
        return lambda doc: Change(push={"items": [i]})

    await asyncio.gather(*(store.mutate("a", add(i), event_id=f"e{i}") for i in range(20)))
    doc = await store.get("a")
    assert doc is not None and sorted(doc["items"]) == list(range(20))


async def test_missing_document_is_not_found(store: AggregateStore) -> None:
    with pytest.raises(NotFound):
        await store.mutate("nope", lambda d: Change())


@pytest.fixture
async def received(bus: EventBus) -> list[Event]:
    """Every event the bus delivers from now on, in order."""
    events: list[Event] = []

    async def handler(event: Event) -> None:
        events.append(event)

    await bus.consume(handler)
    return events


def _relayed(
    db: Database, bus: EventBus, *, interval_s: float = 2.0
) -> tuple[OutboxRelay, AggregateStore, AuditLog]:
    """A store of `letters` whose writes the relay (not started) publishes and audits."""
    locks = KeyedLocks()
    audit = AuditLog(db["audit"])
    relay = OutboxRelay(
        bus=bus, audit=audit, collections=[db["letters"]], locks=locks, interval_s=interval_s
    )
    return (
        relay,
        AggregateStore(db["letters"], clock=FixedClock(NOW), relay=relay, locks=locks),
        audit,
    )


async def test_relay_publishes_the_outbox_and_stores_audit_once(
    db: Database, bus: EventBus, received: list[Event]
) -> None:
    relay, store, audit = _relayed(db, bus)
    relay.start()
    try:
        await store.create({"_id": "L1"}, events=[_event("L1")], audit=[_audit("L1", "create")])
        await store.mutate(
            "L1",
            lambda d: Change(set={"x": 1}, events=[_event("L1")], audit=[_audit("L1", "x")]),
        )
        for _ in range(200):
            if len(received) == 2:
                break
            await asyncio.sleep(0.02)
        await relay.drain()
        # Flushing again (a crash before clearing would do this) republishes nothing new.
        await relay.flush(db["letters"], "L1")
    finally:
        await relay.stop()
    assert len(received) == 2
    doc = await store.get("L1")
    assert doc is not None
    assert doc["outbox"] == [] and doc["audit_outbox"] == [] and doc["has_outbox"] is False
    trail = await audit.for_letter("L1")
    assert [e.action for e in trail] == ["create", "x"]
    assert await audit.for_letter("L1", ids=doc["audit_ids"]) == trail
    assert await audit.for_letter("L1", ids=[]) == []


async def test_sweep_finds_an_outbox_left_by_a_crash(
    db: Database, bus: EventBus, received: list[Event]
) -> None:
    # Written with no relay attached: as if the process died right after the write.
    crashed = AggregateStore(db["letters"], clock=FixedClock(NOW))
    await crashed.create({"_id": "L2"}, events=[_event("L2")])
    relay = OutboxRelay(
        bus=bus,
        audit=AuditLog(db["audit"]),
        collections=[db["letters"]],
        locks=KeyedLocks(),
        interval_s=0.05,
    )
    relay.start()
    try:
        for _ in range(200):
            if received:
                break
            await asyncio.sleep(0.02)
    finally:
        await relay.stop()
    assert [e.letter_id for e in received] == ["L2"]


async def test_events_written_during_flushes_all_leave_once(
    db: Database, bus: EventBus, received: list[Event]
) -> None:
    # No sweep: every event must leave because its write told the relay.
    relay, store, audit = _relayed(db, bus, interval_s=3600)
    relay.start()
    try:
        await store.create({"_id": "L3", "n": 0}, events=[_event("L3")], audit=[_audit("L3", "c")])

        def bump(i: int) -> Callable[[Document], Change]:
            return lambda d: Change(
                set={"n": d["n"] + 1}, events=[_event("L3")], audit=[_audit("L3", f"b{i}")]
            )

        # Writes land while earlier ones are queued or being flushed.
        for i in range(10):
            await asyncio.gather(*(store.mutate("L3", bump(10 * i + j)) for j in range(2)))
            await asyncio.sleep(0.005 * (i % 3))
        for _ in range(500):
            if len(received) >= 21:
                break
            await asyncio.sleep(0.02)
        assert len(received) == 21
        await relay.drain()
    finally:
        await relay.stop()
    assert len({e.id for e in received}) == 21
    doc = await store.get("L3")
    assert doc is not None
    assert doc["n"] == 20
    assert doc["outbox"] == [] and doc["audit_outbox"] == [] and doc["has_outbox"] is False
    by_letter = await audit.for_letter("L3")
    assert len(by_letter) == 21
    # The letter keeps the ids of every entry its changes wrote: the trail read by them
    # (no query on `letter_id`) is the same trail, in the same order.
    assert doc["audit_ids_complete"] is True and len(doc["audit_ids"]) == 21
    by_ids = await audit.for_letter("L3", ids=doc["audit_ids"])
    assert [e.id for e in by_ids] == [e.id for e in by_letter]
