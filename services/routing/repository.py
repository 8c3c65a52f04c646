"""The only code that touches the routing service's collections."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pymongo.errors import BulkWriteError, DuplicateKeyError

from services.routing.directory_data import Directory, ExternalRecipient, RecipientKind, Unit
from services.routing.rules import RuleSet
from services.routing.similarity import RecentLetter
from shared.aggregate import AggregateStore
from shared.audit import AuditEntry, AuditLog
from shared.mongo import Collection, Document, IndexSpec

# Lists are newest first; every filter has an index that ends with the sort key.
_SORT = [("received_at", -1), ("_id", -1)]
LETTER_INDEXES = [
    IndexSpec(keys=_SORT),
    IndexSpec(keys=[("state", 1), *_SORT]),
    IndexSpec(keys=[("nature", 1), *_SORT]),
    IndexSpec(keys=[("platform", 1), *_SORT]),
    IndexSpec(keys=[("units", 1), *_SORT]),
    IndexSpec(keys=[("units", 1), ("state", 1), *_SORT]),
    IndexSpec(keys=[("search_tokens", 1), *_SORT]),
    IndexSpec(keys=[("writer_keys", 1), ("received_at", -1)]),
    IndexSpec(keys=[("has_notices", 1)]),
]
# What repeat detection compares, kept apart from the letters: small documents, so a query
# that must scan (FerretDB v1 scans for anything but an `_id`) reads a fraction of the bytes.
REPEAT_CANDIDATE_INDEXES = [
    IndexSpec(keys=[("received_at", -1)]),
    IndexSpec(keys=[("writer_keys", 1), ("received_at", -1)]),
]
_BACKFILLED = "~backfilled"  # a marker without `received_at`: no window query matches it
DIRECTORY_INDEXES = [IndexSpec(keys=[("kind", 1), ("_id", 1)])]
INBOX_SORT = [("at", -1), ("_id", -1)]


@dataclass(frozen=True)
class LetterFilter:
    """What a list of letters is narrowed to (each value already validated)."""

    state: str | None = None
    nature: str | None = None
    unit_id: str | None = None
    platform: str | None = None
    received_from: datetime | None = None
    received_to: datetime | None = None
    transfer_status: str | None = None


class LetterRepository:
    """Letters (aggregates with outbox) and their audit trail."""

    def __init__(self, store: AggregateStore, *, audit: AuditLog) -> None:
        self.store = store
        self.audit = audit
        self._c = store.collection
        self.candidates: Collection = store.collection.database["repeat_candidates"]

    async def get(self, letter_id: str) -> Document | None:
        """The letter document, or None."""
        return await self.store.get(letter_id)

    async def exists(self, letter_id: str) -> bool:
        """Whether the letter is stored."""
        return await self._c.find_one({"_id": letter_id}, {"_id": 1}) is not None

    async def page(
        self, where: LetterFilter, *, after: tuple[datetime, str] | None, limit: int
    ) -> list[Document]:
        """Up to `limit + 1` letters after the cursor, newest first."""
        query: dict[str, Any] = {}
        if where.state is not None:
            query["state"] = where.state
        if where.nature is not None:
            query["nature"] = where.nature
        if where.platform is not None:
            query["platform"] = where.platform
        if where.unit_id is not None:
            query["units"] = where.unit_id
        if where.transfer_status is not None:
            query["transfer.status"] = where.transfer_status
        received: dict[str, datetime] = {}
        if where.received_from is not None:
            received["$gte"] = where.received_from
        if where.received_to is not None:
            received["$lt"] = where.received_to
        if received:
            query["received_at"] = received
        if after is not None:
            at, last_id = after
            query = {
                "$and": [
                    query,
                    {
                        "$or": [
                            {"received_at": {"$lt": at}},
                            {"received_at": at, "_id": {"$lt": last_id}},
                        ]
                    },
                ]
            }
        cursor = self._c.find(query, _LIST_PROJECTION).sort(_SORT).limit(limit + 1)
        return await cursor.to_list(None)

    async def recent(
        self,
        *,
        around: datetime,
        window: timedelta,
        writer_parts: list[str],
        exclude_id: str,
        limit: int,
    ) -> list[RecentLetter]:
        """Letters within `window` of `around`: the latest `limit`, plus every one by the writer."""
        span = {"$gte": around - window, "$lte": around + window}
        projection = {"text": 1, "writer_key": 1, "received_at": 1}
        candidates = self.candidates
        found: dict[str, Document] = {}
        # The writer's letters among the latest come with them; only a window holding more
        # than `limit` letters needs the second query (each query scans letters on FerretDB).
        everything = False
        if limit > 0:
            cursor = candidates.find({"received_at": span}, projection).sort("received_at", -1)
            latest = await cursor.limit(limit).to_list(None)
            everything = len(latest) < limit
            for doc in latest:
                found[str(doc["_id"])] = doc
        if writer_parts and not everything:
            cursor = candidates.find(
                {"writer_keys": {"$in": writer_parts}, "received_at": span}, projection
            )
            for doc in await cursor.limit(1000).to_list(None):
                found[str(doc["_id"])] = doc
        found.pop(exclude_id, None)
        return [
            RecentLetter(
                letter_id=key,
                writer_key=doc.get("writer_key") or "",
                text=doc.get("text") or "",
                received_at=doc["received_at"],
            )
            for key, doc in found.items()
        ]

    async def remember_candidate(self, doc: Document) -> None:
        """Keep what repeat detection compares of a letter about to be stored (once)."""
        with contextlib.suppress(DuplicateKeyError):
            await self.candidates.insert_one(_candidate(doc))

    async def backfill_candidates(self) -> int:
        """Letters stored before the candidates were kept apart: copied once; how many."""
        if await self.candidates.find_one({"_id": _BACKFILLED}, {"_id": 1}) is not None:
            return 0
        copied = 0
        fields = {"received_at": 1, "writer_key": 1, "writer_keys": 1, "text": 1}
        async for doc in self._c.find({}, fields):
            await self.remember_candidate(doc)
            copied += 1
        with contextlib.suppress(DuplicateKeyError):
            await self.candidates.insert_one({"_id": _BACKFILLED})
        return copied

    async def trail(self, letter_id: str, *, pending: list[dict[str, Any]]) -> list[AuditEntry]:
        """The letter's audit trail, with entries still on their way from the outbox."""
        stored = await self.audit.for_letter(letter_id, limit=5000)
        seen = {entry.id for entry in stored}
        for raw in pending:
            doc = dict(raw)
            entry_id = doc.pop("_id")
            if entry_id not in seen:
                stored.append(AuditEntry.model_validate({**doc, "id": entry_id}))
        return sorted(stored, key=lambda entry: entry.at)


