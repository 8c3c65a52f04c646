"""A unit's inbox as its users read it: every notice, newest first, marked read once.

Notices are written by the notifier (`service.InboxNotifier`, one document per notice id);
this module is the one reader of the `inbox` collection: per unit, by the unit's own
inbox route and by `GET /inbox`, and it records who read a notice first and when.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ReturnDocument

from shared.errors import NotFound
from shared.mongo import Collection, Document, IndexSpec
from shared.paging import and_after

INBOX_SORT = [("at", -1), ("_id", -1)]
INBOX_INDEXES = [
    IndexSpec(keys=[("unit_id", 1), ("at", -1), ("_id", -1)]),
    IndexSpec(keys=[("unit_id", 1), ("read_at", 1), ("at", -1), ("_id", -1)]),
]


class InboxStore:
    """Per-unit reads of the `inbox` collection and read marks."""

    def __init__(self, inbox: Collection) -> None:
        self._inbox = inbox

    async def page(
        self,
        unit_id: str,
        *,
        unread: bool | None,
        kind: str | None,
        after: tuple[datetime, str] | None,
        limit: int,
    ) -> list[Document]:
        """Up to `limit + 1` notices of a unit after the cursor, newest first."""
        query: dict[str, Any] = {"unit_id": unit_id}
        if unread is True:
            query["read_at"] = None
        elif unread is False:
            query["read_at"] = {"$ne": None}
        if kind is not None:
            query["kind"] = kind
        query = and_after(query, "at", after)
        return await self._inbox.find(query).sort(INBOX_SORT).limit(limit + 1).to_list(None)

    async def get(self, unit_id: str, notice_id: str) -> Document:
        """One notice of this unit, or 404 (another unit's notice is not found either)."""
        doc = await self._inbox.find_one({"_id": notice_id, "unit_id": unit_id})
        if doc is None:
            raise NotFound(f"notice {notice_id} not found")
        return doc

    async def mark_read(
        self, unit_id: str, notice_id: str, *, user_id: str, at: datetime
    ) -> Document:
        """Mark a notice read; the first reader and time stay (idempotent)."""
        await self.get(unit_id, notice_id)
        updated = await self._inbox.find_one_and_update(
            {"_id": notice_id, "unit_id": unit_id, "read_at": None},
            {"$set": {"read_at": at, "read_by": user_id}},
            return_document=ReturnDocument.AFTER,
        )
        return updated if updated is not None else await self.get(unit_id, notice_id)

    async def unread_count(self, unit_id: str) -> int:
        """How many notices of the unit nobody has read yet (bounded by the index)."""
        return await self._inbox.count_documents({"unit_id": unit_id, "read_at": None})
