"""The only code that touches the platforms' poll state (`platform_state`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pymongo.errors import DuplicateKeyError

from shared.mongo import Collection, Document


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
