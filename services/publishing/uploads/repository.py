"""The only code that touches the `uploads` collection: one document per publication version."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from shared.aggregate import AggregateStore, Decide
from shared.audit import AuditEntry
from shared.events import Event
from shared.mongo import Collection, Document, IndexSpec
from shared.paging import and_after

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


# Lists leave out the bookkeeping of the aggregate.
_LIST_PROJECTION = {"outbox": 0, "audit_outbox": 0, "applied_events": 0}


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
        query = and_after(query, "created_at", after)
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
