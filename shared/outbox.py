"""The outbox relay: publishes what aggregates wrote into their outbox, then clears it.

Every write with events calls `notify`, so events usually leave within
milliseconds (a write during a flush gets another flush; a failed flush is retried
after a second); a periodic sweep finds any outbox a crash left behind. A crash
between publishing and clearing republishes: consumers ignore the duplicate.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import Any, Protocol

from prometheus_client import Counter

from shared.audit import AuditLog
from shared.events.envelope import Event
from shared.locks import KeyedLocks
from shared.logging import get_logger
from shared.mongo import Collection

log = get_logger(__name__)

FLUSH_RETRY_S = 1.0
OUTBOX_FLUSHED = Counter("mailbox_outbox_events_relayed_total", "Events relayed from outboxes")


class Publisher(Protocol):
    async def publish(self, event: Event) -> None: ...


class OutboxRelay:
    """Moves outbox contents to the bus and the audit log."""

    def __init__(
        self,
        *,
        bus: Publisher,
        audit: AuditLog,
        collections: Sequence[Collection],
        locks: KeyedLocks,
        interval_s: float = 2.0,
        workers: int = 8,
    ) -> None:
        self._bus = bus
        self._audit = audit
        self._collections = {c.name: c for c in collections}
        self._locks = locks
        self._interval_s = interval_s
        self._workers = workers
        self._queue: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
        self._pending: set[tuple[str, str]] = set()
        # Told again while queued or being flushed: flushed once more afterwards, so an event
        # written during a flush leaves at once instead of waiting for the sweep.
        self._again: set[tuple[str, str]] = set()
        self._tasks: list[asyncio.Task[None]] = []

    def notify(self, collection: Collection, doc_id: str) -> None:
        """A document has something in its outbox; flush it soon."""
        key = (collection.name, doc_id)
        if key in self._pending:
            self._again.add(key)
        else:
            self._pending.add(key)
            self._queue.put_nowait(key)

    def start(self) -> None:
        """Start the workers and the sweeper."""
        self._tasks = [asyncio.create_task(self._worker()) for _ in range(self._workers)]
        self._tasks.append(asyncio.create_task(self._sweeper()))

    async def stop(self) -> None:
        """Stop; whatever is left is found by the next sweep."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    async def drain(self) -> None:
        """Flush everything pending now (tests, shutdown)."""
        await self.sweep()
        while self._pending:  # noqa: ASYNC110 - polling a set the workers shrink
            await asyncio.sleep(0.01)

    async def _worker(self) -> None:
        while True:
            key = await self._queue.get()
            # Whatever is written from here on is read by this flush or by the next one.
            self._again.discard(key)
            try:
                await self.flush(self._collections[key[0]], key[1])
            except Exception as exc:
                log.warning("outbox flush failed", collection=key[0], doc_id=key[1], error=str(exc))
                # A broker or database hiccup: try again soon rather than at the next sweep.
                collection = self._collections[key[0]]
                asyncio.get_running_loop().call_later(
                    FLUSH_RETRY_S, self.notify, collection, key[1]
                )
            finally:
                if key in self._again:
                    self._again.discard(key)
                    self._queue.put_nowait(key)
                else:
                    self._pending.discard(key)

    async def _sweeper(self) -> None:
        while True:
            await asyncio.sleep(self._interval_s)
            try:
                await self.sweep()
            except Exception as exc:
                log.warning("outbox sweep failed", error=str(exc))

    async def sweep(self) -> None:
        """Queue every document that still has something in its outbox."""
        for collection in self._collections.values():
            cursor = collection.find({"has_outbox": True}, {"_id": 1}).limit(1000)
            async for doc in cursor:
                self.notify(collection, str(doc["_id"]))

    async def flush(self, collection: Collection, doc_id: str) -> int:
        """Publish and store one document's outbox, then remove what was done."""
        doc = await collection.find_one({"_id": doc_id}, {"outbox": 1, "audit_outbox": 1})
        if doc is None:
            return 0
        events: list[dict[str, Any]] = doc.get("outbox") or []
        audits: list[dict[str, Any]] = doc.get("audit_outbox") or []
        await self._audit.append_documents([dict(a) for a in audits])
        for raw in events:
            await self._bus.publish(Event.model_validate(raw))
        async with self._locks.hold(doc_id):
            if events or audits:
                # Exact-element removal: anything pushed meanwhile stays for the next flush.
                await collection.update_one(
                    {"_id": doc_id}, {"$pullAll": {"outbox": events, "audit_outbox": audits}}
                )
            await collection.update_one(
                {"_id": doc_id, "outbox": [], "audit_outbox": []},
                {"$set": {"has_outbox": False}},
            )
        OUTBOX_FLUSHED.inc(len(events))
        return len(events)
