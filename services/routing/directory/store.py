"""The directory as an admin edits it: units and recipients, versioned, deactivated not deleted.

Entries live in `units` (the commission's 处室 and 委属单位) and `recipients` (municipal
departments, district/county governments and the city mailbox office) as aggregates: every
change is one conditional write with its audit entry. A counter in `directory_meta` rises with
every change, so each process rebuilds the classifier's `Directory` only when it moved.

A deactivated entry keeps its document: old letters still name it, but it receives no new
letters (the slip's checks and the classifier see active entries only).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import BulkWriteError

from services.routing.directory.models import Directory, ExternalRecipient, RecipientKind, Unit
from shared.aggregate import BOOKKEEPING_FIELDS, AggregateStore, Change
from shared.audit import Actor, AuditEntry
from shared.clock import Clock
from shared.errors import Conflict, NotFound
from shared.mongo import Collection, Document, IndexSpec

ENTRY_INDEXES = [
    IndexSpec(keys=[("kind", 1), ("_id", 1)]),
    IndexSpec(keys=[("active", 1), ("_id", 1)]),
]
META_ID = "directory"


DIRECTORY_INDEXES = [IndexSpec(keys=[("kind", 1), ("_id", 1)])]


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


# Fields a stored entry carries besides the model's own.
_STORE_FIELDS = BOOKKEEPING_FIELDS | {"_id", "active", "deactivated_at"}


class Section(StrEnum):
    """Which half of the directory: the commission's units or the outside recipients."""

    units = "units"
    recipients = "recipients"


Entry = Unit | ExternalRecipient
StoreFactory = Callable[[str], AggregateStore]


def entry_fields(doc: Document) -> Document:
    """The model's fields of a stored entry (`id` restored)."""
    out = {k: v for k, v in doc.items() if k not in _STORE_FIELDS}
    out["id"] = doc["_id"]
    return out


def model_of(section: Section, doc: Document) -> Entry:
    """A stored entry as its model."""
    if section is Section.units:
        return Unit.model_validate(entry_fields(doc))
    return ExternalRecipient.model_validate(entry_fields(doc))


def content(entry: Entry) -> Document:
    """An entry's stored fields (its id is the document's `_id`)."""
    doc = entry.model_dump(mode="json")
    doc.pop("id")
    return doc


@dataclass(frozen=True)
class _Snapshot:
    version: int
    directory: Directory
    names: dict[str, str]


