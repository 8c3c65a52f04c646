"""The only code that touches the routing service's collections."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from pymongo.errors import DuplicateKeyError

from services.routing.classify.similarity import RecentLetter
from services.routing.letters.models import LetterFilter
from shared.aggregate import AggregateStore
from shared.aio import cancel_and_wait
from shared.audit import AuditEntry, AuditLog
from shared.events.envelope import Event
from shared.logging import get_logger
from shared.mongo import Collection, Document, IndexSpec
from shared.paging import and_after

# Lists are newest first; every filter has an index that ends with the sort key.
_SORT = [("received_at", -1), ("_id", -1)]
LETTER_INDEXES = [
    IndexSpec(keys=_SORT),
    IndexSpec(keys=[("state", 1), *_SORT]),
    IndexSpec(keys=[("nature", 1), *_SORT]),
    IndexSpec(keys=[("platform", 1), *_SORT]),
    IndexSpec(keys=[("units", 1), *_SORT]),
    IndexSpec(keys=[("units", 1), ("state", 1), *_SORT]),
    IndexSpec(keys=[("search_tokens", 1), *_SORT]),
    IndexSpec(keys=[("writer_keys", 1), ("received_at", -1)]),
    IndexSpec(keys=[("has_notices", 1)]),
]
# What repeat detection compares, kept apart from the letters: small documents, so a query
# that must scan (FerretDB v1 scans for anything but an `_id`) reads a fraction of the bytes.
REPEAT_CANDIDATE_INDEXES = [
    IndexSpec(keys=[("received_at", -1)]),
    IndexSpec(keys=[("writer_keys", 1), ("received_at", -1)]),
]
_BACKFILLED = "~backfilled"  # a marker without `received_at`: no window query matches it

log = get_logger(__name__)
# A desk entry the database refused is written again after this long.
RETRY_S = 5.0


class Desk:
    """待办's index: a small copy of each letter some desk may be waiting on, keyed by its id.

    FerretDB v1 scans a collection for any query not on `_id`, so 待办 reads this index, not
    the letters: its cost follows the open letters, not every letter ever stored. The letter
    service keeps an entry in step after each write of a letter (`sync`); an entry is only
    ever replaced by a newer version of its letter, so writers racing on two instances leave
    the newest. A crash between the letter's write and its entry's is repaired by
    `reconcile`, run at start-up and then now and then.
    """

    def __init__(
        self,
        collection: Collection,
        *,
        letters: Collection,
        keep: Callable[[Document], bool],
        fields: Sequence[str],
    ) -> None:
        self.collection = collection
        self._letters = letters
        self._keep = keep
        self._fields = ("version", *fields)
        self._task: asyncio.Task[None] | None = None
        self._retries: set[asyncio.Task[None]] = set()

    def entry(self, doc: Document) -> Document:
        """The index entry of a letter document (which must hold the index's fields)."""
        return {"_id": doc["_id"], **{k: doc[k] for k in self._fields if k in doc}}

    async def sync(self, doc: Document) -> None:
        """Bring the letter's entry to this version of it: kept, replaced or removed."""
        if self._keep(doc):
            with contextlib.suppress(DuplicateKeyError):  # a newer version is there already
                await self.collection.replace_one(
                    {"_id": doc["_id"], "version": {"$lt": doc["version"]}},
                    self.entry(doc),
                    upsert=True,
                )
        else:
            await self.collection.delete_one(
                {"_id": doc["_id"], "version": {"$lte": doc["version"]}}
            )

    async def sync_or_retry(self, doc: Document) -> None:
        """`sync`; if the database fails it, again soon from the letter as then stored."""
        try:
            await self.sync(doc)
        except Exception as exc:
            log.warning("desk entry not written", letter_id=doc["_id"], error=str(exc))
            asyncio.get_running_loop().call_later(RETRY_S, self._spawn_resync, doc["_id"])

    def _spawn_resync(self, letter_id: Any) -> None:
        task = asyncio.get_running_loop().create_task(self._resync(letter_id))
        self._retries.add(task)
        task.add_done_callback(self._retries.discard)

    async def _resync(self, letter_id: Any) -> None:
        letter = await self._letters.find_one({"_id": letter_id}, dict.fromkeys(self._fields, 1))
        if letter is not None:
            await self.sync_or_retry(letter)

    async def reconcile(self) -> tuple[int, int]:
        """Every letter's entry as its document says; (entries kept, stale ones removed)."""
        projection = dict.fromkeys(self._fields, 1)
        kept: set[str] = set()
        async for doc in self._letters.find({}, projection):
            await self.sync(doc)
            if self._keep(doc):
                kept.add(str(doc["_id"]))
        removed = 0
        async for entry in self.collection.find({}, {"_id": 1, "version": 1}):
            if str(entry["_id"]) not in kept:
                letter = await self._letters.find_one({"_id": entry["_id"]}, projection)
                if letter is None:
                    await self.collection.delete_one({"_id": entry["_id"]})
                    removed += 1
                elif not self._keep(letter):
                    await self.sync(letter)
                    removed += 1
        return len(kept), removed

    def start(self, *, interval_s: float) -> None:
        """Reconcile now, in the background, and every `interval_s` after."""
        self._task = asyncio.create_task(self._loop(interval_s))

    async def stop(self) -> None:
        """Stop reconciling; the next start does it again."""
        tasks = [*self._retries, *([self._task] if self._task else [])]
        await cancel_and_wait(tasks)
        self._task = None

    async def _loop(self, interval_s: float) -> None:
        while True:
            try:
                kept, removed = await self.reconcile()
                log.info("desk index reconciled", entries=kept, stale_removed=removed)
            except Exception as exc:
                log.warning("desk index reconcile failed", error=str(exc))
            await asyncio.sleep(interval_s)


class LetterRepository:
    """Letters (aggregates with outbox) and their audit trail."""

    def __init__(self, store: AggregateStore, *, audit: AuditLog, desk: Desk) -> None:
        self.store = store
        self.audit = audit
        self.desk = desk
        self._c = store.collection
        self.candidates: Collection = store.collection.database["repeat_candidates"]

    async def create(
        self,
        doc: Document,
        *,
        events: Sequence[Event],
        audit: Sequence[AuditEntry],
        applied_event_id: str,
    ) -> bool:
        """Store a new letter with its outbox, and its 待办 entry; False if it exists."""
        created = await self.store.create(
            doc, events=events, audit=audit, applied_event_id=applied_event_id
        )
        if created:
            await self.desk.sync_or_retry({**doc, "version": 1})
        return created

    async def get(self, letter_id: str) -> Document | None:
        """The letter document, or None."""
        return await self.store.get(letter_id)

    async def exists(self, letter_id: str) -> bool:
        """Whether the letter is stored."""
        return await self._c.find_one({"_id": letter_id}, {"_id": 1}) is not None

    async def page(
        self, where: LetterFilter, *, after: tuple[datetime, str] | None, limit: int
    ) -> list[Document]:
        """Up to `limit + 1` letters after the cursor, newest first."""
        query = and_after(where.query(), "received_at", after)
        cursor = self._c.find(query, _LIST_PROJECTION).sort(_SORT).limit(limit + 1)
        return await cursor.to_list(None)

    async def recent(
        self,
        *,
        around: datetime,
        window: timedelta,
        writer_parts: list[str],
        exclude_id: str,
        limit: int,
    ) -> list[RecentLetter]:
        """Letters within `window` of `around`: the latest `limit`, plus every one by the writer."""
        span = {"$gte": around - window, "$lte": around + window}
        projection = {"text": 1, "writer_key": 1, "received_at": 1}
        candidates = self.candidates
        found: dict[str, Document] = {}
        # The writer's letters among the latest come with them; only a window holding more
        # than `limit` letters needs the second query (each query scans letters on FerretDB).
        everything = False
        if limit > 0:
            cursor = candidates.find({"received_at": span}, projection).sort("received_at", -1)
            latest = await cursor.limit(limit).to_list(None)
            everything = len(latest) < limit
            for doc in latest:
                found[str(doc["_id"])] = doc
        if writer_parts and not everything:
            cursor = candidates.find(
                {"writer_keys": {"$in": writer_parts}, "received_at": span}, projection
            )
            for doc in await cursor.limit(1000).to_list(None):
                found[str(doc["_id"])] = doc
        found.pop(exclude_id, None)
        return [
            RecentLetter(
                letter_id=key,
                writer_key=doc.get("writer_key") or "",
                text=doc.get("text") or "",
                received_at=doc["received_at"],
            )
            for key, doc in found.items()
        ]

    async def remember_candidate(self, doc: Document) -> None:
        """Keep what repeat detection compares of a letter about to be stored (once)."""
        with contextlib.suppress(DuplicateKeyError):
            await self.candidates.insert_one(_candidate(doc))

    async def backfill_candidates(self) -> int:
        """Letters stored before the candidates were kept apart: copied once; how many."""
        if await self.candidates.find_one({"_id": _BACKFILLED}, {"_id": 1}) is not None:
            return 0
        copied = 0
        fields = {"received_at": 1, "writer_key": 1, "writer_keys": 1, "text": 1}
        async for doc in self._c.find({}, fields):
            await self.remember_candidate(doc)
            copied += 1
        with contextlib.suppress(DuplicateKeyError):
            await self.candidates.insert_one({"_id": _BACKFILLED})
        return copied

    async def trail(self, doc: Document) -> list[AuditEntry]:
        """The letter's audit trail, with entries still on their way from the outbox.

        Read by the entries' ids the letter keeps (no scan of the log) when it has kept
        them since it was created; by its id otherwise (letters stored before).
        """
        letter_id = str(doc["_id"])
        pending: list[dict[str, Any]] = doc.get("audit_outbox") or []
        ids = doc.get("audit_ids") if doc.get("audit_ids_complete") else None
        stored = await self.audit.for_letter(letter_id, limit=5000, ids=ids)
        seen = {entry.id for entry in stored}
        for raw in pending:
            doc = dict(raw)
            entry_id = doc.pop("_id")
            if entry_id not in seen:
                stored.append(AuditEntry.model_validate({**doc, "id": entry_id}))
        return sorted(stored, key=lambda entry: entry.at)


def _candidate(doc: Document) -> Document:
    return {
        "_id": doc["_id"],
        "received_at": doc["received_at"],
        "writer_key": doc.get("writer_key") or "",
        "writer_keys": doc.get("writer_keys") or [],
        "text": doc.get("text") or "",
    }


# A list shows what a desk needs to pick a letter; the full document is one GET away.
_LIST_PROJECTION = {
    "state": 1,
    "version": 1,
    "platform": 1,
    "source": 1,
    "external_id": 1,
    "title": 1,
    "nature": 1,
    "received_at": 1,
    "submitted_at": 1,
    "lead_unit_id": 1,
    "units": 1,
    "major": 1,
    "locked": 1,
    "clocks": 1,
    "sensitivity": 1,
}
