"""The letters' outbox relay, kept apart from `shared/outbox.py` on purpose (not merged).

The shared `OutboxRelay` flushes one document at a time on `notify`, sweeps every
`has_outbox` document it finds, and clears each outbox conditionally under the
document's lock. Used for letters, that would change what intake does:
- Replicas: each letter names the instance relaying it (`relay_owner`); this sweep
  leaves the outboxes of live instances alone (`Heartbeats`) and takes over the
  others only after seeing them pending for `grace_s`. The shared sweep would
  publish what another replica is relaying right now: every letter's event twice.
- Batches and back-pressure: a polled page is handed over whole (`submit`, with the
  outbox as written, no read back), published concurrently (bounded), and polling
  waits while `max_pending` letters are unpublished; the shared relay has no bound.
- Clearing: one `update_many` per 1000 letters by `$set`, deferred until
  registration pauses (on FerretDB v1 an update scans the collection), instead of a
  locked conditional update per document. Letters are never changed after
  registration, so the `$set` loses nothing; the shared relay cannot assume that.

A registration inserts the letter with its event and audit entry in the document's
outbox (one write), exactly as `AggregateStore.create` does; this relay then
publishes with confirms, stores the audit entries and clears the outboxes.
A crash between publishing and clearing publishes again (same event id):
consumers apply an event id once.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from services.intake.letters.models import Outgoing
from services.intake.polling.leases import Heartbeats
from shared.aio import cancel_and_wait
from shared.audit import AuditLog
from shared.events import Event
from shared.logging import get_logger
from shared.mongo import Collection
from shared.outbox import OUTBOX_FLUSHED, Outbox, Publisher

log = get_logger(__name__)

CLEAR_BATCH = 1000
SWEEP_BATCH = 1000
RETRY_DELAY_S = 1.0


@dataclass
class _Batch:
    items: list[Outgoing] = field(default_factory=list)
    # Outboxes to read back first (a single registration, or found by the sweep).
    ids: list[str] = field(default_factory=list)
    published: set[str] = field(default_factory=set)


class LetterRelay:
    """Moves letters' outboxes to the bus and the audit log, in batches."""

    def __init__(
        self,
        collection: Collection,
        *,
        bus: Publisher,
        audit: AuditLog,
        sweep_interval_s: float,
        grace_s: float,
        heartbeats: Heartbeats | None = None,
        concurrency: int = 64,
        max_pending: int = 5000,
        workers: int = 2,
        clear_idle_s: float = 0.5,
    ) -> None:
        self.collection = collection
        self._bus = bus
        self._audit = audit
        self._sweep_interval_s = sweep_interval_s
        self._grace_s = grace_s
        self._heartbeats = heartbeats
        self._semaphore = asyncio.Semaphore(concurrency)
        self._max_pending = max_pending
        self._workers = workers
        self._clear_idle_s = clear_idle_s
        self._queue: asyncio.Queue[_Batch] = asyncio.Queue()
        # Submitted and not yet cleared: the sweep leaves these alone.
        self._inflight: set[str] = set()
        self._to_clear: list[str] = []
        self._clear_wakeup = asyncio.Event()
        self._changed = asyncio.Condition()
        self._first_seen: dict[str, float] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._sweeper: asyncio.Task[None] | None = None
        self._last_activity = time.monotonic()
        self._publishing = 0
        # Callers waiting for everything to be cleared (drain) or for room (submit).
        self._urgent = 0
        self.published = 0

    @property
    def owner(self) -> str | None:
        """The instance name written on the letters this relay publishes."""
        return self._heartbeats.owner if self._heartbeats else None

    @property
    def pending(self) -> int:
        """Letters whose outbox is submitted and not yet cleared."""
        return len(self._inflight)

    def notify(self, collection: Collection, doc_id: str, *, outbox: Outbox | None = None) -> None:
        """A letter was created with an outbox (`AggregateStore.create`); relay it soon."""
        self._last_activity = time.monotonic()
        if doc_id not in self._inflight:
            self._inflight.add(doc_id)
            self._queue.put_nowait(_Batch(ids=[doc_id]))

    async def submit(self, items: Sequence[Outgoing]) -> None:
        """Relay outboxes just inserted; waits while too many are pending (back-pressure)."""
        if not items:
            return
        self._last_activity = time.monotonic()
        if len(self._inflight) >= self._max_pending:
            self._urgent += 1
            self._clear_wakeup.set()
            try:
                async with self._changed:
                    await self._changed.wait_for(lambda: len(self._inflight) < self._max_pending)
            finally:
                self._urgent -= 1
        fresh = [item for item in items if item.doc_id not in self._inflight]
        self._inflight.update(item.doc_id for item in fresh)
        self._queue.put_nowait(_Batch(items=fresh))

    def start(self) -> None:
        """Start the publishers, the clearer and the sweeper."""
        self._tasks = [asyncio.create_task(self._publisher()) for _ in range(self._workers)]
        self._tasks.append(asyncio.create_task(self._clearer()))
        self._sweeper = asyncio.create_task(self._sweep_loop())

    async def stop(self, *, timeout_s: float = 30.0) -> None:
        """Stop sweeping, relay what was submitted (bounded wait), then stop."""
        if self._sweeper is not None:
            await cancel_and_wait([self._sweeper])
            self._sweeper = None
        with contextlib.suppress(TimeoutError):
            await self.drain(timeout_s=timeout_s)
        if self._heartbeats is not None:
            with contextlib.suppress(Exception):
                await self._heartbeats.forget()
        await cancel_and_wait(self._tasks)
        self._tasks = []

    async def drain(self, *, timeout_s: float = 60.0) -> None:
        """Wait until everything submitted is published and cleared."""
        self._urgent += 1
        self._clear_wakeup.set()
        try:
            async with asyncio.timeout(timeout_s), self._changed:
                await self._changed.wait_for(lambda: not self._inflight)
        finally:
            self._urgent -= 1

    async def sweep(self, *, grace_s: float | None = None) -> int:
        """Queue outboxes pending for at least the grace period; how many were queued."""
        grace = self._grace_s if grace_s is None else grace_s
        others: set[str] = set()
        if self._heartbeats is not None:
            await self._heartbeats.beat()
            others = await self._heartbeats.live() - {self._heartbeats.owner}
        now = time.monotonic()
        cursor = self.collection.find({"has_outbox": True}, {"relay_owner": 1}).limit(SWEEP_BATCH)
        seen = [str(doc["_id"]) async for doc in cursor if doc.get("relay_owner") not in others]
        first_seen = {doc_id: self._first_seen.get(doc_id, now) for doc_id in seen}
        self._first_seen = first_seen
        ready = [
            doc_id
            for doc_id, first in first_seen.items()
            if doc_id not in self._inflight and now - first >= grace
        ]
        if ready:
            log.info("outbox sweep found unpublished letters", count=len(ready))
            self._inflight.update(ready)
            self._queue.put_nowait(_Batch(ids=ready))
        return len(ready)

    async def _sweep_loop(self) -> None:
        while True:
            try:
                await self.sweep()
            except Exception as exc:
                log.warning("letter outbox sweep failed", error=str(exc))
            await asyncio.sleep(self._sweep_interval_s)

    async def _publisher(self) -> None:
        while True:
            batch = await self._queue.get()
            self._publishing += 1
            try:
                while True:
                    try:
                        await self._relay(batch)
                        break
                    except Exception as exc:
                        # The broker or the database is away: keep the batch, try again.
                        log.warning("letter relay failed, retrying", error=str(exc))
                        await asyncio.sleep(RETRY_DELAY_S)
            finally:
                self._publishing -= 1

    async def _relay(self, batch: _Batch) -> None:
        if batch.ids:
            loaded = await self._load(batch.ids)
            await self._forget(set(batch.ids) - {item.doc_id for item in loaded})
            batch.items.extend(loaded)
            batch.ids = []
        before = len(batch.published)

        async def publish(event: Event) -> None:
            async with self._semaphore:
                await self._bus.publish(event)
            batch.published.add(event.id)

        # Every publish finishes before a failure is raised, so a retry of the batch
        # publishes only what did not go out.
        results = await asyncio.gather(
            *(
                publish(event)
                for item in batch.items
                for event in item.events
                if event.id not in batch.published
            ),
            return_exceptions=True,
        )
        OUTBOX_FLUSHED.inc(len(batch.published) - before)
        self.published += len(batch.published) - before
        failure = next((r for r in results if isinstance(r, BaseException)), None)
        if failure is not None:
            raise failure
        await self._audit.append_documents([dict(a) for item in batch.items for a in item.audit])
        self._to_clear.extend(item.doc_id for item in batch.items)
        self._clear_wakeup.set()

    async def _load(self, ids: list[str]) -> list[Outgoing]:
        cursor = self.collection.find(
            {"_id": {"$in": ids}, "has_outbox": True}, {"outbox": 1, "audit_outbox": 1}
        )
        return [
            Outgoing(
                doc_id=str(doc["_id"]),
                events=[Event.model_validate(raw) for raw in doc.get("outbox") or []],
                audit=list(doc.get("audit_outbox") or []),
            )
            async for doc in cursor
        ]

    async def _clearer(self) -> None:
        while True:
            await self._clear_wakeup.wait()
            self._clear_wakeup.clear()
            await self._quiet()
            while self._to_clear:
                ids = self._to_clear[:CLEAR_BATCH]
                try:
                    await self.collection.update_many(
                        {"_id": {"$in": ids}},
                        {"$set": {"outbox": [], "audit_outbox": [], "has_outbox": False}},
                    )
                except Exception as exc:
                    log.warning("letter outbox clear failed, retrying", error=str(exc))
                    await asyncio.sleep(RETRY_DELAY_S)
                    continue
                del self._to_clear[: len(ids)]
                await self._forget(set(ids))

    async def _quiet(self) -> None:
        """Wait until registering and publishing pause, unless someone waits for the clearing.

        Clearing is housekeeping: the events are out already. On FerretDB v1 an update
        costs a scan of the collection, so clearing while pages are being registered
        would slow registration down for nothing.
        """
        while not self._urgent:
            idle = time.monotonic() - self._last_activity
            if idle >= self._clear_idle_s and self._queue.empty() and not self._publishing:
                return
            await asyncio.sleep(max(0.02, self._clear_idle_s - idle))

    async def _forget(self, ids: set[str]) -> None:
        if not ids:
            return
        async with self._changed:
            self._inflight.difference_update(ids)
            self._changed.notify_all()
