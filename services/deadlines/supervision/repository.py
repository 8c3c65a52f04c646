"""The only code that touches the reminders and assessment collections."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from shared.aggregate import AggregateStore, Decide
from shared.audit import AuditEntry
from shared.events import Event
from shared.mongo import Collection, Document, IndexSpec
from shared.paging import find_page

REMINDER_INDEXES = [
    IndexSpec(keys=[("unit_id", 1), ("issued_at", 1), ("_id", 1)]),
    IndexSpec(keys=[("answered", 1), ("issued_at", 1), ("_id", 1)]),
    IndexSpec(keys=[("issued_at", 1), ("_id", 1)]),
    IndexSpec(keys=[("letter_id", 1), ("issued_at", 1), ("_id", 1)]),
]


ASSESSMENT_INDEXES = [
    IndexSpec(keys=[("year", 1), ("unit_id", 1), ("recorded_at", 1), ("_id", 1)]),
    IndexSpec(keys=[("year", 1), ("recorded_at", 1), ("_id", 1)]),
    IndexSpec(keys=[("letter_id", 1), ("recorded_at", 1), ("_id", 1)]),
]


async def _by_ids(
    collection: Collection, ids: Sequence[str], *, unit_id: str | None, sort: str
) -> list[Document]:
    """The documents of these ids that exist (and are the unit's), by `sort` then id: each
    read by its id, as a letter's are few (a query by `letter_id` scans on FerretDB)."""
    found: dict[str, Document] = {}
    for doc_id in dict.fromkeys(ids):
        doc = await collection.find_one({"_id": doc_id}, {"outbox": 0, "audit_outbox": 0})
        if doc is not None and (unit_id is None or doc.get("unit_id") == unit_id):
            found[doc_id] = doc
    return sorted(found.values(), key=lambda d: (d[sort], str(d["_id"])))


class ReminderRepository:
    """Reminders (催办) and their answers (aggregates with outbox)."""

    def __init__(self, store: AggregateStore) -> None:
        self.store = store
        self._c = store.collection

    async def create(
        self, doc: Document, *, events: Sequence[Event], audit: Sequence[AuditEntry]
    ) -> bool:
        """Insert a reminder; False if it exists."""
        return await self.store.create(doc, events=events, audit=audit)

    async def get(self, reminder_id: str) -> Document | None:
        """One reminder."""
        return await self.store.get(reminder_id)

    async def mutate(
        self, reminder_id: str, decide: Decide, *, expected_version: int | None = None
    ) -> Document:
        """Change one reminder."""
        return await self.store.mutate(reminder_id, decide, expected_version=expected_version)

    async def page(
        self,
        *,
        unit_id: str | None,
        answered: bool | None,
        cursor: tuple[Any, str] | None,
        limit: int,
    ) -> list[Document]:
        """Reminders, oldest first, by unit and answered-ness."""
        query: dict[str, Any] = {}
        if unit_id is not None:
            query["unit_id"] = unit_id
        if answered is not None:
            query["answered"] = answered
        return await find_page(self._c, query=query, sort="issued_at", cursor=cursor, limit=limit)

    async def for_letter(
        self, reminder_ids: Sequence[str], *, unit_id: str | None = None
    ) -> list[Document]:
        """A letter's reminders (the ids its clocks list), oldest first; a letter has a few."""
        return await _by_ids(self._c, reminder_ids, unit_id=unit_id, sort="issued_at")

    async def issued_between(self, start: datetime, end: datetime) -> list[Document]:
        """Reminders issued in [start, end) (reports)."""
        query = {"issued_at": {"$gte": start, "$lt": end}}
        return await self._c.find(query, {"outbox": 0, "audit_outbox": 0}).to_list(None)


class AssessmentRepository:
    """Deduction items (aggregates with outbox)."""

    def __init__(self, store: AggregateStore) -> None:
        self.store = store
        self._c = store.collection

    async def create(
        self, doc: Document, *, events: Sequence[Event], audit: Sequence[AuditEntry]
    ) -> bool:
        """Insert an item; False if it exists."""
        return await self.store.create(doc, events=events, audit=audit)

    async def get(self, item_id: str) -> Document | None:
        """One item."""
        return await self.store.get(item_id)

    async def mutate(self, item_id: str, decide: Decide) -> Document:
        """Change one item (its annulment)."""
        return await self.store.mutate(item_id, decide)

    async def page(
        self, *, year: int, unit_id: str | None, cursor: tuple[Any, str] | None, limit: int
    ) -> list[Document]:
        """Items of a year, oldest first."""
        query: dict[str, Any] = {"year": year}
        if unit_id is not None:
            query["unit_id"] = unit_id
        return await find_page(self._c, query=query, sort="recorded_at", cursor=cursor, limit=limit)

    async def for_year(self, year: int, *, unit_id: str | None = None) -> list[Document]:
        """Every item of a year that counts (scores, the annual report): none annulled."""
        query: dict[str, Any] = {"year": year, "annulled": None}
        if unit_id is not None:
            query["unit_id"] = unit_id
        return await self._c.find(query, {"outbox": 0, "audit_outbox": 0}).to_list(None)

    async def for_letter(
        self, item_ids: Sequence[str], *, unit_id: str | None = None
    ) -> list[Document]:
        """A letter's items (one per unanswered reminder, and those the office recorded, as
        the letter's facts list them), of any year, oldest first."""
        return await _by_ids(self._c, item_ids, unit_id=unit_id, sort="recorded_at")

    async def recorded_between(self, start: datetime, end: datetime) -> list[Document]:
        """Items recorded in [start, end) that count (reports): none annulled."""
        query = {"recorded_at": {"$gte": start, "$lt": end}, "annulled": None}
        return await self._c.find(query, {"outbox": 0, "audit_outbox": 0}).to_list(None)
