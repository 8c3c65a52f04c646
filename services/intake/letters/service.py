"""Registering letters: a page polled from a platform, one entered by hand (and, through
`quarantine.reprocess`, a fixed quarantine item).

Every path applies the same rules (`LetterContent`), registers a letter at most
once per (platform, external id) through the unique index, and writes the letter
with its `letter.received` event and audit entry in one insert. A record that fails
the rules goes to quarantine with the reason and its raw bytes (`QuarantineService`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from pydantic import ValidationError

from services.intake.letters.models import (
    MANUAL_PLATFORM,
    SERVICE,
    LetterContent,
    NewLetter,
    Outgoing,
    content_from_platform,
    validation_reason,
)
from services.intake.letters.repository import LetterRepository, aggregate_document
from services.intake.quarantine.service import QuarantineService
from shared.audit import Actor, system_actor
from shared.auth import Principal
from shared.clock import Clock
from shared.errors import Conflict, Invalid, NotFound
from shared.events.vocabulary import LetterSource
from shared.ids import new_id
from shared.mongo import Document
from shared.platforms import MalformedRecord, PlatformLetter, PollPage
from shared.platforms.records import record_bytes

# A hand-registered letter may be entered a little ahead of the server's clock, not more.
MAX_CLOCK_SKEW = timedelta(minutes=5)


@dataclass
class PageOutcome:
    """What registering one page did."""

    fetched: int = 0
    registered: int = 0
    duplicates: int = 0
    quarantined: int = 0
    quarantine_duplicates: int = 0
    newest_submitted_at: datetime | None = None
    letter_ids: list[str] = field(default_factory=list)

    @property
    def anything_new(self) -> bool:
        """Whether the page brought a letter or a quarantine item not seen before."""
        return self.registered > 0 or self.quarantined > 0


class LetterOutbox(Protocol):
    """What registration needs of the letters' outbox relay (`polling.relay.LetterRelay`)."""

    @property
    def owner(self) -> str | None: ...

    async def submit(self, items: Sequence[Outgoing]) -> None: ...


def actor_of(principal: Principal) -> Actor:
    """The audit actor of an authenticated caller."""
    return Actor(
        user_id=principal.user_id,
        name=principal.name,
        role=principal.role.value,
        unit_id=principal.unit_id,
    )


def invalid_field(name: str, reason: str) -> Invalid:
    """A 422 naming the field, in the shape request validation uses."""
    return Invalid(
        f"{name}: {reason}",
        details={"errors": [{"field": name, "in": "body", "reason": reason}]},
    )


