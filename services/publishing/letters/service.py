"""Publishing's own copy of each letter, and the decisions that limit its publication.

Kept here, not asked of routing, so that the lock (Art. 23) and the not-public mark
(Art. 22) are checked independently of the service that made them. An event that
comes before the letter's `letter.received` (a lock, a closed clock) makes a stub
the letter later fills; one that needs the letter raises `LetterNotYetKnown`, and
the bus delivers it again later.

Also the conventions every write of publishing follows, whichever domain makes it: the
service's name as producer and system actor, audit entries about a letter, stored
sub-documents, and events whose id follows from the fact they announce.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from services.publishing.letters.models import LetterCopy, LockInfo, SensitivityInfo
from services.publishing.letters.repository import LetterRepository
from shared.aggregate import Change
from shared.audit import Actor, AuditEntry, system_actor
from shared.auth import Principal
from shared.clock import Clock
from shared.errors import NotFound
from shared.events import Event, make_event
from shared.events.catalog import EventData, LetterReceived
from shared.mongo import Document

SERVICE = "publishing"
SYSTEM = system_actor(SERVICE)


class LetterNotYetKnown(RuntimeError):
    """An event needs the letter, whose `letter.received` has not arrived: retry later."""


def actor_of(principal: Principal) -> Actor:
    """A person (or service) as the audit trail names them."""
    return Actor(
        user_id=principal.user_id,
        name=principal.name,
        role=principal.role.value,
        unit_id=principal.unit_id,
    )


def stub(letter_id: str) -> Document:
    """A copy made by an event that came before `letter.received` (a lock, a closed clock)."""
    return {
        "_id": letter_id,
        "known": False,
        "sensitivity": None,
        "lock": None,
        "replies": [],
        "notices": [],
        "closed_clocks": [],
        "archive": None,
    }


def audit_entry(
    clock: Clock,
    action: str,
    *,
    letter_id: str,
    target_type: str = "letter",
    target_id: str | None = None,
    actor: Actor = SYSTEM,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    note: str | None = None,
) -> AuditEntry:
    """An audit entry about a letter (or one of its uploads), stamped now."""
    return AuditEntry(
        at=clock.now(),
        actor=actor,
        action=action,
        target_type=target_type,
        target_id=target_id or letter_id,
        letter_id=letter_id,
        before=before,
        after=after,
        note=note,
    )


class LetterCopies:
    """Applies letter events to publishing's copies."""

    def __init__(self, letters: LetterRepository, *, clock: Clock) -> None:
        self.letters = letters
        self.clock = clock

    def _audit(self, action: str, **fields: Any) -> AuditEntry:
        return audit_entry(self.clock, action, **fields)

    async def letter(self, letter_id: str) -> LetterCopy:
        """A known letter's copy; NotFound before its `letter.received`."""
        doc = await self.letters.get(letter_id)
        if doc is None or not doc.get("known"):
            raise NotFound(f"letter {letter_id} not found")
        return LetterCopy.of(doc)

    async def record_letter(self, event: Event, data: LetterReceived) -> None:
        """Keep this service's copy of what it needs of a new letter."""
        letter_id = letter_id_of(event)
        fields = {
            "known": True,
            "platform": data.platform,
            "external_id": data.external_id,
            "source": data.source,
            "title": data.title,
            "text": data.text,
            "person": dump(data.person),
            "submitted_at": data.submitted_at,
            "received_at": data.received_at,
            "taken_by": data.taken_by,
        }
        audit = self._audit("letter_copied", letter_id=letter_id, after={"platform": data.platform})
        if await self.letters.create(
            {**stub(letter_id), **fields}, audit=[audit], event_id=event.id
        ):
            return

        def fill(doc: Document) -> Change | None:
            return None if doc.get("known") else Change(set=fields, audit=[audit])

        await self.letters.mutate(letter_id, fill, event_id=event.id)

    async def _ensure(self, letter_id: str) -> None:
        # Nearly always the copy is there: a read by id costs less than a refused insert.
        if await self.letters.get(letter_id) is None:
            await self.letters.create(stub(letter_id))

    async def record_lock(self, event: Event, lock: LockInfo) -> None:
        """Art. 23: remember the lock; this letter is never published online from now on."""
        letter_id = letter_id_of(event)
        await self._ensure(letter_id)

        def decide(doc: Document) -> Change:
            return Change(
                set={"lock": dump(lock)},
                audit=[
                    self._audit(
                        "lock_recorded",
                        letter_id=letter_id,
                        before={"lock": _plain(doc.get("lock"))},
                        after={"lock": lock.model_dump(mode="json")},
                    )
                ],
            )

        await self.letters.mutate(letter_id, decide, event_id=event.id)

    async def record_sensitivity(self, event: Event, mark: SensitivityInfo) -> None:
        """Art. 22: remember the mark; the answer stays not public."""
        letter_id = letter_id_of(event)
        await self._ensure(letter_id)

        def decide(doc: Document) -> Change:
            return Change(
                set={"sensitivity": dump(mark)},
                audit=[
                    self._audit(
                        "sensitivity_recorded",
                        letter_id=letter_id,
                        before={"sensitivity": _plain(doc.get("sensitivity"))},
                        after={"sensitivity": mark.model_dump(mode="json")},
                    )
                ],
            )

        await self.letters.mutate(letter_id, decide, event_id=event.id)

    async def record_clock_closed(self, event: Event, clock_id: str) -> None:
        """Track the letter's closed clocks (the archiver asks deadlines before archiving)."""
        letter_id = letter_id_of(event)
        await self._ensure(letter_id)

        def decide(doc: Document) -> Change | None:
            if clock_id in (doc.get("closed_clocks") or []):
                return None
            return Change(push={"closed_clocks": [clock_id]})

        await self.letters.mutate(letter_id, decide, event_id=event.id)

    async def known(self, letter_id: str, event: Event) -> LetterCopy:
        """The letter an event needs; LetterNotYetKnown (the bus retries) before it came."""
        doc = await self.letters.get(letter_id)
        if doc is None or not doc.get("known"):
            raise LetterNotYetKnown(
                f"{event.type} for letter {letter_id} came before letter.received"
            )
        return LetterCopy.of(doc)


def letter_id_of(event: Event) -> str:
    """The letter an event is about (every event publishing consumes names one)."""
    if not event.letter_id:
        raise ValueError(f"{event.type} {event.id} names no letter")
    return event.letter_id


def _plain(value: Any) -> Any:
    """A stored sub-document as JSON-friendly data for an audit entry."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def dump(model: BaseModel) -> dict[str, Any]:
    """A model as a stored sub-document (datetimes stay datetimes)."""
    return model.model_dump(mode="python")


def once_event(data: EventData, *, key: str, occurred_at: datetime, letter_id: str) -> Event:
    """An event whose id follows from the fact it announces (`key`).

    Two instances that both record the same fact (on FerretDB v1 a conditional update
    does not stop the second) then emit the same event, which consumers apply once.
    """
    event = make_event(data, producer=SERVICE, occurred_at=occurred_at, letter_id=letter_id)
    digest = hashlib.sha256(f"{data.event_type}|{key}".encode()).hexdigest()[:40]
    return event.model_copy(update={"id": f"evt_{digest}"})
