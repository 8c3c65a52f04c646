"""Request and response models of the quarantine API (UTC instants, `*_local` in Asia/Shanghai)."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.clock import to_shanghai
from shared.mongo import Document
from shared.paging import Page


def _local(at: datetime | None) -> datetime | None:
    return None if at is None else to_shanghai(at)


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

    raw_text: str | None = Field(
        description="the bytes as UTF-8 (undecodable bytes replaced); null when withheld"
    )
    raw_base64: str | None = Field(description="the bytes exactly; null when withheld")
    raw_sha256: str
    withheld: list[str] = Field(
        default_factory=list,
        description="the record's bytes, for a reader who may not see the writer's data (the"
        " admin): the office reads them (Art. 3)",
    )


def quarantine_summary(doc: Document) -> QuarantineSummary:
    """A stored quarantine item as a list item."""
    return QuarantineSummary.model_validate(_quarantine_fields(doc))


def quarantine_read(doc: Document, *, show_writer: bool) -> QuarantineRead:
    """A stored quarantine item in full, or without its bytes (`shared.auth.sees_writer`)."""
    if not show_writer:
        return QuarantineRead.model_validate(
            {
                **_quarantine_fields(doc),
                "raw_text": None,
                "raw_base64": None,
                "raw_sha256": doc["raw_sha256"],
                "withheld": ["raw_text", "raw_base64"],
            }
        )
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