def _ms(at: datetime) -> datetime:
    # MongoDB keeps milliseconds: compare instants at that precision.
    return at.replace(microsecond=at.microsecond // 1000 * 1000)


def same_content(doc: Document, *, source: LetterSource, content: LetterContent) -> bool:
    """Whether a stored letter says what `content` says (a repeated registration)."""
    return (
        doc.get("source") == source.value
        and doc.get("title") == content.title
        and doc.get("text") == content.text
        and doc.get("person") == content.person.model_dump(exclude_none=True)
        and doc.get("attachments") == [a.model_dump(exclude_none=True) for a in content.attachments]
        and _ms(doc["submitted_at"]) == _ms(content.submitted_at)
    )


class IntakeService:
    """Registers letters and quarantines what cannot be registered."""

    def __init__(
        self,
        *,
        letters: LetterRepository,
        quarantine: QuarantineService,
        relay: LetterOutbox,
        clock: Clock,
    ) -> None:
        self.letters = letters
        self.quarantine = quarantine
        self.relay = relay
        self._clock = clock
        self._system = system_actor(SERVICE)

    # -- polled letters ---------------------------------------------------------------

    async def register_page(self, platform_id: str, page: PollPage) -> PageOutcome:
        """Register a page's letters (once each) and quarantine its bad records."""
        now = self._clock.now()
        outcome = PageOutcome(fetched=len(page.letters) + len(page.malformed))
        bad: list[MalformedRecord] = list(page.malformed)
        fresh: list[NewLetter] = []
        for letter in page.letters:
            checked = self._check(platform_id, letter, received_at=now)
            if isinstance(checked, MalformedRecord):
                bad.append(checked)
            else:
                fresh.append(checked)
        await self._register_batch(fresh, outcome=outcome, now=now)
        for record in bad:
            if await self.quarantine.quarantine_record(platform_id, record, now=now):
                outcome.quarantined += 1
            else:
                outcome.quarantine_duplicates += 1
        return outcome

    def _check(
        self, platform_id: str, letter: PlatformLetter, *, received_at: datetime
    ) -> NewLetter | MalformedRecord:
        raw = record_bytes(letter.raw)
        try:
            content = content_from_platform(letter)
        except ValidationError as exc:
            return MalformedRecord(
                external_id=letter.external_id, reason=validation_reason(exc), raw=raw
            )
        return NewLetter(
            letter_id=new_id("ltr"),
            platform=platform_id,
            source=LetterSource.platform,
            content=content,
            raw=raw,
            received_at=received_at,
        )

    async def _register_batch(
        self, fresh: Sequence[NewLetter], *, outcome: PageOutcome, now: datetime
    ) -> None:
        docs: list[Document] = []
        outgoing: list[Outgoing] = []
        for letter in fresh:
            event = letter.event()
            audit = letter.audit(self._system)
            docs.append(
                aggregate_document(self._document(letter), events=[event], audit=[audit], now=now)
            )
            outgoing.append(
                Outgoing(doc_id=letter.letter_id, events=[event], audit=[audit.to_document()])
            )
        inserted = await self.letters.insert_batch(docs)
        await self.relay.submit([outgoing[i] for i in inserted])
        outcome.registered += len(inserted)
        outcome.duplicates += len(fresh) - len(inserted)
        outcome.letter_ids += [fresh[i].letter_id for i in inserted]
        for letter in fresh:
            submitted = letter.content.submitted_at
            if outcome.newest_submitted_at is None or submitted > outcome.newest_submitted_at:
                outcome.newest_submitted_at = submitted

    # -- letters entered by hand (Art. 31) ----------------------------------------------

    async def register_manual(
        self,
        *,
        source: LetterSource,
        content: LetterContent,
        raw: bytes,
        principal: Principal,
    ) -> tuple[Document, bool]:
        """Register a hotline or in-person letter; (letter, created).

        The same reference with the same content again returns the letter registered
        first (a retried request); the same reference with other content is a 409.
        """
        now = self._clock.now()
        if source == LetterSource.platform:
            raise invalid_field("source", "a letter entered by hand is 'hotline' or 'other'")
        if content.submitted_at > now + MAX_CLOCK_SKEW:
            raise invalid_field("submitted_at", "lies in the future")
        existing = await self.letters.by_external_id(MANUAL_PLATFORM, content.external_id)
        if existing is None:
            letter = NewLetter(
                letter_id=new_id("ltr"),
                platform=MANUAL_PLATFORM,
                source=source,
                content=content,
                raw=raw,
                received_at=now,
                taken_by=principal.user_id,
                taken_by_name=principal.name,
            )
            if await self.create(letter, actor=actor_of(principal), note="registered by hand"):
                return await self.stored(letter.letter_id), True
            existing = await self.letters.by_external_id(MANUAL_PLATFORM, content.external_id)
            if existing is None:  # pragma: no cover - the unique index said it exists
                raise Conflict("registration raced with another; try again")
        if same_content(existing, source=source, content=content):
            return existing, False
        raise Conflict(
            f"reference {content.external_id} is registered already with other content",
            details={"letter_id": existing["_id"], "external_id": content.external_id},
        )

    # -- reading, and registering one letter (also for `quarantine.reprocess`) -----------

    async def by_external_id(self, platform: str, external_id: str) -> Document | None:
        """The letter registered under this platform's id, or None."""
        return await self.letters.by_external_id(platform, external_id)

    async def count(self, *, platform: str) -> int:
        """Letters registered from one platform."""
        return await self.letters.count(platform=platform)

    async def create(self, letter: NewLetter, *, actor: Actor, note: str) -> bool:
        """Insert one letter with its event and audit entry; False if registered already."""
        return await self.letters.store.create(
            self._document(letter),
            events=[letter.event()],
            audit=[letter.audit(actor, note=note)],
        )

    def _document(self, letter: NewLetter) -> Document:
        # Names the instance relaying its outbox, so other instances' sweeps leave it be.
        return {**letter.document(), "relay_owner": self.relay.owner}

    async def stored(self, letter_id: str) -> Document:
        """A letter just registered."""
        doc = await self.letters.get(letter_id)
        if doc is None:  # pragma: no cover - just inserted
            raise NotFound(f"letter {letter_id} not found")
        return doc
