"""The only code that touches the clocks collection."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from services.deadlines.clocks.models import (
    acceptance_clock_id,
    answer_clock_id,
    handling_clock_id,
    upload_clock_id,
)
from shared.aggregate import AggregateStore, Decide
from shared.audit import AuditEntry
from shared.events import Event
from shared.events.vocabulary import ClockState
from shared.mongo import Document, IndexSpec
from shared.paging import find_page

CLOCK_INDEXES = [
    IndexSpec(keys=[("letter_id", 1), ("_id", 1)]),
    IndexSpec(keys=[("unit_id", 1), ("state", 1), ("due", 1), ("_id", 1)]),
    IndexSpec(keys=[("state", 1), ("closed_at", 1), ("due", 1), ("_id", 1)]),
    IndexSpec(keys=[("state", 1), ("due_soon_sent", 1), ("due_soon_at", 1)]),
    IndexSpec(keys=[("state", 1), ("calendar_version", 1)]),
    IndexSpec(keys=[("follow_up", 1)]),
    IndexSpec(keys=[("due", 1)]),
]


# Sweeps take work in slices, so one sweep never holds thousands of documents.
SWEEP_BATCH = 500


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
        self,
        letter_id: str,
        *,
        submissions: Sequence[str],
        cursor: tuple[Any, str] | None,
        limit: int,
    ) -> list[Document]:
        """A letter's clocks in id order, one more than `limit` (`of_letter`)."""
        clocks = await self.of_letter(letter_id, submissions=submissions)
        after = cursor[1] if cursor is not None else None
        return [c for c in clocks if after is None or str(c["_id"]) > after][: limit + 1]

    async def of_letter(
        self,
        letter_id: str,
        *,
        submissions: Sequence[str],
        fields: dict[str, int] | None = None,
    ) -> list[Document]:
        """Every clock of a letter, in id order, each read by its id.

        A clock's id says what opened it (`models`): the letter's acceptance and handling
        clocks, an upload clock per submitted reply revision (`submissions`, from the
        letter's facts: `reply_id:revision`), and an answer clock per reminder that a clock
        of the letter raised (its `reminders`). No query by `letter_id`, which scans the
        collection on FerretDB. `fields`: a projection (the reminders are always read).
        """
        projection = None if fields is None else {**fields, "reminders": 1}
        wanted = [acceptance_clock_id(letter_id), handling_clock_id(letter_id)]
        for submission in submissions:
            reply_id, _, revision = str(submission).rpartition(":")
            if revision.isdigit():
                wanted.append(upload_clock_id(letter_id, reply_id=reply_id, revision=int(revision)))
        found: dict[str, Document] = {}
        while wanted:
            clock_id = wanted.pop(0)
            if clock_id in found:
                continue
            doc = await self._c.find_one({"_id": clock_id}, projection)
            if doc is None:
                continue
            found[clock_id] = doc
            wanted += [answer_clock_id(r) for r in doc.get("reminders") or []]
        return [found[k] for k in sorted(found)]

    async def page_for_unit(
        self, unit_id: str, *, states: Sequence[str], cursor: tuple[Any, str] | None, limit: int
    ) -> list[Document]:
        """A unit's clocks in the given states, soonest due first."""
        query = {"unit_id": unit_id, "state": {"$in": list(states)}}
        return await find_page(self._c, query=query, sort="due", cursor=cursor, limit=limit)

    async def page_overdue(
        self, *, unit_id: str | None, cursor: tuple[Any, str] | None, limit: int
    ) -> list[Document]:
        """Open overdue clocks, oldest due first."""
        query: dict[str, Any] = {"state": ClockState.overdue.value, "closed_at": None}
        if unit_id is not None:
            query["unit_id"] = unit_id
        return await find_page(self._c, query=query, sort="due", cursor=cursor, limit=limit)

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
        fields = {"history": 0, "outbox": 0, "audit_outbox": 0, "applied_events": 0, "audit_ids": 0}
        query = {"due": {"$gte": start, "$lt": end}}
        return await self._c.find(query, fields).to_list(None)

    async def _ids(self, query: dict[str, Any]) -> list[str]:
        found = self._c.find(query, {"_id": 1}).limit(SWEEP_BATCH)
        return [str(doc["_id"]) async for doc in found]
