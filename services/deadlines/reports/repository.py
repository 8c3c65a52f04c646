"""The only code that touches the letter facts and unit names the reports read."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from shared.mongo import Collection, Document, IndexSpec

FACTS_INDEXES = [
    IndexSpec(keys=[("received_at", 1)]),
    IndexSpec(keys=[("active_months", 1)]),
    IndexSpec(keys=[("active_years", 1)]),
]


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
