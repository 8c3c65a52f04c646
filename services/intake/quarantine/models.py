"""What intake stores of a quarantined record: a record that failed validation, kept whole."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from services.intake.letters.models import sha256_hex
from shared.mongo import Document


class QuarantineStatus(StrEnum):
    open = "open"
    resolved = "resolved"


class Resolution(StrEnum):
    """How a quarantined record left quarantine."""

    registered = "registered"
    already_registered = "already_registered"


@dataclass(frozen=True)
class QuarantinedRecord:
    """A record that failed validation, kept whole with the reason."""

    item_id: str
    platform: str
    external_id: str | None
    reason: str
    raw: bytes
    quarantined_at: datetime
    max_raw_bytes: int

    @property
    def dedupe_key(self) -> str:
        """The same bytes from the same platform are one item, however often re-fetched."""
        return sha256_hex(self.platform.encode() + b"\x00" + self.raw)

    def document(self) -> Document:
        """The stored quarantine item."""
        kept = self.raw[: self.max_raw_bytes]
        return {
            "_id": self.item_id,
            "platform": self.platform,
            "external_id": self.external_id,
            "reason": self.reason[:4000],
            "raw": kept,
            "raw_size": len(self.raw),
            "raw_truncated": len(kept) < len(self.raw),
            "raw_sha256": sha256_hex(self.raw),
            "dedupe_key": self.dedupe_key,
            "status": QuarantineStatus.open.value,
            "quarantined_at": self.quarantined_at,
            "resolution": None,
        }
