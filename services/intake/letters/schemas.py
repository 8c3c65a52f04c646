"""Request and response models of the letters API (instants in UTC, `*_local` in Asia/Shanghai)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field

from services.intake.letters.models import (
    EXTERNAL_ID_PATTERN,
    MAX_ATTACHMENTS,
    MAX_TEXT_CHARS,
    MAX_TITLE_CHARS,
    Attachment,
    LetterContent,
    NotBlank,
)
from shared.clock import to_shanghai
from shared.events.vocabulary import LetterSource, Person
from shared.mongo import Document
from shared.paging import Page
from shared.validation import Instant

_EXAMPLE_PERSON: dict[str, Any] = {"name": "张某某", "phone": "13800000000"}


def _local(at: datetime | None) -> datetime | None:
    return None if at is None else to_shanghai(at)


class LetterSummary(BaseModel):
    """A letter in a list (no text, no raw payload)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "ltr_01JDX3Q7W5V4T2M8K9N6P1R0SA",
                    "platform": "gov_mailbox",
                    "external_id": "GOV00000042",
                    "source": "platform",
                    "title": "关于小区噪音扰民的投诉",
                    "submitted_at": "2026-10-09T01:15:00Z",
                    "submitted_at_local": "2026-10-09T09:15:00+08:00",
                    "received_at": "2026-10-09T01:16:02Z",
                    "received_at_local": "2026-10-09T09:16:02+08:00",
                    "taken_by": None,
                    "raw_sha256": "9f2c…",
                    "quarantine_id": None,
                }
            ]
        }
    )

    id: str
    platform: str
    external_id: str
    source: LetterSource
    title: str | None = Field(description="the writer's title; null when withheld from you")
    submitted_at: datetime
    submitted_at_local: datetime
    received_at: datetime
    received_at_local: datetime
    taken_by: str | None = None
    raw_sha256: str
    quarantine_id: str | None = None


class LetterRead(LetterSummary):
    """One letter as registered, with the record exactly as received."""

    text: str | None = Field(description="null when withheld from you (see `withheld`)")
    person: Person | None = Field(description="the writer (Art. 3); null when withheld")
    attachments: list[Attachment]
    taken_by_name: str | None = None
    raw_json: str | None = Field(
        description="the record as received, verbatim (its sha256 is raw_sha256); null when"
        " withheld"
    )
    raw: Any = Field(description="the same record parsed (null if it is not JSON, or withheld)")
    published: bool = Field(description="whether `letter.received` has left the outbox")
    withheld: list[str] = Field(
        default_factory=list,
        description="the parts not shown to you: the writer's data and the letter's words are"
        " for the office and the archive only, not the admin (Art. 3)",
    )


def letter_summary(doc: Document, *, show_title: bool) -> LetterSummary:
    """A stored letter as a list item (the title is the writer's words: as `show_writer`)."""
    fields = _letter_fields(doc)
    if not show_title:
        fields["title"] = None
    return LetterSummary.model_validate(fields)


# What a reader who may not see the writer's data (the admin) does not get of a letter.
WITHHELD = ["title", "text", "person", "attachments", "raw_json", "raw"]


def letter_read(doc: Document, *, show_writer: bool) -> LetterRead:
    """A stored letter in full, or without the writer's data (`shared.auth.sees_writer`)."""
    if not show_writer:
        return LetterRead.model_validate(
            {
                **_letter_fields(doc),
                **dict.fromkeys(["title", "text", "person", "raw_json", "raw"]),
                "attachments": [],
                "taken_by_name": doc.get("taken_by_name"),
                "published": not doc.get("has_outbox", False),
                "withheld": WITHHELD,
            }
        )
    raw_json = str(doc.get("raw_json") or "")
    try:
        raw: Any = orjson.loads(raw_json)
    except orjson.JSONDecodeError:
        raw = None
    return LetterRead.model_validate(
        {
            **_letter_fields(doc),
            "text": doc["text"],
            "person": doc.get("person") or {},
            "attachments": doc.get("attachments") or [],
            "taken_by_name": doc.get("taken_by_name"),
            "raw_json": raw_json,
            "raw": raw,
            "published": not doc.get("has_outbox", False),
        }
    )


def _letter_fields(doc: Document) -> dict[str, Any]:
    return {
        "id": doc["_id"],
        "platform": doc["platform"],
        "external_id": doc["external_id"],
        "source": doc["source"],
        "title": doc["title"],
        "submitted_at": doc["submitted_at"],
        "submitted_at_local": _local(doc["submitted_at"]),
        "received_at": doc["received_at"],
        "received_at_local": _local(doc["received_at"]),
        "taken_by": doc.get("taken_by"),
        "raw_sha256": doc["raw_sha256"],
        "quarantine_id": doc.get("quarantine_id"),
    }


LetterPage = Page[LetterSummary]


class ManualLetterIn(BaseModel):
    """A letter received by telephone or in person (Art. 31), entered by the office."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "source": "hotline",
                    "external_id": "RX-20261009-0031",
                    "submitted_at": "2026-10-09T10:20:00+08:00",
                    "title": "来电反映农贸市场占道经营",
                    "text": "市民来电反映某农贸市场外长期占道经营，影响通行，希望尽快处理。",
                    "person": _EXAMPLE_PERSON,
                }
            ]
        },
    )

    source: Literal[LetterSource.hotline, LetterSource.other] = Field(
        description="hotline: by telephone (公开电话); other: in person or otherwise"
    )
    external_id: str = Field(
        pattern=EXTERNAL_ID_PATTERN,
        description="the reference it was taken under (e.g. the hotline ticket number)",
    )
    submitted_at: Instant = Field(
        description="when the writer called or came: the office received the letter then,"
        " so the one-working-day acceptance clock (Art. 18) starts here, not at registration"
    )
    title: Annotated[str, Field(min_length=1, max_length=MAX_TITLE_CHARS), NotBlank]
    text: Annotated[str, Field(min_length=1, max_length=MAX_TEXT_CHARS), NotBlank]
    person: Person = Field(default_factory=Person)
    attachments: list[Attachment] = Field(default_factory=list, max_length=MAX_ATTACHMENTS)

    def content(self) -> LetterContent:
        """The letter under the rules every letter meets."""
        return LetterContent(
            external_id=self.external_id,
            title=self.title,
            text=self.text,
            submitted_at=self.submitted_at,
            person=self.person,
            attachments=self.attachments,
        )
