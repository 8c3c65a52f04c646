"""Responses of the archive API (Art. 16): records, pages of them, archiver passes."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from shared.paging import Page


class ArchiveSummary(BaseModel):
    """An archive record in a list."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "letter_id": "ltr_01JDX5Q9Z6M0B6W1B7Q1T3V9KC",
                    "archive_id": "arc_01JE0000000000000000000000",
                    "archived_at": "2026-10-20T02:00:00Z",
                    "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                    "bytes": 18342,
                    "title": "预付卡商家跑路无法退款",
                    "platform": "gov_mailbox",
                    "external_id": "GOV00000001",
                }
            ]
        }
    )

    letter_id: str
    archive_id: str
    archived_at: datetime
    sha256: str
    bytes: int
    title: str
    platform: str | None
    external_id: str | None


class ArchiveRead(ArchiveSummary):
    """One archive record with its content and whether it still matches its checksum."""

    verified: bool
    record: dict[str, Any]


class ArchivePage(Page[ArchiveSummary]):
    """A page of archive records, oldest first."""


class ArchiveOutcomeRead(BaseModel):
    """What an archiving attempt did for one letter."""

    letter_id: str
    status: Literal["archived", "already", "not_ready"]
    reason: str = ""
    archive_id: str | None = None
    sha256: str | None = None


class ArchiveRunRead(BaseModel):
    """The result of one archiver pass."""

    outcomes: list[ArchiveOutcomeRead]
