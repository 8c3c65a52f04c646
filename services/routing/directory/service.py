"""Loading a directory file into the stored directory: validate, upsert, report counts.

Every entry of the file is created, or updated and reactivated when it differs; entries the
file does not list stay as they are unless the admin asks to deactivate them. The file's
city mailbox office replaces any other one. Each change is one write with its audit entry.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.routing.directory.models import Directory, RecipientKind
from services.routing.directory.store import (
    DirectoryStore,
    Entry,
    Section,
    audit_entry,
    content,
    model_of,
)
from shared.aggregate import Change
from shared.audit import Actor
from shared.errors import Conflict, Invalid
from shared.mongo import Document


@dataclass
class SectionReport:
    """What an import did to one section."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deactivated: int = 0


async def import_directory(
    store: DirectoryStore,
    directory: Directory,
    *,
    actor: Actor,
    now: datetime,
    deactivate_missing: bool,
    protected: frozenset[str] = frozenset(),
) -> dict[Section, SectionReport]:
    """Upsert every entry of a directory file (and optionally deactivate the rest)."""
    wanted: dict[Section, Sequence[Entry]] = {
        Section.units: directory.units,
        Section.recipients: [*directory.recipients, directory.city_office],
    }
    stored = {section: await store.entries_of(section) for section in Section}
    for section, entries in wanted.items():
        other = Section.recipients if section is Section.units else Section.units
        for index, entry in enumerate(entries):
            if entry.id in stored[other]:
                where = "units" if section is Section.units else "recipients"
                reason = f"{entry.id} is stored as a {other.value[:-1]}"
                raise Invalid(
                    reason,
                    details={
                        "errors": [{"field": f"{where}.{index}.id", "in": "body", "reason": reason}]
                    },
                )
    wanted_ids = {section: {e.id for e in wanted[section]} for section in Section}
    old_cities = [
        str(doc["_id"])
        for doc in stored[Section.recipients].values()
        if doc.get("kind") == RecipientKind.city_mailbox_office.value
        and doc.get("active", True)
        and doc["_id"] != directory.city_office.id
    ]
    missing = {
        section: [
            entry_id
            for entry_id, doc in stored[section].items()
            if doc.get("active", True)
            and entry_id not in wanted_ids[section]
            and entry_id not in old_cities
        ]
        for section in Section
    }
    if deactivate_missing:
        for entry_id in missing[Section.units]:
            if entry_id in protected:
                raise Conflict(
                    f"{entry_id} is the classifier's default unit and is not in the file",
                    details={"field": "competence.default_unit_id"},
                )
    report = {section: SectionReport() for section in Section}
    try:
        # The old city office steps aside first, so the new one never has a rival.
        for entry_id in old_cities:
            await _deactivate(store, Section.recipients, entry_id, actor=actor, now=now)
            report[Section.recipients].deactivated += 1
        for section, entries in wanted.items():
            for entry in entries:
                outcome = await _upsert(store, section, entry, stored[section], actor, now)
                setattr(report[section], outcome, getattr(report[section], outcome) + 1)
        if deactivate_missing:
            for section in Section:
                for entry_id in missing[section]:
                    await _deactivate(store, section, entry_id, actor=actor, now=now)
                    report[section].deactivated += 1
    finally:
        await store.bump()
    return report


async def _upsert(
    store: DirectoryStore,
    section: Section,
    entry: Entry,
    stored: dict[str, Document],
    actor: Actor,
    now: datetime,
) -> str:
    aggregate = store.aggregate(section)
    current = stored.get(entry.id)
    new = content(entry)
    if current is None:
        audit = audit_entry(actor, now, "directory.imported", section, entry.id, after=new)
        if await aggregate.create({"_id": entry.id, **new, "active": True}, audit=[audit]):
            return "created"
        current = await store.get(section, entry.id)

    def decide(doc: Document) -> Change | None:
        old = content(model_of(section, doc))
        changed: dict[str, Any] = {k: v for k, v in new.items() if old.get(k) != v}
        unset = [k for k in old if k not in new]
        if not doc.get("active", True):
            changed.update(active=True, deactivated_at=None)
        if not changed and not unset:
            return None
        before = {k: old.get(k, doc.get(k)) for k in [*changed, *unset]}
        audit = audit_entry(
            actor, now, "directory.imported", section, entry.id, before=before, after=changed
        )
        return Change(set=changed, unset=unset, audit=[audit])

    version = int(current.get("version", 1))
    updated = await aggregate.mutate(entry.id, decide)
    return "unchanged" if int(updated.get("version", 1)) == version else "updated"


async def _deactivate(
    store: DirectoryStore, section: Section, entry_id: str, *, actor: Actor, now: datetime
) -> None:
    def decide(current: Document) -> Change | None:
        if not current.get("active", True):
            return None
        audit = audit_entry(
            actor,
            now,
            "directory.deactivated",
            section,
            entry_id,
            before={"active": True},
            after={"active": False},
            note="not in the imported directory",
        )
        return Change(set={"active": False, "deactivated_at": now}, audit=[audit])

    await store.aggregate(section).mutate(entry_id, decide)
