"""Aggregates: documents whose state change and the events it causes are one write.

A document carries, besides its domain fields:
- `version`: optimistic concurrency; every change increments it.
- `applied_events`: ids of the events already applied, so a redelivered event
  is a no-op (the update is conditional on the version read, which moved).
- `outbox` / `audit_outbox`: events and audit entries written in the same update
  as the state; the relay publishes / stores them and then removes them.
- `audit_ids`: the id of every audit entry the document's changes wrote, in the same
  update, and `audit_ids_complete` on documents that have had it since their creation:
  their trail is read from the audit log by `_id` (`AuditLog.for_letter(ids=...)`), not by
  a query on `letter_id` that FerretDB v1 answers by scanning the whole log.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from shared.audit import AuditEntry
from shared.clock import Clock
from shared.errors import Conflict, NotFound, VersionConflict
from shared.events.envelope import Event
from shared.locks import KeyedLocks
from shared.mongo import Collection, Document, IndexSpec, InsertBatcher
from shared.outbox import Outbox

AGGREGATE_INDEXES = [IndexSpec(keys=[("has_outbox", 1)])]
# What the store adds to an aggregate's own fields (a reader of the domain model drops them).
BOOKKEEPING_FIELDS = frozenset(
    {
        "version",
        "created_at",
        "updated_at",
        "applied_events",
        "outbox",
        "audit_outbox",
        "has_outbox",
        "audit_ids",
        "audit_ids_complete",
    }
)

# A change decided from a stale read is retried this often before giving up;
# contention on one letter is rare (one office, one unit), so a few suffice.
MAX_RETRIES = 8


@dataclass(frozen=True)
class Change:
    """What a decision does to a document: fields to set, events, audit entries."""

    set: dict[str, Any] = field(default_factory=dict)
    push: dict[str, Any] = field(default_factory=dict)
    unset: Sequence[str] = ()
    events: Sequence[Event] = ()
    audit: Sequence[AuditEntry] = ()


class Notifier(Protocol):
    """Told when a document has something in its outbox (the relay)."""

    def notify(
        self, collection: Collection, doc_id: str, *, outbox: Outbox | None = None
    ) -> None: ...


Decide = Callable[[Document], Change | None]


class AggregateStore:
    """Creates and changes aggregate documents of one collection."""

    def __init__(
        self,
        collection: Collection,
        *,
        clock: Clock,
        relay: Notifier | None = None,
        locks: KeyedLocks | None = None,
    ) -> None:
        self.collection = collection
        self._clock = clock
        self._relay = relay
        self._locks = locks or KeyedLocks()
        self._inserts = InsertBatcher(collection)

    async def create(
        self,
        doc: Document,
        *,
        events: Sequence[Event] = (),
        audit: Sequence[AuditEntry] = (),
        applied_event_id: str | None = None,
    ) -> bool:
        """Insert a new aggregate; False if it (or its unique key) exists already."""
        now = self._clock.now()
        stored = {
            **doc,
            "version": 1,
            "created_at": now,
            "updated_at": now,
            "applied_events": [applied_event_id] if applied_event_id else [],
            "outbox": [e.model_dump(mode="json") for e in events],
            "audit_outbox": [a.to_document() for a in audit],
            "audit_ids": [a.id for a in audit],
            "audit_ids_complete": True,
            "has_outbox": bool(events or audit),
        }
        try:
            await self._inserts.insert(stored)
        except DuplicateKeyError:
            return False
        if events or audit:
            self._notify(str(stored["_id"]), Outbox(stored["outbox"], stored["audit_outbox"]))
        return True

    async def get(self, doc_id: str) -> Document | None:
        """The document, or None."""
        return await self.collection.find_one({"_id": doc_id})

    async def mutate(
        self,
        doc_id: str,
        decide: Decide,
        *,
        expected_version: int | None = None,
        event_id: str | None = None,
        read: Document | None = None,
    ) -> Document:
        """Read, decide, write conditionally on the version read; retry if it moved.

        `expected_version` is the version a person acted on: if the document moved
        since, that is their conflict (409), not something to retry. `event_id`
        makes applying an event idempotent. `read` is the document as the caller just
        read it: at the person's version it spares reading it again (the write is
        conditional on that version all the same).
        """
        async with self._locks.hold(doc_id):
            for _ in range(MAX_RETRIES):
                doc = read if read is not None and read["version"] == expected_version else None
                read = None
                if doc is None:
                    doc = await self.get(doc_id)
                if doc is None:
                    raise NotFound(f"{self.collection.name[:-1]} {doc_id} not found")
                if event_id is not None and event_id in doc.get("applied_events", []):
                    return doc
                if expected_version is not None and doc["version"] != expected_version:
                    raise VersionConflict(expected=expected_version, actual=doc["version"])
                change = decide(doc)
                if change is None and event_id is None:
                    return doc
                updated = await self._write(doc, change or Change(), event_id=event_id)
                if updated is not None:
                    if change is not None and (change.events or change.audit):
                        # The document as written: the relay need not read it back.
                        written = Outbox(updated.get("outbox", []), updated.get("audit_outbox", []))
                        self._notify(doc_id, written)
                    return updated
                if expected_version is not None:
                    current = await self.get(doc_id)
                    raise VersionConflict(
                        expected=expected_version,
                        actual=None if current is None else current["version"],
                    )
        raise Conflict(f"{doc_id} changes too often to apply this now; try again")

    async def _write(
        self, doc: Document, change: Change, *, event_id: str | None
    ) -> Document | None:
        update: dict[str, Any] = {
            "$set": {**change.set, "updated_at": self._clock.now()},
            "$inc": {"version": 1},
        }
        push: dict[str, Any] = {k: {"$each": list(v)} for k, v in change.push.items()}
        if change.events:
            push["outbox"] = {"$each": [e.model_dump(mode="json") for e in change.events]}
        if change.audit:
            push["audit_outbox"] = {"$each": [a.to_document() for a in change.audit]}
            push["audit_ids"] = {"$each": [a.id for a in change.audit]}
        if event_id is not None:
            push["applied_events"] = {"$each": [event_id]}
        if push:
            update["$push"] = push
        if change.events or change.audit:
            update["$set"]["has_outbox"] = True
        if change.unset:
            update["$unset"] = dict.fromkeys(change.unset, "")
        return await self.collection.find_one_and_update(
            {"_id": doc["_id"], "version": doc["version"]},
            update,
            return_document=ReturnDocument.AFTER,
        )

    def _notify(self, doc_id: str, outbox: Outbox) -> None:
        if self._relay is not None:
            self._relay.notify(self.collection, doc_id, outbox=outbox)

    @property
    def locks(self) -> KeyedLocks:
        """The per-document locks, shared with the relay."""
        return self._locks
