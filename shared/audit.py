"""The append-only audit log: who did what, when, to what, before and after.

Entries travel in the aggregate's `audit_outbox` together with the state change
(one atomic write) and the outbox relay copies them here, keyed by their id, so an
entry is never lost and never written twice. This module offers no update and no
delete; in production the service's database user gets only insert and find on
this collection.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pymongo.errors import BulkWriteError

from shared.ids import new_id
from shared.mongo import Collection, IndexSpec

AUDIT_INDEXES = [
    IndexSpec(keys=[("letter_id", 1), ("at", 1)]),
    IndexSpec(keys=[("actor.user_id", 1), ("at", 1)]),
    IndexSpec(keys=[("at", 1)]),
]


class Actor(BaseModel):
    """Who acted: a person with a role (and unit), or a service."""

    model_config = ConfigDict(frozen=True)

    user_id: str
    name: str = ""
    role: str
    unit_id: str | None = None


class AuditEntry(BaseModel):
    """One action on one target."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(default_factory=lambda: new_id("aud"))
    at: datetime
    actor: Actor
    action: str
    target_type: str
    target_id: str
    letter_id: str | None = None
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    note: str | None = None

    def to_document(self) -> dict[str, Any]:
        """Stored form, keyed by the entry id."""
        doc = self.model_dump(mode="python")
        # `_id` first, as FerretDB stores it: the relay matches the stored entry exactly.
        return {"_id": doc.pop("id"), **doc}


def system_actor(service: str) -> Actor:
    """The actor for what a service does by itself (a consumer, a timer)."""
    return Actor(user_id=f"system:{service}", name=service, role="system")


# Ids per `$in` read of a trail: our FerretDB build answers up to 500 from the _id index.
IDS_PER_QUERY = 500


class AuditLog:
    """Append and read; nothing else."""

    def __init__(self, collection: Collection) -> None:
        self._collection = collection

    async def append_documents(self, docs: list[dict[str, Any]]) -> None:
        """Store entries; entries already stored (a relay retry) are skipped."""
        if not docs:
            return
        try:
            await self._collection.insert_many(docs, ordered=False)
        except BulkWriteError as exc:
            if any(err.get("code") != 11000 for err in exc.details.get("writeErrors", [])):
                raise

    async def append(self, entry: AuditEntry) -> None:
        """Store one entry written outside an aggregate (e.g. a login, an export)."""
        await self.append_documents([entry.to_document()])

    async def for_letter(
        self, letter_id: str, *, limit: int = 500, ids: Sequence[str] | None = None
    ) -> list[AuditEntry]:
        """The trail of one letter, oldest first.

        With `ids` (the letter's own list of its entries, `audit_ids` of an aggregate that
        has kept it since its creation) the entries are read by `_id`, whatever the size of
        the log; without, by `letter_id`, which scans the log on FerretDB v1.
        """
        if ids is None:
            cursor = self._collection.find({"letter_id": letter_id}).sort("at", 1).limit(limit)
            return [_entry(doc) async for doc in cursor]
        found: list[AuditEntry] = []
        wanted = list(dict.fromkeys(ids))
        for start in range(0, len(wanted), IDS_PER_QUERY):
            query = {"_id": {"$in": wanted[start : start + IDS_PER_QUERY]}}
            found += [_entry(doc) async for doc in self._collection.find(query)]
        # Oldest first; entries of one instant in the order the letter's changes wrote them.
        order = {entry_id: index for index, entry_id in enumerate(wanted)}
        found.sort(key=lambda entry: (entry.at, order.get(entry.id, 0)))
        return found[:limit]


def _entry(doc: dict[str, Any]) -> AuditEntry:
    doc = dict(doc)
    doc["id"] = doc.pop("_id")
    return AuditEntry.model_validate(doc)
