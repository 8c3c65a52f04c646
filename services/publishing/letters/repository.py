"""The only code that touches the `letters` collection: publishing's copies of letters."""

from __future__ import annotations

from collections.abc import Sequence

from shared.aggregate import AggregateStore, Decide
from shared.audit import AuditEntry
from shared.mongo import Document, IndexSpec

LETTER_INDEXES = [IndexSpec(keys=[("known", 1), ("received_at", -1), ("_id", -1)])]


class LetterRepository:
    """Publishing's copies of letters (aggregates)."""

    def __init__(self, store: AggregateStore) -> None:
        self.store = store

    async def get(self, letter_id: str) -> Document | None:
        """One letter's copy, or None."""
        return await self.store.get(letter_id)

    async def create(
        self, doc: Document, *, audit: Sequence[AuditEntry] = (), event_id: str | None = None
    ) -> bool:
        """Insert a copy; False if one exists (a redelivery, or a stub made earlier)."""
        return await self.store.create(doc, audit=audit, applied_event_id=event_id)

    async def mutate(
        self, letter_id: str, decide: Decide, *, event_id: str | None = None
    ) -> Document:
        """Change one copy (applied once per event id)."""
        return await self.store.mutate(letter_id, decide, event_id=event_id)
