"""The only code that touches the routing service's collections."""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta
from typing import Any

from pymongo.errors import DuplicateKeyError

from services.routing.classify.similarity import RecentLetter
from services.routing.letters.models import LetterFilter
from shared.aggregate import AggregateStore
from shared.audit import AuditEntry, AuditLog
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


class LetterRepository:
    """Letters (aggregates with outbox) and their audit trail."""

    def __init__(self, store: AggregateStore, *, audit: AuditLog) -> None:
        self.store = store
        self.audit = audit
        self._c = store.collection
        self.candidates: Collection = store.collection.database["repeat_candidates"]

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

    async def trail(self, letter_id: str, *, pending: list[dict[str, Any]]) -> list[AuditEntry]:
        """The letter's audit trail, with entries still on their way from the outbox."""
        stored = await self.audit.for_letter(letter_id, limit=5000)
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