class DirectoryStore(DirectoryRepository):
    """Reads (for letters and the classifier, cached) and versioned edits (for the admin)."""

    def __init__(self, *, stores: StoreFactory, meta: Collection, clock: Clock) -> None:
        self._stores = {section: stores(section.value) for section in Section}
        super().__init__(
            self._stores[Section.units].collection, self._stores[Section.recipients].collection
        )
        self._meta = meta
        self._clock = clock
        self._snapshot: _Snapshot | None = None

    def _c(self, section: Section) -> Collection:
        return self._stores[section].collection

    # ---- seeding ---------------------------------------------------------------------

    async def seed(self, directory: Directory) -> bool:
        """Load `directory` when both collections are empty; True if it did."""
        for section in Section:
            # Entries written by an older seed lack the admin fields: give them theirs.
            await self._c(section).update_many(
                {"version": {"$exists": False}},
                {"$set": {"version": 1, "active": True, "has_outbox": False}},
            )
            if await self._c(section).find_one({}, {"_id": 1}) is not None:
                return False
        now = self._clock.now()
        try:
            await self._c(Section.units).insert_many([_new(u, now) for u in directory.units])
            others = [*directory.recipients, directory.city_office]
            await self._c(Section.recipients).insert_many([_new(r, now) for r in others])
        except BulkWriteError:
            # Another replica seeded at the same moment: its copy is as good.
            return False
        await self._bump()
        return True

    # ---- reads for letters and the classifier ------------------------------------------

    async def unit(self, unit_id: str) -> Unit | None:
        """A commission unit, active or not (old letters keep naming it), or None."""
        doc = await self._c(Section.units).find_one({"_id": unit_id})
        return None if doc is None else Unit.model_validate(entry_fields(doc))

    async def units(self, unit_ids: list[str]) -> dict[str, Unit]:
        """The active commission units among `unit_ids`, by id (new work goes only to them)."""
        cursor = self._c(Section.units).find({"_id": {"$in": unit_ids}, "active": True})
        return {str(d["_id"]): Unit.model_validate(entry_fields(d)) async for d in cursor}

    async def recipient(self, recipient_id: str) -> ExternalRecipient | None:
        """An active external recipient or the city office, or None."""
        doc = await self._c(Section.recipients).find_one({"_id": recipient_id, "active": True})
        return None if doc is None else ExternalRecipient.model_validate(entry_fields(doc))

    async def city_office(self) -> ExternalRecipient | None:
        """The active city government mailbox office (呈办)."""
        query = {"kind": RecipientKind.city_mailbox_office.value, "active": True}
        doc = await self._c(Section.recipients).find_one(query)
        return None if doc is None else ExternalRecipient.model_validate(entry_fields(doc))

    async def directory(self) -> Directory:
        """The active directory as the classifier reads it (rebuilt only after a change)."""
        return (await self._current()).directory

    async def names(self) -> dict[str, str]:
        """Every entry's name by id, deactivated ones included (for lists of old letters)."""
        return (await self._current()).names

    async def version(self) -> int:
        """The directory's change counter."""
        doc = await self._meta.find_one({"_id": META_ID})
        return int(doc["version"]) if doc else 0

    async def _current(self) -> _Snapshot:
        version = await self.version()
        if self._snapshot is None or self._snapshot.version != version:
            self._snapshot = await self._build(version)
        return self._snapshot

    async def _build(self, version: int) -> _Snapshot:
        units: list[Unit] = []
        recipients: list[ExternalRecipient] = []
        names: dict[str, str] = {}
        sample = False
        async for doc in self._c(Section.units).find().sort("_id", 1):
            unit = Unit.model_validate(entry_fields(doc))
            names[unit.id] = unit.name
            sample = sample or unit.sample
            if doc.get("active", True):
                units.append(unit)
        async for doc in self._c(Section.recipients).find().sort("_id", 1):
            recipient = ExternalRecipient.model_validate(entry_fields(doc))
            names[recipient.id] = recipient.name
            if doc.get("active", True):
                recipients.append(recipient)
        city = [r for r in recipients if r.kind is RecipientKind.city_mailbox_office]
        directory = Directory(
            sample=sample,
            version=max(version, 1),
            units=units,
            recipients=[r for r in recipients if r.kind is not RecipientKind.city_mailbox_office],
            city_office=city[0],
        )
        return _Snapshot(version=version, directory=directory, names=names)

    async def _bump(self) -> None:
        await self._meta.find_one_and_update(
            {"_id": META_ID},
            {"$inc": {"version": 1}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )

    # ---- the admin's reads -----------------------------------------------------------

    async def page(
        self,
        section: Section,
        *,
        active: bool | None,
        kind: str | None,
        after: str | None,
        limit: int,
    ) -> list[Document]:
        """Up to `limit + 1` entries after the cursor id, by id."""
        query: dict[str, Any] = {}
        if active is not None:
            query["active"] = active
        if kind is not None:
            query["kind"] = kind
        if after is not None:
            query["_id"] = {"$gt": after}
        cursor = self._c(section).find(query).sort("_id", 1).limit(limit + 1)
        return await cursor.to_list(None)

    async def get(self, section: Section, entry_id: str) -> Document:
        """One stored entry, or 404."""
        doc = await self._c(section).find_one({"_id": entry_id})
        if doc is None:
            raise NotFound(f"{section.value[:-1]} {entry_id} not found")
        return doc

    # ---- the admin's changes ---------------------------------------------------------

    async def create(self, section: Section, entry: Entry, *, actor: Actor) -> Document:
        """Add an entry; 409 if its id is taken in either section."""
        other = Section.recipients if section is Section.units else Section.units
        if await self._c(other).find_one({"_id": entry.id}, {"_id": 1}) is not None:
            raise Conflict(f"{entry.id} is already a {other.value[:-1]}")
        await self._check_city_office(entry, replacing=None)
        now = self._clock.now()
        doc = {"_id": entry.id, **content(entry), "active": True}
        audit = audit_entry(
            actor, now, "directory.created", section, entry.id, after=content(entry)
        )
        if not await self._stores[section].create(doc, audit=[audit]):
            raise Conflict(f"{section.value[:-1]} {entry.id} exists already")
        await self._bump()
        return await self.get(section, entry.id)

    async def update(
        self, section: Section, entry: Entry, *, version: int, actor: Actor
    ) -> Document:
        """Replace an entry's fields (409 if `version` is stale); reactivates nothing."""
        current = await self.get(section, entry.id)
        await self._check_city_office(entry, replacing=current)
        now = self._clock.now()
        new = content(entry)

        def decide(doc: Document) -> Change:
            old = content(model_of(section, doc))
            changed = {k: v for k, v in new.items() if old.get(k) != v}
            unset = [k for k in old if k not in new]
            before = {k: old.get(k) for k in [*changed, *unset]}
            audit = audit_entry(
                actor, now, "directory.updated", section, entry.id, before=before, after=changed
            )
            return Change(set=changed, unset=unset, audit=[audit])

        updated = await self._stores[section].mutate(entry.id, decide, expected_version=version)
        await self._bump()
        return updated

    async def set_active(
        self,
        section: Section,
        entry_id: str,
        *,
        active: bool,
        version: int,
        actor: Actor,
        protected: frozenset[str] = frozenset(),
    ) -> Document:
        """Deactivate (or reactivate) an entry; the directory keeps what the classifier needs."""
        current = await self.get(section, entry_id)
        if not active:
            await self._check_deactivation(section, current, protected=protected)
        elif current.get("kind") == RecipientKind.city_mailbox_office.value:
            existing = await self.city_office()
            if existing is not None and existing.id != entry_id:
                raise Conflict(f"{existing.id} is the active city mailbox office")
        now = self._clock.now()
        action = "directory.reactivated" if active else "directory.deactivated"

        def decide(doc: Document) -> Change:
            was = bool(doc.get("active", True))
            audit = audit_entry(
                actor,
                now,
                action,
                section,
                entry_id,
                before={"active": was},
                after={"active": active},
            )
            fields: dict[str, Any] = {"active": active, "deactivated_at": None if active else now}
            return Change(set=fields, audit=[audit])

        updated = await self._stores[section].mutate(entry_id, decide, expected_version=version)
        await self._bump()
        return updated

    async def _check_deactivation(
        self, section: Section, doc: Document, *, protected: frozenset[str]
    ) -> None:
        entry_id = str(doc["_id"])
        if entry_id in protected:
            raise Conflict(
                f"{entry_id} is the classifier's default unit; change the rules first",
                details={"field": "competence.default_unit_id"},
            )
        if section is Section.units:
            others = {"active": True, "_id": {"$ne": entry_id}}
            if await self._c(section).find_one(others, {"_id": 1}) is None:
                raise Conflict("the directory needs at least one active unit")
        elif doc.get("kind") == RecipientKind.city_mailbox_office.value:
            raise Conflict("the city mailbox office cannot be deactivated: name another one first")

    async def _check_city_office(self, entry: Entry, *, replacing: Document | None) -> None:
        """Exactly one active city mailbox office: 409 for a second, or for changing its kind."""
        was_city = (
            replacing is not None
            and replacing.get("kind") == RecipientKind.city_mailbox_office.value
        )
        is_city = entry.kind is RecipientKind.city_mailbox_office
        if was_city and not is_city and replacing is not None and replacing.get("active", True):
            raise Conflict("the city mailbox office keeps its kind; name another one first")
        if is_city and not was_city:
            existing = await self.city_office()
            if existing is not None and existing.id != entry.id:
                raise Conflict(
                    f"{existing.id} is the city mailbox office; deactivate it by importing a"
                    " directory that names the new one"
                )

    # ---- for the import ----------------------------------------------------------------

    async def entries_of(self, section: Section) -> dict[str, Document]:
        """Every stored entry of a section, by id."""
        return {str(doc["_id"]): doc async for doc in self._c(section).find()}

    def aggregate(self, section: Section) -> AggregateStore:
        """The aggregate store of a section (one write per change, with its audit entry)."""
        return self._stores[section]

    async def bump(self) -> None:
        """Tell every process the directory changed."""
        await self._bump()


def _new(entry: Entry, now: datetime) -> Document:
    """A seeded entry with the fields an aggregate carries."""
    return {
        "_id": entry.id,
        **content(entry),
        "active": True,
        "version": 1,
        "created_at": now,
        "updated_at": now,
        "applied_events": [],
        "outbox": [],
        "audit_outbox": [],
        "has_outbox": False,
    }


def audit_entry(
    actor: Actor,
    now: datetime,
    action: str,
    section: Section,
    entry_id: str,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    note: str | None = None,
) -> AuditEntry:
    """The audit entry of a directory change."""
    return AuditEntry(
        at=now,
        actor=actor,
        action=action,
        target_type=section.value[:-1],
        target_id=entry_id,
        before=before,
        after=after,
        note=note,
    )
