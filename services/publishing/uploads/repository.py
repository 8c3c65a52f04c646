"""The only code that touches the `uploads` collection: one document per publication version."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo.errors import DuplicateKeyError

from shared.aggregate import AggregateStore, Decide
from shared.audit import AuditEntry
from shared.events import Event
from shared.mongo import Collection, Document, IndexSpec
from shared.paging import and_after

UPLOAD_SORT = [("created_at", -1), ("_id", -1)]
LETTER_UPLOADS = "letter_uploads"
ARCHIVE_QUEUE = "archive_queue"
UPLOAD_QUEUE = "upload_queue"
# A queued letter whose delivery mark never came is looked at after this long anyway.
RECHECK_AFTER = timedelta(minutes=10)
UPLOAD_INDEXES = [
    IndexSpec(keys=[("state", 1), ("next_attempt_at", 1)], name="due"),
    IndexSpec(keys=UPLOAD_SORT),
    IndexSpec(keys=[("state", 1), *UPLOAD_SORT]),
    IndexSpec(keys=[("letter_id", 1), *UPLOAD_SORT]),
]


# Lists leave out the bookkeeping of the aggregate.
_LIST_PROJECTION = {"outbox": 0, "audit_outbox": 0, "applied_events": 0, "audit_ids": 0}


class UploadRepository:
    """One document per publication version, keyed by its idempotency key."""

    def __init__(self, store: AggregateStore) -> None:
        self.store = store
        self.collection: Collection = store.collection
        database = store.collection.database
        # A letter's upload ids under the letter's id, and the letters the archiver has yet
        # to archive: reads by id instead of scans of `uploads` by `letter_id`.
        self._index: Collection = database[LETTER_UPLOADS]
        self._queue: Collection = database[ARCHIVE_QUEUE]
        # The pending uploads and when each is due next: the uploader's due-query scans this.
        self._due: Collection = database[UPLOAD_QUEUE]

    async def create(
        self, doc: Document, *, events: Sequence[Event] = (), audit: Sequence[AuditEntry] = ()
    ) -> bool:
        """Insert an upload; False if its key exists already (the event came again)."""
        at = doc.get("created_at") or datetime.now(UTC)
        await self._remember(str(doc["letter_id"]), str(doc["_id"]), at=at)
        if doc["state"] == "pending":
            # Queued first: a pending upload is never missing from the queue.
            await self._queue_due(str(doc["_id"]), doc["next_attempt_at"])
        return await self.store.create(doc, events=events, audit=audit)

    async def get(self, upload_id: str) -> Document | None:
        """One upload, or None."""
        return await self.store.get(upload_id)

    async def mutate(
        self, upload_id: str, decide: Decide, *, expected_version: int | None = None
    ) -> Document:
        """Change one upload, conditionally on the version read (a delivery marks its letter
        for the archiver)."""
        doc = await self.store.mutate(upload_id, decide, expected_version=expected_version)
        await self._sync_due(doc)
        if doc["state"] == "sent" and not doc.get("archived"):
            await self.mark_sent(str(doc["letter_id"]))
        return doc

    async def due(self, *, now: datetime, limit: int) -> list[Document]:
        """Pending uploads whose next attempt is due, the longest waiting first.

        From `upload_queue`, which holds one small document per pending upload (its id and
        next attempt), so the query scans the uploads waiting, not every upload stored; each
        upload is then read by id and kept only if it is still pending.
        """
        query = {"next_attempt_at": {"$lte": now}}
        cursor = self._due.find(query).sort([("next_attempt_at", 1)]).limit(limit)
        docs = []
        async for entry in cursor:
            doc = await self.collection.find_one({"_id": entry["_id"]}, _LIST_PROJECTION)
            if doc is not None and doc["state"] == "pending":
                docs.append(doc)
            elif doc is not None:
                # Delivered or given up meanwhile. (No document yet: its insert is on its way.)
                await self._due.delete_one({"_id": entry["_id"]})
        return docs

    async def requeue_pending(self) -> int:
        """Queue every pending upload (`upload_queue`) from one scan of `uploads`: the
        uploader's rare safety net for an entry lost to a crash between an upload's write and
        its queue's, and the migration of uploads stored before the queue. How many."""
        found = self.collection.find({"state": "pending"}, {"next_attempt_at": 1})
        queued = 0
        async for doc in found:
            await self._queue_due(str(doc["_id"]), doc["next_attempt_at"])
            queued += 1
        return queued

    async def _queue_due(self, upload_id: str, at: datetime) -> None:
        await self._due.update_one(
            {"_id": upload_id}, {"$set": {"next_attempt_at": at}}, upsert=True
        )

    async def _sync_due(self, doc: Document) -> None:
        """Keep the upload's queue entry as its state says: pending, due at its next attempt;
        otherwise none."""
        if doc["state"] == "pending":
            await self._queue_due(str(doc["_id"]), doc["next_attempt_at"])
        else:
            await self._due.delete_one({"_id": doc["_id"]})

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
        """Every upload of one letter, oldest first (with unrelayed audit entries if asked).

        By id: the letter's upload ids are kept under the letter's id (`letter_uploads`).
        """
        projection = {"applied_events": 0} if with_outbox else _LIST_PROJECTION
        docs = []
        for upload_id in (await self._upload_ids(letter_id))[:limit]:
            doc = await self.collection.find_one({"_id": upload_id}, projection)
            if doc is not None:
                docs.append(doc)
        return sorted(docs, key=lambda d: (d["created_at"], str(d["_id"])))

    async def _upload_ids(self, letter_id: str) -> list[str]:
        index = await self._index.find_one({"_id": letter_id}, {"upload_ids": 1})
        return [str(i) for i in (index or {}).get("upload_ids") or []]

    async def archive_candidates(self, *, limit: int, now: datetime) -> list[str]:
        """Letters with a delivered upload and no archive yet, the least recently checked
        first; and any queued letter not checked for `RECHECK_AFTER` (its `sent` mark may
        have been lost to a crash between the delivery and the mark).

        A scan of `archive_queue`, which holds only the letters not archived yet.
        """
        query = {"$or": [{"sent": True}, {"checked_at": {"$lt": now - RECHECK_AFTER}}]}
        cursor = self._queue.find(query, {"_id": 1}).sort([("checked_at", 1)]).limit(limit)
        return [str(doc["_id"]) async for doc in cursor]

    async def mark_checked(self, letter_id: str, *, at: datetime) -> None:
        """Remember when the archiver last looked at a letter (bookkeeping, not state)."""
        await self._queue.update_one({"_id": letter_id}, {"$set": {"checked_at": at}})

    async def mark_archived(self, letter_id: str) -> None:
        """Take a letter off the archiver's list (and mark its uploads archived)."""
        for upload_id in await self._upload_ids(letter_id):
            await self.collection.update_one({"_id": upload_id}, {"$set": {"archived": True}})
        await self._queue.delete_one({"_id": letter_id})

    async def mark_sent(self, letter_id: str) -> None:
        """A letter's upload was delivered: the archiver may look at it now."""
        await self._queue.update_one({"_id": letter_id}, {"$set": {"sent": True}})

    async def _remember(self, letter_id: str, upload_id: str, *, at: datetime) -> None:
        """List an upload under its letter and queue the letter for the archiver (idempotent;
        done before the upload is inserted, so no upload is ever missing from its letter)."""
        await upsert(self._index, letter_id, {"$addToSet": {"upload_ids": upload_id}})
        queued = {"$setOnInsert": {"sent": False, "checked_at": at}}
        await upsert(self._queue, letter_id, queued)

    async def index_existing(self) -> dict[str, int]:
        """List every stored upload under its letter and queue the letters with a delivered,
        unarchived upload (`mailbox archive migrate`: once, for uploads stored before the
        index; idempotent). One scan of `uploads`."""
        uploads = letters = queued = 0
        fields = {"letter_id": 1, "state": 1, "archived": 1, "created_at": 1}
        async for doc in self.collection.find({}, fields):
            uploads += 1
            letter_id, at = str(doc["letter_id"]), doc.get("created_at") or datetime.now(UTC)
            await upsert(self._index, letter_id, {"$addToSet": {"upload_ids": doc["_id"]}})
            if doc.get("state") == "sent" and not doc.get("archived"):
                queue = {"$set": {"sent": True}, "$setOnInsert": {"checked_at": at}}
                await upsert(self._queue, letter_id, queue)
                queued += 1
        letters = await self._index.count_documents({})
        return {"uploads": uploads, "letters": letters, "queued_for_archive": queued}


async def upsert(collection: Collection, doc_id: str, update: Document) -> None:
    """Update or insert by id; two first writers racing do not fail the second."""
    try:
        await collection.update_one({"_id": doc_id}, update, upsert=True)
    except DuplicateKeyError:
        await collection.update_one({"_id": doc_id}, update, upsert=True)
