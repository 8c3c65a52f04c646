"""Requests and responses of the publishing API: previews, uploads and call-backs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from services.publishing.letters.models import ReplyParts
from services.publishing.redaction.service import Redaction, Span
from services.publishing.uploads.models import (
    AttemptError,
    Callback,
    CallbackChannel,
    Downgrade,
    EmailRecord,
    Finding,
    Receipt,
    UploadDoc,
    UploadKind,
    UploadState,
    Visibility,
)
from services.publishing.uploads.previews import LetterPreview
from shared.events.vocabulary import Person, PublicationMode
from shared.paging import Page
from shared.validation import Instant

_SPAN_EXAMPLE: dict[str, Any] = {"start": 2, "end": 4, "kind": "name", "replacement": "张某"}


class FieldRedaction(BaseModel):
    """One published field: the original, the redacted text, its spans and any leak left."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "original": "我叫张三，电话13812345678。",
                    "text": "我叫张某，电话138****5678。",
                    "spans": [_SPAN_EXAMPLE],
                    "leaks": [],
                }
            ]
        }
    )

    original: str
    text: str
    spans: list[Span]
    leaks: list[Finding]


def field_redaction(
    name: str, original: str, redaction: Redaction, findings: list[Finding]
) -> FieldRedaction:
    """A field's preview with the findings that concern it."""
    return FieldRedaction(
        original=original,
        text=redaction.text,
        spans=redaction.spans,
        leaks=[f for f in findings if f.field == name],
    )


class UploadPreview(BaseModel):
    """The upload online publication would send."""

    title: str
    text: str


class LetterPreviewRead(BaseModel):
    """What online publication would show, before anyone approves it (Art. 24)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "letter_id": "ltr_01JDX5Q9Z6M0B6W1B7Q1T3V9KC",
                    "reply_source": "approved_reply",
                    "fields": {
                        "text": {
                            "original": "我叫张三……",
                            "text": "我叫张某……",
                            "spans": [_SPAN_EXAMPLE],
                            "leaks": [],
                        }
                    },
                    "upload": {"title": "关于“预付卡退款”的答复", "text": "来信标题：……"},
                    "findings": [],
                    "leak_scan_passed": True,
                    "online_allowed": True,
                    "online_blocks": [],
                }
            ]
        }
    )

    letter_id: str
    reply_source: Literal["approved_reply", "request", "none"] = Field(
        description="whose reply parts were used: the latest approved, the request's, or none"
    )
    fields: dict[str, FieldRedaction]
    upload: UploadPreview
    findings: list[Finding] = Field(description="everything the leak scan still found")
    leak_scan_passed: bool
    online_allowed: bool = Field(description="not locked (Art. 23), not marked (Art. 22)")
    online_blocks: list[str]

    @classmethod
    def of(cls, preview: LetterPreview) -> LetterPreviewRead:
        """From the service's preview."""
        draft = preview.draft
        return cls(
            letter_id=preview.letter.id,
            reply_source=preview.reply_source,
            fields={
                name: field_redaction(name, draft.originals[name], redaction, draft.findings)
                for name, redaction in draft.fields.items()
            },
            upload=UploadPreview(title=draft.title, text=draft.text),
            findings=draft.findings,
            leak_scan_passed=not draft.findings,
            online_allowed=not preview.online_blocks,
            online_blocks=preview.online_blocks,
        )


class ReplyPartsIn(BaseModel):
    """A reply to check before it is approved (Art. 29 elements)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "unit_name": "市场秩序处",
                    "handler_name": "王建国",
                    "investigation": "经查……",
                    "policy_basis": "《单用途商业预付卡管理办法（试行）》",
                    "result": "已督促商家退款。",
                }
            ]
        },
    )

    unit_name: str = Field(max_length=200)
    handler_name: str = Field(max_length=100)
    investigation: str = Field(max_length=20_000)
    policy_basis: str = Field(max_length=20_000)
    result: str = Field(max_length=20_000)

    def parts(self) -> ReplyParts:
        """As the domain takes them."""
        return ReplyParts(**self.model_dump())


class LetterPreviewIn(BaseModel):
    """Preview a letter with a reply of the request's (else the latest approved one)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "reply": {
                        "unit_name": "市场秩序处",
                        "handler_name": "王建国",
                        "investigation": "经查，张三反映的健身房已停业……",
                        "policy_basis": "《单用途商业预付卡管理办法（试行）》",
                        "result": "已督促商家退款。",
                    }
                }
            ]
        },
    )

    reply: ReplyPartsIn | None = None