def _candidate(doc: Document) -> Document:
    return {
        "_id": doc["_id"],
        "received_at": doc["received_at"],
        "writer_key": doc.get("writer_key") or "",
        "writer_keys": doc.get("writer_keys") or [],
        "text": doc.get("text") or "",
    }


# A list shows what a desk needs to pick a letter; the full document is one GET away.
_LIST_PROJECTION = {
    "state": 1,
    "version": 1,
    "platform": 1,
    "source": 1,
    "external_id": 1,
    "title": 1,
    "nature": 1,
    "received_at": 1,
    "submitted_at": 1,
    "lead_unit_id": 1,
    "units": 1,
    "major": 1,
    "locked": 1,
    "clocks": 1,
    "sensitivity": 1,
}


class DirectoryRepository:
    """Units (`units`) and external recipients with the city office (`recipients`)."""

    def __init__(self, units: Collection, recipients: Collection) -> None:
        self._units = units
        self._recipients = recipients

    async def seed(self, directory: Directory) -> bool:
        """Load `directory` when both collections are empty; True if it did."""
        if await self._units.find_one({}, {"_id": 1}) is not None:
            return False
        if await self._recipients.find_one({}, {"_id": 1}) is not None:
            return False
        try:
            await self._units.insert_many([_stored(unit) for unit in directory.units])
            await self._recipients.insert_many(
                [_stored(r) for r in [*directory.recipients, directory.city_office]]
            )
        except BulkWriteError:
            # Another replica seeded at the same moment: its copy is as good.
            return False
        return True

    async def unit(self, unit_id: str) -> Unit | None:
        """A commission unit, or None."""
        doc = await self._units.find_one({"_id": unit_id})
        return None if doc is None else Unit.model_validate(_entry(doc))

    async def units(self, unit_ids: list[str]) -> dict[str, Unit]:
        """The commission units among `unit_ids`, by id."""
        cursor = self._units.find({"_id": {"$in": unit_ids}})
        return {str(d["_id"]): Unit.model_validate(_entry(d)) async for d in cursor}

    async def recipient(self, recipient_id: str) -> ExternalRecipient | None:
        """An external recipient or the city office, or None."""
        doc = await self._recipients.find_one({"_id": recipient_id})
        return None if doc is None else ExternalRecipient.model_validate(_entry(doc))

    async def city_office(self) -> ExternalRecipient | None:
        """The city government's mailbox office (呈办)."""
        doc = await self._recipients.find_one({"kind": RecipientKind.city_mailbox_office.value})
        return None if doc is None else ExternalRecipient.model_validate(_entry(doc))

    async def directory(self) -> Directory:
        """The whole directory as the classifier reads it."""
        units = [Unit.model_validate(_entry(d)) async for d in self._units.find().sort("_id", 1)]
        others = [
            ExternalRecipient.model_validate(_entry(d))
            async for d in self._recipients.find().sort("_id", 1)
        ]
        city = [r for r in others if r.kind is RecipientKind.city_mailbox_office]
        return Directory(
            sample=any(u.sample for u in units),
            units=units,
            recipients=[r for r in others if r.kind is not RecipientKind.city_mailbox_office],
            city_office=city[0],
        )


