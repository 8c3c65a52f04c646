"""The only code that touches publishing's collections: letters, uploads, archives."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pymongo.errors import DuplicateKeyError

from shared.aggregate import AggregateStore, Decide
from shared.audit import AuditEntry
from shared.events import Event
from shared.mongo import Collection, Document, IndexSpec

LETTER_INDEXES = [IndexSpec(keys=[("known", 1), ("received_at", -1), ("_id", -1)])]

UPLOAD_SORT = [("created_at", -1), ("_id", -1)]
UPLOAD_INDEXES = [
    IndexSpec(keys=[("state", 1), ("next_attempt_at", 1)], name="due"),
    IndexSpec(keys=UPLOAD_SORT),
    IndexSpec(keys=[("state", 1), *UPLOAD_SORT]),
    IndexSpec(keys=[("letter_id", 1), *UPLOAD_SORT]),
    IndexSpec(
        keys=[("state", 1), ("archived", 1), ("archive_checked_at", 1)], name="archive_candidates"
    ),
]

ARCHIVE_SORT = [("archived_at", 1), ("_id", 1)]
ARCHIVE_INDEXES = [
    IndexSpec(keys=[("archive_id", 1)], unique=True, name="archive_id_unique"),
    IndexSpec(keys=ARCHIVE_SORT),
]

# Lists leave out the bookkeeping of the aggregate.
_LIST_PROJECTION = {"outbox": 0, "audit_outbox": 0, "applied_events": 0}


class LetterRepository:
    """Publishing's copies of letters (aggregates)."""

    def __init__(self, store: AggregateStore) -> None:
        self.store = store

    async def get(self, letter_id: str) -> Document | None:
        """One letter's copy, or None."""
        return await self.store.get(letter_id)

    async def create(
        self, doc: Document, *, audit: Sequence[AuditEntry] = (), event_id: str | None = None
    ) -> bool:
        """Insert a copy; False if one exists (a redelivery, or a stub made earlier)."""
        return await self.store.create(doc, audit=audit, applied_event_id=event_id)

    async def mutate(
        self, letter_id: str, decide: Decide, *, event_id: str | None = None
    ) -> Document:
        """Change one copy (applied once per event id)."""
        return await self.store.mutate(letter_id, decide, event_id=event_id)


def _after(sort_key: str, after: tuple[Any, str] | None, *, descending: bool) -> dict[str, Any]:
    if after is None:
        return {}
    value, last_id = after
    op = "$lt" if descending else "$gt"
    return {"$or": [{sort_key: {op: value}}, {sort_key: value, "_id": {op: last_id}}]}


class UploadRepository:
    """One document per publication version, keyed by its idempotency key."""

    def __init__(self, store: AggregateStore) -> None:
        self.store = store
        self.collection: Collection = store.collection

    async def create(
        self, doc: Document, *, events: Sequence[Event] = (), audit: Sequence[AuditEntry] = ()
    ) -> bool:
        """Insert an upload; False if its key exists already (the event came again)."""
        return await self.store.create(doc, events=events, audit=audit)

    async def get(self, upload_id: str) -> Document | None:
        """One upload, or None."""
        return await self.store.get(upload_id)

    async def mutate(
        self, upload_id: str, decide: Decide, *, expected_version: int | None = None
    ) -> Document:
        """Change one upload, conditionally on the version read."""
        return await self.store.mutate(upload_id, decide, expected_version=expected_version)

    async def due(self, *, now: datetime, limit: int) -> list[Document]:
        """Pending uploads whose next attempt is due, the longest waiting first."""
        cursor = (
            self.collection.find(
                {"state": "pending", "next_attempt_at": {"$lte": now}}, _LIST_PROJECTION
            )
            .sort([("next_attempt_at", 1)])
            .limit(limit)
        )
        return [doc async for doc in cursor]

    async def page(
        self,
        *,
        state: str | None,
        letter_id: str | None,
        after: tuple[datetime, str] | None,
        limit: int,
    ) -> list[Document]:
        """Newest first, one more than `limit` (to know whether a next page exists)."""
        query: dict[str, Any] = {}
        if state is not None:
            query["state"] = state
        if letter_id is not None:
            query["letter_id"] = letter_id
        query.update(_after("created_at", after, descending=True))
        cursor = self.collection.find(query, _LIST_PROJECTION).sort(UPLOAD_SORT).limit(limit + 1)
        return [doc async for doc in cursor]

    async def for_letter(
        self, letter_id: str, *, limit: int = 200, with_outbox: bool = False
    ) -> list[Document]:
        """Every upload of one letter, oldest first (with unrelayed audit entries if asked)."""
        projection = {"applied_events": 0} if with_outbox else _LIST_PROJECTION
        cursor = (
            self.collection.find({"letter_id": letter_id}, projection)
            .sort([("created_at", 1), ("_id", 1)])
            .limit(limit)
        )
        return [doc async for doc in cursor]

    async def archive_candidates(self, *, limit: int) -> list[str]:
        """Letters with a delivered upload and no archive yet, the least recently checked first."""
        cursor = (
            self.collection.find(
                {"state": "sent", "archived": False}, {"letter_id": 1, "archive_checked_at": 1}
            )
            .sort([("archive_checked_at", 1)])
            .limit(limit * 4)
        )
        seen: list[str] = []
        async for doc in cursor:
            if doc["letter_id"] not in seen:
                seen.append(doc["letter_id"])
            if len(seen) >= limit:
                break
        return seen

    async def mark_checked(self, letter_id: str, *, at: datetime) -> None:
        """Remember when the archiver last looked at a letter (bookkeeping, not state)."""
        await self.collection.update_many(
            {"letter_id": letter_id, "state": "sent"}, {"$set": {"archive_checked_at": at}}
        )

    async def mark_archived(self, letter_id: str) -> None:
        """Take a letter's uploads off the archiver's list."""
        await self.collection.update_many({"letter_id": letter_id}, {"$set": {"archived": True}})


class ArchiveRepository:
    """Archive records: inserted once per letter, never changed (no update here)."""

    def __init__(self, collection: Collection) -> None:
        self.collection = collection

    async def insert(self, doc: Document) -> bool:
        """Insert a record; False if the letter has one already."""
        try:
            await self.collection.insert_one(doc)
        except DuplicateKeyError:
            return False
        return True

    async def get(self, letter_id: str) -> Document | None:
        """The record of one letter, or None."""
        return await self.collection.find_one({"_id": letter_id})

    async def between(
        self,
        *,
        start: datetime,
        end: datetime,
        after: tuple[datetime, str] | None,
        limit: int,
        with_content: bool,
    ) -> list[Document]:
        """Records archived in [start, end), oldest first; one more than `limit`."""
        query: dict[str, Any] = {"archived_at": {"$gte": start, "$lt": end}}
        if after is not None:
            query = {"$and": [query, _after("archived_at", after, descending=False)]}
        projection = None if with_content else {"canonical": 0}
        cursor = self.collection.find(query, projection).sort(ARCHIVE_SORT).limit(limit + 1)
        return [doc async for doc in cursor]
