"""Normalised letter models every platform client returns, and the reference API's
upload schemas (the body a platform accepts and the receipt it answers with)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

UploadKind = Literal["reply", "not_accepted", "transfer"]
Visibility = Literal["public", "private"]

MAX_UPLOAD_TITLE_CHARS = 500
MAX_UPLOAD_TEXT_CHARS = 100_000
MAX_IDEMPOTENCY_KEY_CHARS = 200
MAX_EXTERNAL_ID_CHARS = 128


class PersonData(BaseModel):
    """The writer's personal data as the platform gave it (every field optional)."""

    model_config = ConfigDict(frozen=True)

    name: str | None = None
    phone: str | None = None
    id_number: str | None = None
    address: str | None = None
    email: str | None = None


class PlatformAttachment(BaseModel):
    """A file the writer attached; the platform keeps the bytes, we keep the reference."""

    model_config = ConfigDict(frozen=True)

    name: str
    url: str | None = None


class PlatformLetter(BaseModel):
    """One valid letter as read from a platform, mapped to our field names."""

    model_config = ConfigDict(frozen=True)

    external_id: str
    title: str
    text: str
    submitted_at: AwareDatetime
    person: PersonData = Field(default_factory=PersonData)
    # The record exactly as received (parsed JSON), with the platform's own field names.
    raw: dict[str, Any]
    attachments: list[PlatformAttachment] = Field(default_factory=list)


class MalformedRecord(BaseModel):
    """A record that failed validation: kept whole, with the reason, for quarantine."""

    model_config = ConfigDict(frozen=True)

    external_id: str | None
    reason: str
    # The record's JSON bytes (re-serialised from the page: compact, UTF-8, keys in order).
    raw: bytes


class PollPage(BaseModel):
    """One page of a platform's feed after a cursor."""

    model_config = ConfigDict(frozen=True)

    letters: list[PlatformLetter]
    malformed: list[MalformedRecord]
    # None when the platform gave no cursor (an empty feed): keep the cursor you had.
    next_cursor: str | None
    has_more: bool


class Upload(BaseModel):
    """What the office sends back to a platform about one letter."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    external_id: str = Field(min_length=1, max_length=MAX_EXTERNAL_ID_CHARS)
    kind: UploadKind
    visibility: Visibility
    title: str = Field(min_length=1, max_length=MAX_UPLOAD_TITLE_CHARS)
    text: str = Field(min_length=1, max_length=MAX_UPLOAD_TEXT_CHARS)
    # Same key, same body: the platform answers with the first upload, never stores two.
    idempotency_key: str = Field(min_length=1, max_length=MAX_IDEMPOTENCY_KEY_CHARS)

    def body(self) -> UploadBody:
        """The request body of the reference API (the key travels as a header)."""
        return UploadBody(
            external_id=self.external_id,
            kind=self.kind,
            visibility=self.visibility,
            title=self.title,
            text=self.text,
        )


class UploadReceipt(BaseModel):
    """The platform's answer to an upload."""

    model_config = ConfigDict(frozen=True)

    upload_id: str
    # True when the platform already had this upload under the same key (a retry).
    duplicate: bool
    received_at: AwareDatetime


class UploadBody(BaseModel):
    """Reference API: body of `POST /uploads` (header `Idempotency-Key` carries the key)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    external_id: str = Field(min_length=1, max_length=MAX_EXTERNAL_ID_CHARS)
    kind: UploadKind
    visibility: Visibility
    title: str = Field(min_length=1, max_length=MAX_UPLOAD_TITLE_CHARS)
    text: str = Field(min_length=1, max_length=MAX_UPLOAD_TEXT_CHARS)


class UploadResult(BaseModel):
    """Reference API: answer of `POST /uploads` (201 first time, 200 for a repeat)."""

    model_config = ConfigDict(frozen=True)

    upload_id: str
    duplicate: bool
    received_at: datetime


class ErrorDetail(BaseModel):
    """Reference API: what an error response carries."""

    code: str
    message: str


class ErrorBody(BaseModel):
    """Reference API: every 4xx/5xx body is `{"error": {"code", "message"}}`."""

    error: ErrorDetail
