"""The only code that touches the deadlines service's collections."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from shared.aggregate import AggregateStore, Decide
from shared.audit import AuditEntry
from shared.events import Event
from shared.events.vocabulary import ClockState
from shared.mongo import Collection, Document, IndexSpec

CLOCK_INDEXES = [
    IndexSpec(keys=[("letter_id", 1), ("_id", 1)]),
    IndexSpec(keys=[("unit_id", 1), ("state", 1), ("due", 1), ("_id", 1)]),
    IndexSpec(keys=[("state", 1), ("closed_at", 1), ("due", 1), ("_id", 1)]),
    IndexSpec(keys=[("state", 1), ("due_soon_sent", 1), ("due_soon_at", 1)]),
    IndexSpec(keys=[("state", 1), ("calendar_version", 1)]),
    IndexSpec(keys=[("follow_up", 1)]),
    IndexSpec(keys=[("due", 1)]),
]
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
FACTS_INDEXES = [
    IndexSpec(keys=[("received_at", 1)]),
    IndexSpec(keys=[("active_months", 1)]),
    IndexSpec(keys=[("active_years", 1)]),
]
# Sweeps take work in slices, so one sweep never holds thousands of documents.
SWEEP_BATCH = 500
Cursor = tuple[Any, str]


def _after(field: str, *, cursor: Cursor | None) -> dict[str, Any]:
    if cursor is None:
        return {}
    value, last_id = cursor
    return {"$or": [{field: {"$gt": value}}, {field: value, "_id": {"$gt": last_id}}]}


def _and(*filters: dict[str, Any]) -> dict[str, Any]:
    parts = [f for f in filters if f]
    if not parts:
        return {}
    return parts[0] if len(parts) == 1 else {"$and": parts}


async def _page(
    collection: Collection,
    *,
    query: dict[str, Any],
    sort: str,
    cursor: Cursor | None,
    limit: int,
) -> list[Document]:
    if sort == "_id":
        after = {} if cursor is None else {"_id": {"$gt": cursor[1]}}
        found = collection.find(_and(query, after)).sort("_id", 1)
    else:
        found = collection.find(_and(query, _after(sort, cursor=cursor))).sort(
            [(sort, 1), ("_id", 1)]
        )
    return await found.limit(limit + 1).to_list(None)


async def _for_letter(
    collection: Collection, letter_id: str, *, unit_id: str | None, sort: str
) -> list[Document]:
    query: dict[str, Any] = {"letter_id": letter_id}
    if unit_id is not None:
        query["unit_id"] = unit_id
    found = collection.find(query, {"outbox": 0, "audit_outbox": 0}).sort([(sort, 1), ("_id", 1)])
    return await found.to_list(None)


class ClockRepository:
    """Statutory clocks (aggregates with outbox)."""

    def __init__(self, store: AggregateStore) -> None:
        self.store = store
        self._c = store.collection

    async def create(
        self, doc: Document, *, events: Sequence[Event], audit: Sequence[AuditEntry]
    ) -> bool:
        """Insert a clock; False if it exists (the event that opens it came again)."""
        return await self.store.create(doc, events=events, audit=audit)

    async def get(self, clock_id: str) -> Document | None:
        """One clock."""
        return await self.store.get(clock_id)

    async def mutate(
        self, clock_id: str, decide: Decide, *, event_id: str | None = None
    ) -> Document:
        """Change one clock (see AggregateStore.mutate)."""
        return await self.store.mutate(clock_id, decide, event_id=event_id)

    async def page_for_letter(
        self, letter_id: str, *, cursor: Cursor | None, limit: int
    ) -> list[Document]:
        """A letter's clocks in id order."""
        return await _page(
            self._c, query={"letter_id": letter_id}, sort="_id", cursor=cursor, limit=limit
        )

    async def page_for_unit(
        self, unit_id: str, *, states: Sequence[str], cursor: Cursor | None, limit: int
    ) -> list[Document]:
        """A unit's clocks in the given states, soonest due first."""
        query = {"unit_id": unit_id, "state": {"$in": list(states)}}
        return await _page(self._c, query=query, sort="due", cursor=cursor, limit=limit)

    async def page_overdue(
        self, *, unit_id: str | None, cursor: Cursor | None, limit: int
    ) -> list[Document]:
        """Open overdue clocks, oldest due first."""
        query: dict[str, Any] = {"state": ClockState.overdue.value, "closed_at": None}
        if unit_id is not None:
            query["unit_id"] = unit_id
        return await _page(self._c, query=query, sort="due", cursor=cursor, limit=limit)

    async def ids_due(self, now: datetime) -> list[str]:
        """Running clocks past their due that nobody is waiting on."""
        query = {
            "state": ClockState.running.value,
            "closed_at": None,
            "due": {"$lte": now},
            "awaiting_decision": False,
        }
        return await self._ids(query)

    async def ids_due_soon(self, now: datetime) -> list[str]:
        """Running clocks whose due-soon instant passed and whose notice was not sent."""
        query = {
            "state": ClockState.running.value,
            "due_soon_sent": False,
            "due_soon_at": {"$lte": now},
        }
        return await self._ids(query)

    async def ids_follow_up(self) -> list[str]:
        """Overdue clocks whose reminder or deduction is not recorded yet."""
        return await self._ids({"follow_up": {"$in": ["reminder", "assessment"]}})

    async def ids_stale(self, calendar_version: int) -> list[str]:
        """Open clocks counted with an older calendar."""
        query = {
            "state": {"$in": [ClockState.running.value, ClockState.overdue.value]},
            "closed_at": None,
            "calendar_version": {"$lt": calendar_version},
        }
        return await self._ids(query)

    async def running(self, *, after_id: str | None, limit: int = SWEEP_BATCH) -> list[Document]:
        """Running clocks in id order (to re-arm timers after a restart)."""
        query: dict[str, Any] = {"state": ClockState.running.value}
        if after_id is not None:
            query["_id"] = {"$gt": after_id}
        fields = {"_id": 1, "due": 1, "due_soon_at": 1, "due_soon_sent": 1}
        return await self._c.find(query, fields).sort("_id", 1).limit(limit).to_list(None)

    async def due_between(self, start: datetime, end: datetime) -> list[Document]:
        """Clocks falling due in [start, end) (reports)."""
        fields = {"history": 0, "outbox": 0, "audit_outbox": 0, "applied_events": 0}
        query = {"due": {"$gte": start, "$lt": end}}
        return await self._c.find(query, fields).to_list(None)

    async def _ids(self, query: dict[str, Any]) -> list[str]:
        found = self._c.find(query, {"_id": 1}).limit(SWEEP_BATCH)
        return [str(doc["_id"]) async for doc in found]


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
        cursor: Cursor | None,
        limit: int,
    ) -> list[Document]:
        """Reminders, oldest first, by unit and answered-ness."""
        query: dict[str, Any] = {}
        if unit_id is not None:
            query["unit_id"] = unit_id
        if answered is not None:
            query["answered"] = answered
        return await _page(self._c, query=query, sort="issued_at", cursor=cursor, limit=limit)

    async def for_letter(self, letter_id: str, *, unit_id: str | None = None) -> list[Document]:
        """Every reminder of a letter, oldest first (a letter has a few: no paging)."""
        return await _for_letter(self._c, letter_id, unit_id=unit_id, sort="issued_at")

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
        self, *, year: int, unit_id: str | None, cursor: Cursor | None, limit: int
    ) -> list[Document]:
        """Items of a year, oldest first."""
        query: dict[str, Any] = {"year": year}
        if unit_id is not None:
            query["unit_id"] = unit_id
        return await _page(self._c, query=query, sort="recorded_at", cursor=cursor, limit=limit)

    async def for_year(self, year: int, *, unit_id: str | None = None) -> list[Document]:
        """Every item of a year that counts (scores, the annual report): none annulled."""
        query: dict[str, Any] = {"year": year, "annulled": None}
        if unit_id is not None:
            query["unit_id"] = unit_id
        return await self._c.find(query, {"outbox": 0, "audit_outbox": 0}).to_list(None)

    async def for_letter(self, letter_id: str, *, unit_id: str | None = None) -> list[Document]:
        """Every item of a letter, of any year, oldest first."""
        return await _for_letter(self._c, letter_id, unit_id=unit_id, sort="recorded_at")

    async def recorded_between(self, start: datetime, end: datetime) -> list[Document]:
        """Items recorded in [start, end) that count (reports): none annulled."""
        query = {"recorded_at": {"$gte": start, "$lt": end}, "annulled": None}
        return await self._c.find(query, {"outbox": 0, "audit_outbox": 0}).to_list(None)


