"""The classifier's rule set as data the office edits: stored, versioned, audited, cached.

The rule set in force is one aggregate document (`rules`, `_id` "current") whose `version` is
the rule set's own `version`: an edit names the version it was made on (409 when stale) and
is stored as the next one. Every version ever in force is kept in `rules_history`. The
letter consumer asks `current()` for every letter; it costs one small read while nothing
changed, so an edit applies to the next letter without a restart.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any

from pymongo.errors import DuplicateKeyError

from services.routing.classify.rules import RuleSet
from shared.aggregate import AggregateStore, Change
from shared.audit import Actor, AuditEntry
from shared.clock import Clock
from shared.errors import NotFound
from shared.mongo import Collection, Document

_RULE_FIELDS = [name for name in RuleSet.model_fields if name != "version"]


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


def _content(rules: RuleSet) -> dict[str, Any]:
    return rules.model_dump(mode="json", exclude={"version"})


def _rules(doc: Document) -> RuleSet:
    return RuleSet.model_validate(
        {"version": doc["version"], **{k: doc[k] for k in _RULE_FIELDS if k in doc}}
    )


class RulesStore(RulesRepository):
    """The stored rule set: current (cached by version), edits and history."""

    def __init__(self, store: AggregateStore, *, history: Collection, clock: Clock) -> None:
        super().__init__(store.collection)
        self._store = store
        self._c = store.collection
        self._history = history
        self._clock = clock
        self._cached: RuleSet | None = None

    async def seed(self, rules: RuleSet) -> bool:
        """Store `rules` (keeping its version) when none are stored; True if it did."""
        now = self._clock.now()
        doc = {
            "_id": self.CURRENT,
            **_content(rules),
            "version": rules.version,
            "created_at": now,
            "updated_at": now,
            "updated_by": None,
            "applied_events": [],
            "outbox": [],
            "audit_outbox": [],
            "has_outbox": False,
        }
        try:
            await self._c.insert_one(doc)
        except DuplicateKeyError:
            return False
        await self._remember(rules, saved_at=now, saved_by=None)
        return True

    async def current(self) -> RuleSet:
        """The rule set in force now (parsed again only when its version moved)."""
        head = await self._c.find_one({"_id": self.CURRENT}, {"version": 1})
        if head is None:
            raise LookupError("no rule set stored")
        if self._cached is None or self._cached.version != head["version"]:
            doc = await self._c.find_one({"_id": self.CURRENT})
            if doc is None:
                raise LookupError("no rule set stored")
            self._cached = _rules(doc)
        return self._cached

    async def stored(self) -> Document:
        """The current document (rules with who changed them last and when)."""
        doc = await self._c.find_one({"_id": self.CURRENT})
        if doc is None:
            raise NotFound("no rule set stored")
        return doc

    async def replace(self, rules: RuleSet, *, actor: Actor) -> RuleSet:
        """Store an edit made on `rules.version` as the next version; 409 when stale."""
        # The version being replaced goes to the history first: a crash after the edit
        # must not lose it, and its content never changes, so a repeat insert is harmless.
        now = self._clock.now()
        before = await self.stored()
        await self._remember(
            _rules(before),
            saved_at=before.get("updated_at") or now,
            saved_by=before.get("updated_by"),
        )
        new = _content(rules)

        def decide(doc: Document) -> Change:
            old = {k: doc.get(k) for k in _RULE_FIELDS}
            changed = {k: v for k, v in new.items() if old.get(k) != v}
            audit = AuditEntry(
                at=now,
                actor=actor,
                action="rules.updated",
                target_type="rules",
                target_id=f"v{doc['version'] + 1}",
                before={k: old.get(k) for k in changed} | {"version": doc["version"]},
                after=changed | {"version": doc["version"] + 1},
            )
            by = actor.model_dump(mode="json")
            return Change(set={**new, "updated_by": by}, audit=[audit])

        updated = await self._store.mutate(self.CURRENT, decide, expected_version=rules.version)
        stored = _rules(updated)
        await self._remember(stored, saved_at=now, saved_by=updated.get("updated_by"))
        return stored

    async def _remember(
        self, rules: RuleSet, *, saved_at: datetime, saved_by: dict[str, Any] | None
    ) -> None:
        with contextlib.suppress(DuplicateKeyError):
            await self._history.insert_one(
                {
                    "_id": rules.version,
                    "rules": rules.model_dump(mode="json"),
                    "saved_at": saved_at,
                    "saved_by": saved_by,
                }
            )

    async def history(self, *, before: int | None, limit: int) -> list[Document]:
        """Up to `limit + 1` stored versions, newest first, older than `before`."""
        query: dict[str, Any] = {} if before is None else {"_id": {"$lt": before}}
        projection = {"saved_at": 1, "saved_by": 1, "rules.note": 1}
        cursor = self._history.find(query, projection).sort("_id", -1).limit(limit + 1)
        return await cursor.to_list(None)

    async def version_of(self, version: int) -> Document:
        """One stored version, or 404."""
        doc = await self._history.find_one({"_id": version})
        if doc is None:
            raise NotFound(f"rules version {version} not stored")
        return doc
