"""Request and response models of the intake API (instants in UTC, `*_local` in Asia/Shanghai)."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Annotated, Any, Literal

import orjson
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from services.intake.models import (
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
    title: str
    submitted_at: datetime
    submitted_at_local: datetime
    received_at: datetime
    received_at_local: datetime
    taken_by: str | None = None
    raw_sha256: str
    quarantine_id: str | None = None


class LetterRead(LetterSummary):
    """One letter as registered, with the record exactly as received."""

    text: str
    person: Person
    attachments: list[Attachment]
    taken_by_name: str | None = None
    raw_json: str = Field(description="the record as received, verbatim (its sha256 is raw_sha256)")
    raw: Any = Field(description="the same record parsed (null if it is not JSON)")
    published: bool = Field(description="whether `letter.received` has left the outbox")


def letter_summary(doc: Document) -> LetterSummary:
    """A stored letter as a list item."""
    return LetterSummary.model_validate(_letter_fields(doc))


def letter_read(doc: Document) -> LetterRead:
    """A stored letter in full."""
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
    submitted_at: AwareDatetime = Field(
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


class PlatformErrorRead(BaseModel):
    """A recent error (or warning) of one platform."""

    at: datetime
    at_local: datetime
    kind: str
    message: str


class LeaseRead(BaseModel):
    """Which intake instance polls the platform now, and until when."""

    owner: str
    expires_at: datetime


class PlatformStatus(BaseModel):
    """One platform: configuration, polling state, lag and recent errors."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "gov_mailbox",
                    "name": "重庆市人民政府公开信箱",
                    "enabled": True,
                    "base_url": "http://127.0.0.1:8900/p/gov_mailbox",
                    "cursor": "120",
                    "last_poll_at": "2026-10-09T01:16:00Z",
                    "last_poll_at_local": "2026-10-09T09:16:00+08:00",
                    "last_success_at": "2026-10-09T01:16:01Z",
                    "last_success_at_local": "2026-10-09T09:16:01+08:00",
                    "newest_submitted_at": "2026-10-09T01:15:00Z",
                    "seconds_since_success": 42.0,
                    "newest_letter_age_s": 103.0,
                    "letters_registered": 120,
                    "quarantine_open": 2,
                    "last_outcome": "caught_up",
                    "recent_errors": [],
                    "lease": None,
                }
            ]
        }
    )

    id: str
    name: str
    enabled: bool
    base_url: str
    cursor: str | None = None
    last_poll_at: datetime | None = None
    last_poll_at_local: datetime | None = None
    last_success_at: datetime | None = None
    last_success_at_local: datetime | None = None
    newest_submitted_at: datetime | None = None
    seconds_since_success: float | None = Field(
        default=None, description="lag: seconds since the last successful poll"
    )
    newest_letter_age_s: float | None = Field(
        default=None, description="lag: seconds since the newest letter we have was submitted"
    )
    letters_registered: int
    quarantine_open: int
    last_outcome: str | None = None
    recent_errors: list[PlatformErrorRead]
    lease: LeaseRead | None = None


class PollResult(BaseModel):
    """What one poll cycle did."""

    platform_id: str
    outcome: Literal["caught_up", "page_limit", "no_progress", "error", "lease_lost", "busy"]
    started_at: datetime
    finished_at: datetime | None
    pages: int
    fetched: int
    registered: int
    duplicates: int
    quarantined: int
    quarantine_duplicates: int
    cursor_before: str | None
    cursor_after: str | None
    cursor_rewinds: int
    more: bool = Field(description="the cycle stopped at its page bound; more is waiting")
    error: str | None = None
    lease_holder: str | None = None


class QuarantineSummary(BaseModel):
    """A quarantined record in a list (without its bytes)."""

    id: str
    platform: str
    external_id: str | None
    reason: str
    status: Literal["open", "resolved"]
    raw_size: int
    raw_truncated: bool
    quarantined_at: datetime
    quarantined_at_local: datetime
    resolution: dict[str, Any] | None = None


class QuarantineRead(QuarantineSummary):
    """One quarantined record with its bytes, as text and as base64."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "qua_01JDX3Q7W5V4T2M8K9N6P1R0SA",
                    "platform": "gov_mailbox",
                    "external_id": "GOV00000007",
                    "reason": "missing required field 'title' (title)",
                    "status": "open",
                    "raw_size": 312,
                    "raw_truncated": False,
                    "quarantined_at": "2026-10-09T01:16:02Z",
                    "quarantined_at_local": "2026-10-09T09:16:02+08:00",
                    "resolution": None,
                    "raw_text": '{"id":"GOV00000007","text":"…"}',
                    "raw_base64": "eyJpZCI6IkdPVjAwMDAwMDA3In0=",
                    "raw_sha256": "4be1…",
                }
            ]
        }
    )

    raw_text: str = Field(description="the bytes as UTF-8 (undecodable bytes replaced)")
    raw_base64: str = Field(description="the bytes exactly")
    raw_sha256: str


def quarantine_summary(doc: Document) -> QuarantineSummary:
    """A stored quarantine item as a list item."""
    return QuarantineSummary.model_validate(_quarantine_fields(doc))


def quarantine_read(doc: Document) -> QuarantineRead:
    """A stored quarantine item in full."""
    raw = bytes(doc.get("raw") or b"")
    return QuarantineRead.model_validate(
        {
            **_quarantine_fields(doc),
            "raw_text": raw.decode("utf-8", errors="replace"),
            "raw_base64": base64.b64encode(raw).decode(),
            "raw_sha256": doc["raw_sha256"],
        }
    )


def _quarantine_fields(doc: Document) -> dict[str, Any]:
    resolution = doc.get("resolution")
    if resolution is not None:
        resolution = {**resolution, "at_local": _local(resolution.get("at"))}
    return {
        "id": doc["_id"],
        "platform": doc["platform"],
        "external_id": doc.get("external_id"),
        "reason": doc["reason"],
        "status": doc["status"],
        "raw_size": doc.get("raw_size", 0),
        "raw_truncated": doc.get("raw_truncated", False),
        "quarantined_at": doc["quarantined_at"],
        "quarantined_at_local": _local(doc["quarantined_at"]),
        "resolution": resolution,
    }


QuarantinePage = Page[QuarantineSummary]


class ReprocessIn(BaseModel):
    """A corrected record, in the platform's own field names."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "record": {
                        "id": "GOV00000007",
                        "title": "关于路灯不亮的反映",
                        "text": "某路段路灯已坏一周。",
                        "submitted_at": "2026-10-09T09:15:00+08:00",
                    }
                }
            ]
        },
    )

    record: dict[str, Any]


class ReprocessOut(BaseModel):
    """The resolved item and the letter it became."""

    outcome: Literal["registered", "already_registered"]
    letter_id: str
    item: QuarantineRead