class FactsRepository:
    """Per-letter facts for reports, kept from the events consumed (idempotent updates)."""

    def __init__(self, facts: Collection, units: Collection) -> None:
        self._facts = facts
        self._units = units
        self._named: set[tuple[str, str]] = set()

    async def update(
        self,
        letter_id: str,
        *,
        set_fields: dict[str, Any] | None = None,
        set_once: dict[str, Any] | None = None,
        add: dict[str, Any] | None = None,
        months: Sequence[str] = (),
        years: Sequence[int] = (),
    ) -> None:
        """Set fields and add elements to sets; applying the same update twice changes nothing."""
        update = _facts_update(set_fields, set_once, add, months, years)
        if update:
            await _upsert(self._facts, letter_id, update)

    async def update_and_get(
        self,
        letter_id: str,
        *,
        set_fields: dict[str, Any] | None = None,
        add: dict[str, Any] | None = None,
        months: Sequence[str] = (),
        years: Sequence[int] = (),
    ) -> Document:
        """`update`, and the letter's facts as they are after it (one command, not two)."""
        update = _facts_update(set_fields, None, add, months, years)
        if not update:
            return await self.get(letter_id) or {}
        return await _upsert(self._facts, letter_id, update, returning=True) or {}

    async def get(self, letter_id: str) -> Document | None:
        """The facts of one letter."""
        return await self._facts.find_one({"_id": letter_id})

    async def active_in_month(self, month: str) -> list[Document]:
        """Letters with anything happening in a month (YYYY-MM)."""
        return await self._facts.find({"active_months": month}).to_list(None)

    async def active_in_year(self, year: int) -> list[Document]:
        """Letters with anything happening in a year."""
        return await self._facts.find({"active_years": year}).to_list(None)

    async def name_unit(self, unit_id: str, name: str) -> None:
        """Remember a unit's name as events spell it."""
        # Every accepted and every approved letter names its unit (events may spell it
        # differently): a spelling this process stored already is not written again.
        if (unit_id, name) in self._named:
            return
        await _upsert(self._units, unit_id, {"$set": {"name": name}})
        self._named.add((unit_id, name))

    async def unit_names(self) -> dict[str, str]:
        """Every unit name seen."""
        return {str(d["_id"]): str(d["name"]) async for d in self._units.find({})}


