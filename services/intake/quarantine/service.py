"""Keeping records that fail validation: each one whole, with the reason, until someone fixes it.

Fixing an item (registering it as a letter) is `reprocess.py`: it goes through the
letters' service, which itself quarantines through this one.
"""

from __future__ import annotations

from datetime import datetime

from services.intake.letters.models import SERVICE
from services.intake.quarantine.models import QuarantinedRecord
from services.intake.quarantine.repository import QuarantineRepository
from shared.audit import AuditEntry, system_actor
from shared.ids import new_id
from shared.mongo import Document
from shared.platforms import MalformedRecord


class QuarantineService:
    """Quarantines what cannot be registered, and reads the quarantine."""

    def __init__(self, quarantine: QuarantineRepository, *, max_raw_bytes: int) -> None:
        self.quarantine = quarantine
        self._max_raw_bytes = max_raw_bytes
        self._system = system_actor(SERVICE)

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

    async def get(self, item_id: str) -> Document | None:
        """One item, or None."""
        return await self.quarantine.get(item_id)

    async def page(
        self,
        *,
        status: str | None,
        platform: str | None,
        after: tuple[datetime, str] | None,
        limit: int,
    ) -> list[Document]:
        """Up to `limit + 1` items after the cursor, newest first."""
        return await self.quarantine.page(
            status=status, platform=platform, after=after, limit=limit
        )

    async def count_open(self, *, platform: str) -> int:
        """Items of one platform still waiting for a fix."""
        return await self.quarantine.count_open(platform=platform)
