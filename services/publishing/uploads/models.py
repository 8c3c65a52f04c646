"""What publishing stores of its publications: one upload per publication version.

`uploads`: one document per publication version, keyed by its idempotency key
`{letter_id}:{kind}:{edition}` (edition: the reply's revision, or the slip of a
notice). It holds the exact title and text to send, so every retry sends the same
body under the same key.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from services.publishing.letters.models import ReplyParts
from shared.audit import Actor
from shared.clock import ensure_aware
from shared.events.vocabulary import PublicationMode
from shared.mongo import Document

UPLOAD_ID_PATTERN = r"^[A-Za-z0-9_.:-]{1,200}$"

UploadKind = Literal["reply", "not_accepted", "transfer"]
Visibility = Literal["public", "private"]


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
