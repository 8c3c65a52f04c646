"""The outbox relay: publishes what aggregates wrote into their outbox, then clears it.

Every write with events calls `notify`, so events usually leave within
milliseconds (a write during a flush gets another flush; a failed flush is retried
after a second); a periodic sweep finds any outbox a crash left behind. A crash
between publishing and clearing republishes: consumers ignore the duplicate.

On FerretDB v1 every command rewrites or decodes whole documents, so a flush costs
as few as it can: the writer hands over the outbox it just wrote (no read back),
the audit entries of every document flushed together are one insert, and taking
what was relayed out of their outboxes is one update command per collection (see
`OutboxRelay._clear`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from prometheus_client import Counter
from pymongo import UpdateOne

from shared.aio import cancel_and_wait
from shared.audit import AuditLog
from shared.events.envelope import Event
from shared.locks import KeyedLocks
from shared.logging import get_logger
from shared.mongo import Collection

log = get_logger(__name__)

FLUSH_RETRY_S = 1.0
# Documents one worker flushes together (one audit insert, their publishes in parallel).
FLUSH_BATCH = 32
OUTBOX_FLUSHED = Counter("mailbox_outbox_events_relayed_total", "Events relayed from outboxes")

Key = tuple[str, str]


@dataclass(frozen=True)
class Outbox:
    """A document's `outbox` and `audit_outbox` as stored, in order."""

    events: list[dict[str, Any]]
    audit: list[dict[str, Any]]

    def merged(self, newer: Outbox) -> Outbox:
        """Both, each element once: a write's view plus whatever a later write added."""
        event_ids = {e.get("id") for e in self.events}
        audit_ids = {a.get("_id") for a in self.audit}
        return Outbox(
            events=[*self.events, *(e for e in newer.events if e.get("id") not in event_ids)],
            audit=[*self.audit, *(a for a in newer.audit if a.get("_id") not in audit_ids)],
        )

    def __bool__(self) -> bool:
        return bool(self.events or self.audit)


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
        batch: int = FLUSH_BATCH,
    ) -> None:
        self._bus = bus
        self._audit = audit
        self._collections = {c.name: c for c in collections}
        self._locks = locks
        self._interval_s = interval_s
        self._workers = workers
        self._batch = batch
        self._queue: asyncio.Queue[Key] = asyncio.Queue()
        # Queued or being flushed.
        self._pending: set[Key] = set()
        # Queued, with what the writers said the outbox holds (None: read it).
        self._known: dict[Key, Outbox | None] = {}
        self._flushing: set[Key] = set()
        # Told again while being flushed: flushed once more afterwards (read back), so an
        # event written during a flush leaves at once instead of waiting for the sweep.
        self._again: set[Key] = set()
        self._tasks: list[asyncio.Task[None]] = []

    def notify(self, collection: Collection, doc_id: str, *, outbox: Outbox | None = None) -> None:
        """A document has something in its outbox; flush it soon.

        `outbox` is what the writer knows the outbox holds right after its write; the
        relay then does not read it back. Without it the flush reads the document.
        """
        key = (collection.name, doc_id)
        if key in self._flushing:
            self._again.add(key)
        elif key in self._pending:
            known = self._known.get(key)
            self._known[key] = None if known is None or outbox is None else known.merged(outbox)
        else:
            self._pending.add(key)
            self._known[key] = outbox
            self._queue.put_nowait(key)

    def start(self) -> None:
        """Start the workers and the sweeper."""
        self._tasks = [asyncio.create_task(self._worker()) for _ in range(self._workers)]
        self._tasks.append(asyncio.create_task(self._sweeper()))

    async def stop(self) -> None:
        """Stop; whatever is left is found by the next sweep."""
        await cancel_and_wait(self._tasks)
        self._tasks = []

    async def drain(self) -> None:
        """Flush everything pending now (tests, shutdown)."""
        await self.sweep()
        while self._pending:  # noqa: ASYNC110 - polling a set the workers shrink
            await asyncio.sleep(0.01)

    async def _worker(self) -> None:
        while True:
            keys = [await self._queue.get()]
            while len(keys) < self._batch and not self._queue.empty():
                keys.append(self._queue.get_nowait())
            batch: list[tuple[Key, Outbox | None]] = []
            for key in keys:
                self._flushing.add(key)
                batch.append((key, self._known.pop(key, None)))
            failed: list[Key] = []
            try:
                failed, _ = await self._flush_batch(batch)
            except Exception as exc:
                log.warning("outbox flush failed", documents=len(batch), error=str(exc))
                failed = keys
            finally:
                for key in keys:
                    self._flushing.discard(key)
                    self._pending.discard(key)
                for key in keys:
                    if key in failed:
                        # A broker or database hiccup: try again soon, not at the next sweep
                        # (reading the outbox back, which covers whatever was written since).
                        self._again.discard(key)
                        collection = self._collections[key[0]]
                        asyncio.get_running_loop().call_later(
                            FLUSH_RETRY_S, self.notify, collection, key[1]
                        )
                    elif key in self._again:
                        self._again.discard(key)
                        self.notify(self._collections[key[0]], key[1])

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
                key = (collection.name, str(doc["_id"]))
                # One queued or being flushed is taken care of: what the flush leaves
                # behind (written by another process) is found by the next sweep.
                if key not in self._pending:
                    self.notify(collection, key[1])

    async def flush(self, collection: Collection, doc_id: str) -> int:
        """Publish and store one document's outbox, then remove what was done."""
        self._collections.setdefault(collection.name, collection)
        failed, published = await self._flush_batch([((collection.name, doc_id), None)])
        if failed:
            raise RuntimeError(f"outbox of {doc_id} not relayed (see the log)")
        return published

    async def _flush_batch(
        self, batch: Sequence[tuple[Key, Outbox | None]]
    ) -> tuple[list[Key], int]:
        """Relay the outboxes of several documents: the keys that failed, events published."""
        outboxes = await asyncio.gather(
            *(self._read(key) if known is None else _given(known) for key, known in batch)
        )
        todo = [(key, outbox) for (key, _), outbox in zip(batch, outboxes, strict=True) if outbox]
        if not todo:
            return [], 0
        await self._audit.append_documents([dict(a) for _, outbox in todo for a in outbox.audit])
        results = await asyncio.gather(
            *(self._publish(outbox) for _, outbox in todo), return_exceptions=True
        )
        failed: list[Key] = []
        done: list[tuple[Key, Outbox]] = []
        for (key, outbox), result in zip(todo, results, strict=True):
            if isinstance(result, BaseException):
                log.warning(
                    "outbox flush failed", collection=key[0], doc_id=key[1], error=str(result)
                )
                failed.append(key)
            else:
                done.append((key, outbox))
        if done:
            await self._clear(done)
        published = sum(len(outbox.events) for _, outbox in done)
        OUTBOX_FLUSHED.inc(published)
        return failed, published

    async def _publish(self, outbox: Outbox) -> None:
        # One document's events go out in the order they were written.
        for raw in outbox.events:
            await self._bus.publish(Event.model_validate(raw))

    async def _clear(self, done: Sequence[tuple[Key, Outbox]]) -> None:
        """Take what was just relayed out of the outboxes: one update command per collection.

        A document nobody wrote to meanwhile is cleared conditionally on its outbox being
        exactly what was published, which also lowers its flag. One written to during the
        flush has exactly the published elements pulled (they are as the server stored
        them: the writer handed over the document it got back); its own flush, queued,
        clears the rest and lowers the flag. The documents' locks are held meanwhile
        (FerretDB v1 as released applies an update as read-then-rewrite); taken in id
        order, so two workers never wait on each other.
        """
        async with contextlib.AsyncExitStack() as held:
            for doc_id in sorted({key[1] for key, _ in done}):
                await held.enter_async_context(self._locks.hold(doc_id))
            by_collection: dict[str, list[tuple[Key, Outbox]]] = {}
            for key, outbox in done:
                by_collection.setdefault(key[0], []).append((key, outbox))
            for name, items in by_collection.items():
                quiet = [(key, outbox) for key, outbox in items if key not in self._again]
                result = await self._collections[name].bulk_write(
                    [
                        UpdateOne(_published(key, outbox), _EMPTY)
                        if key not in self._again
                        else UpdateOne({"_id": key[1]}, _pull(outbox))
                        for key, outbox in items
                    ],
                    ordered=False,
                )
                if result.matched_count < len(items):
                    # Another process wrote into some of them: the count does not say which.
                    for key, outbox in quiet:
                        await self._remove(key, outbox)

    async def _read(self, key: Key) -> Outbox | None:
        fields = {"outbox": 1, "audit_outbox": 1, "has_outbox": 1}
        doc = await self._collections[key[0]].find_one({"_id": key[1]}, fields)
        if doc is None:
            return None
        outbox = Outbox(events=doc.get("outbox") or [], audit=doc.get("audit_outbox") or [])
        if not outbox and doc.get("has_outbox"):
            # The flag outlived its contents (a crash between the two updates): lower it.
            async with self._locks.hold(key[1]):
                await self._lower_flag(key)
        return outbox

    async def _remove(self, key: Key, done: Outbox) -> None:
        collection, doc_id = self._collections[key[0]], key[1]
        fields = {"outbox": 1, "audit_outbox": 1}
        doc = await collection.find_one({"_id": doc_id}, fields)
        if doc is None:
            return
        event_ids = {e.get("id") for e in done.events}
        audit_ids = {a.get("_id") for a in done.audit}
        events = [e for e in doc.get("outbox") or [] if e.get("id") in event_ids]
        audit = [a for a in doc.get("audit_outbox") or [] if a.get("_id") in audit_ids]
        if events or audit:
            await collection.update_one(
                {"_id": doc_id}, {"$pullAll": {"outbox": events, "audit_outbox": audit}}
            )
        await self._lower_flag(key)

    async def _lower_flag(self, key: Key) -> None:
        await self._collections[key[0]].update_one(
            {"_id": key[1], "outbox": [], "audit_outbox": []}, {"$set": {"has_outbox": False}}
        )


async def _given(outbox: Outbox) -> Outbox:
    return outbox


_EMPTY = {"$set": {"outbox": [], "audit_outbox": [], "has_outbox": False}}


def _pull(outbox: Outbox) -> dict[str, Any]:
    """Remove exactly these elements, wherever they are in the outbox."""
    return {"$pullAll": {"outbox": outbox.events, "audit_outbox": outbox.audit}}


def _published(key: Key, outbox: Outbox) -> dict[str, Any]:
    """The document, if its outbox holds exactly what was relayed."""
    return {"_id": key[1], "outbox": outbox.events, "audit_outbox": outbox.audit}
