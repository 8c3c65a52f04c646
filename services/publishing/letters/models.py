"""What publishing keeps of a letter: its own copy, and the decisions that limit publication.

`letters`: this service's own copy of what it needs of a letter (platform, external
id, title, text, the writer's data), the approved reply and decisions it answers, and
the sensitivity and lock decisions — kept here so publishing checks them itself,
independently of routing.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from services.publishing.redaction.service import PersonData
from shared.events.vocabulary import (
    LetterSource,
    NotAcceptedReason,
    Person,
    PublicationMode,
    Sensitivity,
)
from shared.mongo import Document

if TYPE_CHECKING:
    from services.publishing.uploads.models import UploadKind


# Letters taken by telephone or in person (Art. 31) have no platform to upload to: their
# answers wait in `awaiting_callback` until the office records telling the writer.
MANUAL_PLATFORM = "manual"
LETTER_ID_PATTERN = r"^[A-Za-z0-9_.:-]{1,64}$"

NoticeKind = Literal["not_accepted", "forwarded", "escalated"]


class LockInfo(BaseModel):
    """Art. 23: referred to public / state security; never published online."""

    model_config = ConfigDict(frozen=True)

    agency: str
    reason: str
    approved_by: str
    locked_at: datetime


class SensitivityInfo(BaseModel):
    """Art. 22: grounds that keep the answer not public."""

    model_config = ConfigDict(frozen=True)

    sensitivities: list[Sensitivity]
    reason: str
    marked_at: datetime


class ReplyParts(BaseModel):
    """The elements of a reply (Art. 29), as approved."""

    model_config = ConfigDict(frozen=True)

    unit_name: str
    handler_name: str
    investigation: str
    policy_basis: str
    result: str

    def fields(self) -> dict[str, str]:
        """The parts by name, in reading order."""
        return {
            "unit_name": self.unit_name,
            "handler_name": self.handler_name,
            "investigation": self.investigation,
            "policy_basis": self.policy_basis,
            "result": self.result,
        }


class ApprovedReply(BaseModel):
    """A reply as the office's chain approved it (`reply.approved`)."""

    model_config = ConfigDict(frozen=True)

    reply_id: str
    revision: int
    unit_id: str
    parts: ReplyParts
    mode: PublicationMode
    not_public_reason: str | None = None
    sensitivities: list[Sensitivity] = Field(default_factory=list)
    locked: bool = False
    approved_at: datetime


class Notice(BaseModel):
    """A decision the writer is told about: not accepted, forwarded or escalated."""

    model_config = ConfigDict(frozen=True)

    kind: NoticeKind
    slip_id: str
    text: str
    reason: NotAcceptedReason | None = None
    recipient_id: str | None = None
    recipient_name: str | None = None
    decided_at: datetime

    @property
    def upload_kind(self) -> UploadKind:
        """The platform's kind: a non-acceptance, or a transfer (转阅 and 呈办 alike)."""
        return "not_accepted" if self.kind == "not_accepted" else "transfer"


class ArchiveRef(BaseModel):
    """Where a letter's archive record is."""

    model_config = ConfigDict(frozen=True)

    archive_id: str
    sha256: str
    archived_at: datetime


class LetterCopy(BaseModel):
    """Publishing's copy of a letter; `known` once `letter.received` arrived."""

    id: str
    known: bool = False
    platform: str | None = None
    external_id: str | None = None
    source: LetterSource | None = None
    title: str = ""
    text: str = ""
    person: Person = Field(default_factory=Person)
    submitted_at: datetime | None = None
    received_at: datetime | None = None
    taken_by: str | None = None
    sensitivity: SensitivityInfo | None = None
    lock: LockInfo | None = None
    replies: list[ApprovedReply] = Field(default_factory=list)
    notices: list[Notice] = Field(default_factory=list)
    closed_clocks: list[str] = Field(default_factory=list)
    archive: ArchiveRef | None = None

    @classmethod
    def of(cls, doc: Document) -> LetterCopy:
        """Read a stored document."""
        return cls.model_validate({**doc, "id": doc["_id"]})

    @property
    def person_data(self) -> PersonData:
        """The writer's data as redaction takes it."""
        return PersonData.model_validate(self.person.model_dump())

    @property
    def latest_reply(self) -> ApprovedReply | None:
        """The highest approved revision."""
        return max(self.replies, key=lambda r: r.revision, default=None)

    def online_blocks(self, reply: ApprovedReply | None = None) -> list[str]:
        """Why this letter may not be published online (Art. 22, 23); empty if it may."""
        reasons: list[str] = []
        if self.lock is not None:
            reasons.append(f"locked (Art. 23): referred to {self.lock.agency}")
        elif reply is not None and reply.locked:
            reasons.append("locked (Art. 23) according to the approved reply")
        if self.sensitivity is not None:
            grounds = ", ".join(s.value for s in self.sensitivity.sensitivities)
            reasons.append(f"marked not public (Art. 22): {grounds}")
        elif reply is not None and reply.sensitivities:
            grounds = ", ".join(s.value for s in reply.sensitivities)
            reasons.append(f"sensitive (Art. 22) according to the approved reply: {grounds}")
        return reasons
