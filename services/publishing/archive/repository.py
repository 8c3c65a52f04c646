"""The only code that touches the `archives` collection: one immutable record per letter."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo.errors import DuplicateKeyError

from shared.mongo import Collection, Document, IndexSpec
from shared.paging import and_after

ARCHIVE_SORT = [("archived_at", 1), ("_id", 1)]
ARCHIVE_INDEXES = [
    IndexSpec(keys=[("archive_id", 1)], unique=True, name="archive_id_unique"),
    IndexSpec(keys=ARCHIVE_SORT),
]


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
            query = and_after(query, "archived_at", after, descending=False)
        projection = None if with_content else {"canonical": 0}
        cursor = self.collection.find(query, projection).sort(ARCHIVE_SORT).limit(limit + 1)
        return [doc async for doc in cursor]
