"""The only code that touches intake's collections: letters, quarantine, platform state."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo.errors import BulkWriteError, DuplicateKeyError

from shared.aggregate import AggregateStore, Change
from shared.audit import AuditEntry
from shared.errors import Conflict
from shared.events import Event
from shared.mongo import Collection, Document, IndexSpec

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
QUARANTINE_SORT = [("quarantined_at", -1), ("_id", -1)]
QUARANTINE_INDEXES = [
    IndexSpec(keys=[("dedupe_key", 1)], unique=True, name="dedupe_key_unique"),
    IndexSpec(keys=QUARANTINE_SORT),
    IndexSpec(keys=[("status", 1), *QUARANTINE_SORT]),
    IndexSpec(keys=[("platform", 1), ("status", 1), *QUARANTINE_SORT]),
]
# The raw payload stays out of lists; one letter's view shows it.
_LETTER_LIST_PROJECTION = {"raw_json": 0, "outbox": 0, "audit_outbox": 0, "applied_events": 0}
_QUARANTINE_LIST_PROJECTION = {"raw": 0, "outbox": 0, "audit_outbox": 0, "applied_events": 0}


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


def _after_clause(key: str, after: tuple[datetime, str]) -> dict[str, Any]:
    at, last_id = after
    return {"$or": [{key: {"$lt": at}}, {key: at, "_id": {"$lt": last_id}}]}


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
            query = {"$and": [query, _after_clause("received_at", after)]}
        cursor = self.collection.find(query, _LETTER_LIST_PROJECTION).sort(LETTER_SORT)
        return await cursor.limit(limit + 1).to_list(None)

    async def count(self, *, platform: str) -> int:
        """Letters registered from one platform."""
        return await self.collection.count_documents({"platform": platform})


class QuarantineRepository:
    """Records that failed validation, kept whole until someone fixes them."""

    def __init__(self, store: AggregateStore) -> None:
        self.store = store
        self.collection = store.collection

    async def add(self, doc: Document, *, audit: AuditEntry) -> bool:
        """Keep a record; False if these very bytes from this platform are kept already."""
        return await self.store.create(doc, audit=[audit])

    async def get(self, item_id: str) -> Document | None:
        """One item, or None."""
        return await self.store.get(item_id)

    async def page(
        self,
        *,
        status: str | None,
        platform: str | None,
        after: tuple[datetime, str] | None,
        limit: int,
    ) -> list[Document]:
        """Up to `limit + 1` items after the cursor, newest first."""
        query: dict[str, Any] = {}
        if platform is not None:
            query["platform"] = platform
        if status is not None:
            query["status"] = status
        if after is not None:
            query = {"$and": [query, _after_clause("quarantined_at", after)]}
        cursor = self.collection.find(query, _QUARANTINE_LIST_PROJECTION).sort(QUARANTINE_SORT)
        return await cursor.limit(limit + 1).to_list(None)

    async def count_open(self, *, platform: str) -> int:
        """Items of one platform still waiting for a fix."""
        return await self.collection.count_documents({"platform": platform, "status": "open"})

    async def resolve(
        self, item_id: str, *, resolution: dict[str, Any], audit: AuditEntry
    ) -> Document:
        """Mark an open item resolved (409 if someone resolved it first)."""

        def decide(doc: Document) -> Change:
            if doc.get("status") != "open":
                letter_id = (doc.get("resolution") or {}).get("letter_id")
                raise Conflict(
                    f"quarantine item {item_id} is resolved already",
                    details={"letter_id": letter_id},
                )
            return Change(set={"status": "resolved", "resolution": resolution}, audit=[audit])

        return await self.store.mutate(item_id, decide)


class PlatformStateRepository:
    """Per platform: the poll cursor, when it was polled, and its recent errors."""

    def __init__(self, collection: Collection) -> None:
        self.collection = collection

    async def get(self, platform_id: str) -> Document:
        """The state of one platform (an empty one if it was never polled)."""
        doc = await self.collection.find_one({"_id": platform_id})
        return doc or {"_id": platform_id, "cursor": None, "recent_errors": []}

    async def all(self) -> dict[str, Document]:
        """The state of every platform polled so far."""
        return {str(doc["_id"]): doc async for doc in self.collection.find({})}

    async def ensure(self, platform_id: str) -> None:
        """Create the state document if missing (idempotent)."""
        try:
            await self.collection.insert_one(
                {"_id": platform_id, "cursor": None, "recent_errors": [], "polls": 0}
            )
        except DuplicateKeyError:
            return

    async def save_cursor(
        self,
        platform_id: str,
        *,
        cursor: str | None,
        newest_submitted_at: datetime | None,
        now: datetime,
    ) -> None:
        """Store where the next poll starts (after the page's letters were registered)."""
        update: dict[str, Any] = {"$set": {"cursor": cursor, "cursor_updated_at": now}}
        if newest_submitted_at is not None:
            update["$max"] = {"newest_submitted_at": newest_submitted_at}
        await self.collection.update_one({"_id": platform_id}, update)

    async def finish_cycle(
        self,
        platform_id: str,
        *,
        summary: dict[str, Any],
        errors: Sequence[dict[str, Any]],
        succeeded: bool,
        keep_errors: int,
    ) -> None:
        """Record a finished poll cycle and append its errors to the recent ones."""
        fields: dict[str, Any] = {
            "last_poll_at": summary["started_at"],
            "last_poll_finished_at": summary["finished_at"],
            "last_summary": summary,
        }
        if succeeded:
            fields["last_success_at"] = summary["finished_at"]
        if errors:
            # Read-modify-write: FerretDB v1 ignores $push's $slice, and only the
            # lease holder writes here, so a lost append costs at most one message.
            current = await self.get(platform_id)
            kept = [*current.get("recent_errors", []), *errors][-keep_errors:]
            fields["recent_errors"] = kept
        await self.collection.update_one(
            {"_id": platform_id}, {"$set": fields, "$inc": {"polls": 1}}
        )
