"""Fixing a quarantine item: a corrected record is validated, registered as a letter, and the
item resolved.

Apart from `service.py` because it registers through the letters' service
(`IntakeService`), which itself quarantines bad records through `QuarantineService`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from services.intake.letters.models import (
    LetterContent,
    NewLetter,
    content_from_platform,
    validation_reason,
)
from services.intake.letters.service import IntakeService, actor_of, invalid_field
from services.intake.quarantine.models import Resolution
from services.intake.quarantine.repository import QuarantineRepository
from shared.audit import AuditEntry
from shared.auth import Principal
from shared.clock import Clock
from shared.errors import Conflict, Invalid, NotFound
from shared.events.vocabulary import LetterSource
from shared.ids import new_id
from shared.mongo import Document
from shared.platforms import MalformedRecord, PlatformConfig
from shared.platforms.records import decode_record, record_bytes


@dataclass(frozen=True)
class ReprocessOutcome:
    """How a quarantine item was resolved."""

    item: Document
    letter: Document
    resolution: Resolution


class ReprocessService:
    """Registers the corrected record of a quarantine item and resolves the item."""

    def __init__(
        self,
        *,
        letters: IntakeService,
        quarantine: QuarantineRepository,
        platforms: Mapping[str, PlatformConfig],
        clock: Clock,
    ) -> None:
        self.letters = letters
        self.quarantine = quarantine
        self.platforms = dict(platforms)
        self._clock = clock

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
            if await self.letters.create(letter, actor=actor, note=note):
                existing = await self.letters.stored(letter.letter_id)
                resolution = Resolution.registered
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
