"""The only code that touches the letters collection."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo.errors import BulkWriteError

from shared.aggregate import AggregateStore
from shared.audit import AuditEntry
from shared.events import Event
from shared.mongo import Document, IndexSpec
from shared.paging import and_after

DUPLICATE_KEY = 11000

# Lists are newest first; every filter has an index that ends with the sort key.
LETTER_SORT = [("received_at", -1), ("_id", -1)]
LETTER_INDEXES = [
    # Exactly-once registration rests on this index (atomic on MongoDB and FerretDB alike).
    IndexSpec(keys=[("platform", 1), ("external_id", 1)], unique=True, name="platform_external_id"),
    IndexSpec(keys=LETTER_SORT),
    IndexSpec(keys=[("platform", 1), *LETTER_SORT]),
    IndexSpec(keys=[("source", 1), *LETTER_SORT]),
]
# The raw payload stays out of lists; one letter's view shows it.
_LETTER_LIST_PROJECTION = {
    "raw_json": 0,
    "outbox": 0,
    "audit_outbox": 0,
    "applied_events": 0,
    "audit_ids": 0,
}


def aggregate_document(
    doc: Document, *, events: Sequence[Event], audit: Sequence[AuditEntry], now: datetime
) -> Document:
    """The document `AggregateStore.create` would insert: state, outbox and audit in one."""
    return {
        **doc,
        "version": 1,
        "created_at": now,
        "updated_at": now,
        "applied_events": [],
        "outbox": [e.model_dump(mode="json") for e in events],
        "audit_outbox": [a.to_document() for a in audit],
        "has_outbox": bool(events or audit),
    }


@dataclass(frozen=True)
class LetterFilter:
    """What a list of letters is narrowed to (each value already validated)."""

    platform: str | None = None
    source: str | None = None
    received_from: datetime | None = None
    received_to: datetime | None = None


class LetterRepository:
    """Registered letters (aggregates whose outbox carries `letter.received`)."""

    def __init__(self, store: AggregateStore) -> None:
        self.store = store
        self.collection = store.collection

    async def insert_batch(self, docs: Sequence[Document]) -> list[int]:
        """Insert aggregate documents in one round trip; the positions that were new.

        A document whose (platform, external id) is registered already fails on the
        unique index and is left out: that is the dedupe, whoever inserted first.
        """
        if not docs:
            return []
        try:
            await self.collection.insert_many(list(docs), ordered=False)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if any(err.get("code") != DUPLICATE_KEY for err in errors):
                raise
            failed = {int(err["index"]) for err in errors}
            return [i for i in range(len(docs)) if i not in failed]
        return list(range(len(docs)))

    async def get(self, letter_id: str) -> Document | None:
        """One letter, or None."""
        return await self.collection.find_one({"_id": letter_id})

    async def by_external_id(self, platform: str, external_id: str) -> Document | None:
        """The letter registered under this platform's id, or None."""
        return await self.collection.find_one({"platform": platform, "external_id": external_id})

    async def page(
        self, where: LetterFilter, *, after: tuple[datetime, str] | None, limit: int
    ) -> list[Document]:
        """Up to `limit + 1` letters after the cursor, newest first."""
        query: dict[str, Any] = {}
        if where.platform is not None:
            query["platform"] = where.platform
        if where.source is not None:
            query["source"] = where.source
        received: dict[str, datetime] = {}
        if where.received_from is not None:
            received["$gte"] = where.received_from
        if where.received_to is not None:
            received["$lt"] = where.received_to
        if received:
            query["received_at"] = received
        if after is not None:
            query = and_after(query, "received_at", after)
        cursor = self.collection.find(query, _LETTER_LIST_PROJECTION).sort(LETTER_SORT)
        return await cursor.limit(limit + 1).to_list(None)

    async def count(self, *, platform: str) -> int:
        """Letters registered from one platform."""
        return await self.collection.count_documents({"platform": platform})