async def _upsert(
    collection: Collection, doc_id: str, update: dict[str, Any], *, returning: bool = False
) -> Document | None:
    """Update or insert by id (and, `returning`, the document after it); two first writers
    racing do not fail the second."""

    async def once() -> Document | None:
        if returning:
            return await collection.find_one_and_update(
                {"_id": doc_id}, update, upsert=True, return_document=ReturnDocument.AFTER
            )
        await collection.update_one({"_id": doc_id}, update, upsert=True)
        return None

    try:
        return await once()
    except DuplicateKeyError:
        # The other writer inserted it a moment ago: now it is a plain update.
        return await once()


def _facts_update(
    set_fields: dict[str, Any] | None,
    set_once: dict[str, Any] | None,
    add: dict[str, Any] | None,
    months: Sequence[str],
    years: Sequence[int],
) -> dict[str, Any]:
    update: dict[str, Any] = {}
    if set_fields:
        update["$set"] = set_fields
    if set_once:
        update["$setOnInsert"] = set_once
    to_add: dict[str, Any] = {k: {"$each": list(v)} for k, v in (add or {}).items()}
    if months:
        to_add["active_months"] = {"$each": list(months)}
    if years:
        to_add["active_years"] = {"$each": list(years)}
    if to_add:
        update["$addToSet"] = to_add
    return update
