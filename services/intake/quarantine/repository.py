"""The only code that touches the quarantine collection."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shared.aggregate import AggregateStore, Change
from shared.audit import AuditEntry
from shared.errors import Conflict
from shared.mongo import Document, IndexSpec
from shared.paging import and_after

# Newest first; every filter has an index that ends with the sort key.
QUARANTINE_SORT = [("quarantined_at", -1), ("_id", -1)]
QUARANTINE_INDEXES = [
    IndexSpec(keys=[("dedupe_key", 1)], unique=True, name="dedupe_key_unique"),
    IndexSpec(keys=QUARANTINE_SORT),
    IndexSpec(keys=[("status", 1), *QUARANTINE_SORT]),
    IndexSpec(keys=[("platform", 1), ("status", 1), *QUARANTINE_SORT]),
]
# The raw payload stays out of lists; one item's view shows it.
_QUARANTINE_LIST_PROJECTION = {
    "raw": 0,
    "outbox": 0,
    "audit_outbox": 0,
    "applied_events": 0,
    "audit_ids": 0,
}


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
            query = and_after(query, "quarantined_at", after)
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
