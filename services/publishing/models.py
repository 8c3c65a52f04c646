"""What publishing stores: its copy of each letter, one upload per publication, archive records.

- `letters`: this service's own copy of what it needs of a letter (platform, external
  id, title, text, the writer's data), the approved reply and decisions it answers, and
  the sensitivity and lock decisions — kept here so publishing checks them itself,
  independently of routing.
- `uploads`: one document per publication version, keyed by its idempotency key
  `{letter_id}:{kind}:{edition}` (edition: the reply's revision, or the slip of a
  notice). It holds the exact title and text to send, so every retry sends the same
  body under the same key.
- `archives`: one immutable record per letter (Art. 16).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from services.publishing.redaction import PersonData
from shared.audit import Actor
from shared.clock import ensure_aware
from shared.events import Event, make_event
from shared.events.catalog import EventData
from shared.events.vocabulary import (
    LetterSource,
    NotAcceptedReason,
    Person,
    PublicationMode,
    Sensitivity,
)
from shared.mongo import Document

SERVICE = "publishing"
# Letters taken by telephone or in person (Art. 31) have no platform to upload to: their
# answers wait in `awaiting_callback` until the office records telling the writer.
MANUAL_PLATFORM = "manual"
LETTER_ID_PATTERN = r"^[A-Za-z0-9_.:-]{1,64}$"
UPLOAD_ID_PATTERN = r"^[A-Za-z0-9_.:-]{1,200}$"

UploadKind = Literal["reply", "not_accepted", "transfer"]
Visibility = Literal["public", "private"]
NoticeKind = Literal["not_accepted", "forwarded", "escalated"]


class UploadState(StrEnum):
    """Where an upload is: waiting, delivered, waiting for an operator, or refused.

    `awaiting_callback`: the answer to a letter taken by hand (Art. 31, platform
    `manual`) has no platform to go to; it waits until the office records that it told
    the writer (a call-back, a visit, a letter…), and only then counts as delivered.
    """

    pending = "pending"
    awaiting_callback = "awaiting_callback"
    sent = "sent"
    parked = "parked"
    refused = "refused"


class CallbackChannel(StrEnum):
    """How the office gave the writer of a letter taken by hand their answer."""

    phone = "phone"
    visit = "visit"
    sms = "sms"
    post = "post"
    email = "email"
    other = "other"


class EmailState(StrEnum):
    """What happened to the e-mail of an `email` reply."""

    pending = "pending"
    sent = "sent"
    no_address = "no_address"
    not_configured = "not_configured"
    refused = "refused"


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


class Finding(BaseModel):
    """A pattern the leak scan still found in text that was to be published."""

    model_config = ConfigDict(frozen=True)

    field: str
    pattern: str
    start: int
    end: int


class AttemptError(BaseModel):
    """One failed attempt."""

    model_config = ConfigDict(frozen=True)

    at: datetime
    error: str


class EmailRecord(BaseModel):
    """The e-mail of an `email` reply: to whom, and what became of it."""

    state: EmailState
    to: str | None = None
    sent_at: datetime | None = None
    error: str | None = None


class Receipt(BaseModel):
    """The platform's receipt (`duplicate`: it already had this key)."""

    model_config = ConfigDict(frozen=True)

    upload_id: str
    duplicate: bool
    received_at: datetime


class Callback(BaseModel):
    """The office telling the writer of a letter taken by hand their answer (Art. 10 事事有回音)."""

    model_config = ConfigDict(frozen=True)

    channel: CallbackChannel
    at: datetime
    note: str
    reference: str | None = None
    recorded_by: Actor
    recorded_at: datetime

    def same_as(self, other: Callback) -> bool:
        """The same call-back (who recorded it and when aside): a repeated request."""
        return (self.channel, ensure_aware(self.at), self.note, self.reference) == (
            other.channel,
            ensure_aware(other.at),
            other.note,
            other.reference,
        )


class Downgrade(BaseModel):
    """An online publication made private instead, and why."""

    model_config = ConfigDict(frozen=True)

    requested: PublicationMode
    reasons: list[str]


class UploadDoc(BaseModel):
    """One publication version and its delivery."""

    id: str
    letter_id: str
    platform: str
    external_id: str
    kind: UploadKind
    edition: str
    visibility: Visibility
    mode: PublicationMode | None = None
    title: str
    text: str
    parts: ReplyParts | None = None
    state: UploadState
    attempts: int = 0
    retries: int = 0
    last_error: str | None = None
    errors: list[AttemptError] = Field(default_factory=list)
    next_attempt_at: datetime | None = None
    claimed_by: str | None = None
    claim_until: datetime | None = None
    email: EmailRecord | None = None
    receipt: Receipt | None = None
    callback: Callback | None = None
    sent_at: datetime | None = None
    downgrade: Downgrade | None = None
    findings: list[Finding] = Field(default_factory=list)
    redacted: bool = False
    takedown_required: bool = False
    archived: bool = False
    version: int = 1
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @classmethod
    def of(cls, doc: Document) -> UploadDoc:
        """Read a stored document."""
        return cls.model_validate({**doc, "id": doc["_id"]})


def upload_key(letter_id: str, *, kind: UploadKind, edition: str) -> str:
    """The idempotency key of one publication version (also the upload's id)."""
    return f"{letter_id}:{kind}:{edition}"


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
