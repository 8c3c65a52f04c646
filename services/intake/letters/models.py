"""What intake stores of a letter: the rules a letter must meet, and the letter document.

A letter is registered once per (platform, external id). Its document keeps the
record exactly as received (`raw_json`, with its sha256), the platform's time
(`submitted_at`) and ours (`received_at`), all instants in UTC; the API shows them
in Asia/Shanghai as well.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from shared.audit import Actor, AuditEntry
from shared.events import Event, make_event
from shared.events.catalog import LetterReceived
from shared.events.vocabulary import LetterSource, Person
from shared.mongo import Document
from shared.platforms import PlatformLetter

SERVICE = "intake"
MANUAL_PLATFORM = "manual"
MAX_EXTERNAL_ID_CHARS = 128
# Printable, no whitespace: the same rule the platform client applies to record ids.
EXTERNAL_ID_PATTERN = rf"^[^\s\x00-\x1f\x7f]{{1,{MAX_EXTERNAL_ID_CHARS}}}$"
MAX_TITLE_CHARS = 500
MAX_TEXT_CHARS = 20_000
MAX_ATTACHMENTS = 50


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


# A title or text of only spaces says nothing: the same as a missing one.
NotBlank = AfterValidator(_not_blank)


class Attachment(BaseModel):
    """A file the writer attached; the platform keeps the bytes, we keep the reference."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=255)
    url: str | None = Field(default=None, max_length=2048)


class LetterContent(BaseModel):
    """What every letter must satisfy to be registered, polled or entered by hand."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    external_id: str = Field(pattern=EXTERNAL_ID_PATTERN)
    title: Annotated[str, Field(min_length=1, max_length=MAX_TITLE_CHARS), NotBlank]
    text: Annotated[str, Field(min_length=1, max_length=MAX_TEXT_CHARS), NotBlank]
    submitted_at: AwareDatetime
    person: Person = Field(default_factory=Person)
    attachments: list[Attachment] = Field(default_factory=list, max_length=MAX_ATTACHMENTS)


def validation_reason(error: ValidationError) -> str:
    """Every problem of a validation error on one line: `field: reason; …`."""
    parts = []
    for problem in error.errors():
        where = ".".join(str(p) for p in problem["loc"])
        parts.append(f"{where}: {problem['msg']}" if where else str(problem["msg"]))
    return "; ".join(parts)


def content_from_platform(letter: PlatformLetter) -> LetterContent:
    """Our rules applied to a letter the platform client accepted (ValidationError if not)."""
    # Validated as one object, so a reason names the field path (`person.name`).
    return LetterContent.model_validate(
        {
            "external_id": letter.external_id,
            "title": letter.title,
            "text": letter.text,
            "submitted_at": letter.submitted_at,
            "person": letter.person.model_dump(exclude_none=True),
            "attachments": [a.model_dump() for a in letter.attachments],
        }
    )


def sha256_hex(raw: bytes) -> str:
    """Checksum of the raw record as received."""
    return hashlib.sha256(raw).hexdigest()


@dataclass(frozen=True)
class NewLetter:
    """A letter about to be registered, with everything its one insert carries."""

    letter_id: str
    platform: str
    source: LetterSource
    content: LetterContent
    raw: bytes
    received_at: datetime
    taken_by: str | None = None
    taken_by_name: str | None = None
    quarantine_id: str | None = None

    @property
    def raw_sha256(self) -> str:
        """Checksum of the raw record."""
        return sha256_hex(self.raw)

    def document(self) -> Document:
        """The stored letter (the aggregate fields are added when it is inserted)."""
        content = self.content
        return {
            "_id": self.letter_id,
            "platform": self.platform,
            "external_id": content.external_id,
            "source": self.source.value,
            "title": content.title,
            "text": content.text,
            "person": content.person.model_dump(exclude_none=True),
            "attachments": [a.model_dump(exclude_none=True) for a in content.attachments],
            "submitted_at": content.submitted_at,
            "received_at": self.received_at,
            "taken_by": self.taken_by,
            "taken_by_name": self.taken_by_name,
            "quarantine_id": self.quarantine_id,
            # Verbatim: the bytes as received, so the checksum can be verified later.
            "raw_json": self.raw.decode("utf-8", errors="replace"),
            "raw_sha256": self.raw_sha256,
        }

    def event(self) -> Event:
        """`letter.received` for this letter."""
        content = self.content
        return make_event(
            LetterReceived(
                platform=self.platform,
                external_id=content.external_id,
                source=self.source,
                title=content.title,
                text=content.text,
                person=content.person,
                submitted_at=content.submitted_at,
                received_at=self.received_at,
                taken_by=self.taken_by,
                raw_sha256=self.raw_sha256,
            ),
            producer=SERVICE,
            occurred_at=self.received_at,
            letter_id=self.letter_id,
        )

    def audit(self, actor: Actor, *, note: str | None = None) -> AuditEntry:
        """The audit entry of the registration."""
        return AuditEntry(
            at=self.received_at,
            actor=actor,
            action="letter.register",
            target_type="letter",
            target_id=self.letter_id,
            letter_id=self.letter_id,
            after={
                "platform": self.platform,
                "external_id": self.content.external_id,
                "source": self.source.value,
                "raw_sha256": self.raw_sha256,
            },
            note=note,
        )


@dataclass(frozen=True)
class Outgoing:
    """One letter's outbox, as written."""

    doc_id: str
    events: Sequence[Event]
    audit: Sequence[dict[str, Any]]