def _stored(entry: Unit | ExternalRecipient) -> Document:
    doc = entry.model_dump(mode="python")
    doc["_id"] = doc.pop("id")
    return doc


def _entry(doc: Document) -> Document:
    out = {k: v for k, v in doc.items() if k not in ("_id", "version", "updated_at")}
    out["id"] = doc["_id"]
    return out


class RulesRepository:
    """The classifier's rule set, one document the office edits (`rules`, `_id` current)."""

    CURRENT = "current"

    def __init__(self, rules: Collection) -> None:
        self._rules = rules

    async def seed(self, rules: RuleSet) -> bool:
        """Store `rules` when none are stored; True if it did."""
        if await self._rules.find_one({"_id": self.CURRENT}, {"_id": 1}) is not None:
            return False
        try:
            await self._rules.insert_one({"_id": self.CURRENT, **rules.model_dump(mode="json")})
        except DuplicateKeyError:
            return False
        return True

    async def current(self) -> RuleSet:
        """The rule set in force now (an edit applies to the next letter)."""
        doc = await self._rules.find_one({"_id": self.CURRENT})
        if doc is None:
            raise LookupError("no rule set stored")
        doc.pop("_id")
        return RuleSet.model_validate(doc)


class InboxRepository:
    """Reads a unit's inbox, newest first."""

    def __init__(self, inbox: Collection) -> None:
        self._inbox = inbox

    async def page(
        self, unit_id: str, *, after: tuple[datetime, str] | None, limit: int
    ) -> list[Document]:
        """Up to `limit + 1` notices of a unit after the cursor."""
        query: dict[str, Any] = {"unit_id": unit_id}
        if after is not None:
            at, last_id = after
            query = {
                "$and": [
                    query,
                    {"$or": [{"at": {"$lt": at}}, {"at": at, "_id": {"$lt": last_id}}]},
                ]
            }
        return await self._inbox.find(query).sort(INBOX_SORT).limit(limit + 1).to_list(None)
