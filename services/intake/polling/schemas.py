"""Response models of the platforms API: status and poll results (instants in UTC)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


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