class PreviewIn(BaseModel):
    """An ad-hoc check: a text (and title) with the writer's data."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "text": "我叫张三，电话13812345678，住渝中区民族路88号5栋301室。",
                    "person": {"name": "张三", "phone": "13812345678"},
                }
            ]
        },
    )

    text: str = Field(min_length=1, max_length=50_000)
    title: str | None = Field(default=None, max_length=500)
    person: Person | None = None


class PreviewRead(BaseModel):
    """The redacted text (and title), spans on the original, and the leak scan's result."""

    text: FieldRedaction
    title: FieldRedaction | None = None
    leak_scan_passed: bool


class UploadRead(BaseModel):
    """One publication version and its delivery to the platform."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "ltr_01JDX5Q9Z6M0B6W1B7Q1T3V9KC:reply:1",
                    "letter_id": "ltr_01JDX5Q9Z6M0B6W1B7Q1T3V9KC",
                    "platform": "gov_mailbox",
                    "external_id": "GOV00000001",
                    "kind": "reply",
                    "edition": "1",
                    "visibility": "public",
                    "mode": "online",
                    "title": "关于“预付卡退款”的答复",
                    "text": "来信标题：……",
                    "state": "parked",
                    "attempts": 8,
                    "last_error": "PlatformUnavailable: POST /uploads failed after 4 attempts",
                    "version": 10,
                }
            ]
        }
    )

    id: str = Field(description="the idempotency key: {letter_id}:{kind}:{edition}")
    letter_id: str
    platform: str
    external_id: str
    kind: UploadKind
    edition: str
    visibility: Visibility
    mode: PublicationMode | None = None
    title: str
    text: str
    state: UploadState
    attempts: int
    retries: int = 0
    last_error: str | None = None
    errors: list[AttemptError] = Field(default_factory=list)
    next_attempt_at: datetime | None = None
    email: EmailRecord | None = None
    receipt: Receipt | None = None
    callback: Callback | None = Field(
        default=None,
        description="a letter taken by hand: how and when the office told the writer",
    )
    sent_at: datetime | None = None
    downgrade: Downgrade | None = None
    findings: list[Finding] = Field(default_factory=list)
    redacted: bool
    takedown_required: bool = Field(
        default=False,
        description="published online before a lock or mark arrived: remove it on the platform",
    )
    archived: bool
    version: int
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @classmethod
    def of(cls, upload: UploadDoc) -> UploadRead:
        """From the stored upload."""
        return cls.model_validate(upload.model_dump(exclude={"claimed_by", "claim_until", "parts"}))


def _stripped(value: str) -> str:
    value = value.strip()
    if len(value) < 2:
        raise ValueError("say what the writer was told (at least 2 characters)")
    return value


class CallbackIn(BaseModel):
    """The office told the writer of a letter taken by hand (phone, visit…) their answer."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "channel": "phone",
                    "at": "2026-10-20T10:30:00+08:00",
                    "note": "电话告知来信人不予受理的理由（属诉讼程序处理事项），来信人表示知悉。",
                    "reference": "来电登记 RX-2026-0142",
                }
            ]
        },
    )

    channel: CallbackChannel
    at: Instant = Field(description="when the writer was told (not in the future)")
    note: Annotated[str, AfterValidator(_stripped)] = Field(
        max_length=2000, description="what the writer was told, and how they took it"
    )
    reference: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="a call record, a registered-post number, or similar",
    )


class UploadPage(Page[UploadRead]):
    """A page of uploads, newest first."""
