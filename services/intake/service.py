"""Registering letters: a page polled from a platform, one entered by hand, a fixed quarantine item.

Every path applies the same rules (`LetterContent`), registers a letter at most
once per (platform, external id) through the unique index, and writes the letter
with its `letter.received` event and audit entry in one insert. A record that fails
the rules goes to quarantine with the reason and its raw bytes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from services.intake.models import (
    MANUAL_PLATFORM,
    SERVICE,
    LetterContent,
    NewLetter,
    QuarantinedRecord,
    Resolution,
    content_from_platform,
    validation_reason,
)
from services.intake.relay import LetterRelay, Outgoing
from services.intake.repository import (
    LetterRepository,
    QuarantineRepository,
    aggregate_document,
)
from shared.audit import Actor, AuditEntry, system_actor
from shared.auth import Principal
from shared.clock import Clock
from shared.errors import Conflict, Invalid, NotFound
from shared.events.vocabulary import LetterSource
from shared.ids import new_id
from shared.mongo import Document
from shared.platforms import MalformedRecord, PlatformConfig, PlatformLetter, PollPage
from shared.platforms.records import decode_record, record_bytes

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


@dataclass(frozen=True)
class ReprocessOutcome:
    """How a quarantine item was resolved."""

    item: Document
    letter: Document
    resolution: Resolution


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
        quarantine: QuarantineRepository,
        relay: LetterRelay,
        platforms: Mapping[str, PlatformConfig],
        clock: Clock,
        max_raw_bytes: int,
    ) -> None:
        self.letters = letters
        self.quarantine = quarantine
        self.relay = relay
        self.platforms = dict(platforms)
        self._clock = clock
        self._max_raw_bytes = max_raw_bytes
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
            if await self.quarantine_record(platform_id, record, now=now):
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

    async def quarantine_record(
        self, platform_id: str, record: MalformedRecord, *, now: datetime
    ) -> bool:
        """Keep a bad record with its reason; False if these bytes are kept already."""
        item = QuarantinedRecord(
            item_id=new_id("qua"),
            platform=platform_id,
            external_id=record.external_id,
            reason=record.reason,
            raw=record.raw,
            quarantined_at=now,
            max_raw_bytes=self._max_raw_bytes,
        )
        audit = AuditEntry(
            at=now,
            actor=self._system,
            action="quarantine.add",
            target_type="quarantine",
            target_id=item.item_id,
            after={
                "platform": platform_id,
                "external_id": record.external_id,
                "reason": record.reason[:500],
            },
        )
        return await self.quarantine.add(item.document(), audit=audit)

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
            if await self._create(letter, actor=actor_of(principal), note="registered by hand"):
                return await self._stored(letter.letter_id), True
            existing = await self.letters.by_external_id(MANUAL_PLATFORM, content.external_id)
            if existing is None:  # pragma: no cover - the unique index said it exists
                raise Conflict("registration raced with another; try again")
        if same_content(existing, source=source, content=content):
            return existing, False
        raise Conflict(
            f"reference {content.external_id} is registered already with other content",
            details={"letter_id": existing["_id"], "external_id": content.external_id},
        )

    async def _create(self, letter: NewLetter, *, actor: Actor, note: str) -> bool:
        return await self.letters.store.create(
            self._document(letter),
            events=[letter.event()],
            audit=[letter.audit(actor, note=note)],
        )

    def _document(self, letter: NewLetter) -> Document:
        # Names the instance relaying its outbox, so other instances' sweeps leave it be.
        return {**letter.document(), "relay_owner": self.relay.owner}

    async def _stored(self, letter_id: str) -> Document:
        doc = await self.letters.get(letter_id)
        if doc is None:  # pragma: no cover - just inserted
            raise NotFound(f"letter {letter_id} not found")
        return doc

    # -- quarantine ---------------------------------------------------------------------

    async def reprocess(
        self, item_id: str, record: Any, *, principal: Principal
    ) -> ReprocessOutcome:
        """Validate a corrected record for a quarantine item and register it (422 if bad)."""
        item = await self.quarantine.get(item_id)
        if item is None:
            raise NotFound(f"quarantine item {item_id} not found")
        if item.get("status") != "open":
            raise Conflict(
                f"quarantine item {item_id} is resolved already",
                details={"letter_id": (item.get("resolution") or {}).get("letter_id")},
            )
        config = self.platforms.get(item["platform"])
        if config is None:
            raise Invalid(f"platform {item['platform']} is no longer configured")
        content = self._content_of(record, config=config)
        if item.get("external_id") and content.external_id != item["external_id"]:
            raise invalid_field(
                "record", f"the external id must stay {item['external_id']!r} (the platform's id)"
            )
        actor = actor_of(principal)
        existing = await self.letters.by_external_id(config.id, content.external_id)
        resolution = Resolution.already_registered
        if existing is None:
            letter = NewLetter(
                letter_id=new_id("ltr"),
                platform=config.id,
                source=LetterSource.platform,
                content=content,
                raw=record_bytes(record),
                # Received when the platform first gave it to us, not when it was fixed.
                received_at=item["quarantined_at"],
                quarantine_id=item_id,
            )
            note = f"registered from quarantine item {item_id}"
            if await self._create(letter, actor=actor, note=note):
                existing, resolution = await self._stored(letter.letter_id), Resolution.registered
            else:
                existing = await self.letters.by_external_id(config.id, content.external_id)
        if existing is None:  # pragma: no cover - the unique index said it exists
            raise Conflict("registration raced with another; try again")
        now = self._clock.now()
        resolved = await self.quarantine.resolve(
            item_id,
            resolution={
                "outcome": resolution.value,
                "letter_id": existing["_id"],
                "by": actor.model_dump(mode="python"),
                "at": now,
            },
            audit=AuditEntry(
                at=now,
                actor=actor,
                action="quarantine.resolve",
                target_type="quarantine",
                target_id=item_id,
                letter_id=str(existing["_id"]),
                before={"status": "open"},
                after={"status": "resolved", "outcome": resolution.value},
            ),
        )
        return ReprocessOutcome(item=resolved, letter=existing, resolution=resolution)

    @staticmethod
    def _content_of(record: Any, *, config: PlatformConfig) -> LetterContent:
        decoded = decode_record(record, config=config)
        if isinstance(decoded, MalformedRecord):
            raise invalid_field("record", decoded.reason)
        try:
            return content_from_platform(decoded)
        except ValidationError as exc:
            raise invalid_field("record", validation_reason(exc)) from exc
