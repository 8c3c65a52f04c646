"""What the operations pages read of the services' administration APIs (unknown fields
ignored)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field


class UserRow(BaseModel):
    id: str
    name: str
    role: str
    unit_id: str | None = None
    active: bool = True
    version: int
    has_password: bool = False
    must_change_password: bool = False
    failed_sign_ins: int = 0
    locked_at: datetime | None = None
    locked_until: datetime | None = None

    @property
    def locked(self) -> bool:
        return self.locked_at is not None


class UserPage(BaseModel):
    items: list[UserRow]
    next_cursor: str | None = None


class UnitRow(BaseModel):
    id: str
    name: str
    kind: str = ""
    topics: list[str] = Field(default_factory=list)
    keywords: list[str] = Field(default_factory=list)
    aliases: list[str] = Field(default_factory=list)
    sample: bool = False
    active: bool = True
    version: int = 1


class UnitPage(BaseModel):
    items: list[UnitRow]
    next_cursor: str | None = None


class Override(BaseModel):
    day: date
    kind: str
    note: str
    by: str = ""
    at: datetime | None = None


class Confirmation(BaseModel):
    confirmed: bool
    note: str
    by: str = ""
    at: datetime | None = None


class CalendarYear(BaseModel):
    year: int
    status: str
    confirmation: Confirmation | None = None
    overrides: list[Override] = Field(default_factory=list)
    holidays_on_weekdays: list[date] = Field(default_factory=list)
    workdays_on_weekends: list[date] = Field(default_factory=list)
    recomputed_clocks: int | None = None


class RulesRead(BaseModel):
    rules: dict[str, Any]
    updated_at: datetime | None = None
    updated_by: dict[str, Any] | None = None


class QuarantineRow(BaseModel):
    id: str
    platform: str
    external_id: str | None = None
    reason: str
    status: str
    raw_size: int = 0
    quarantined_at: datetime
    resolution: dict[str, Any] | None = None


class QuarantineItem(QuarantineRow):
    """One item; its bytes for the office, withheld from the admin (`withheld` says so)."""

    raw_text: str | None = None
    raw_truncated: bool = False
    withheld: list[str] = Field(default_factory=list)


class Reprocessed(BaseModel):
    outcome: str
    letter_id: str


class QuarantinePage(BaseModel):
    items: list[QuarantineRow]
    next_cursor: str | None = None


class UploadRow(BaseModel):
    id: str
    letter_id: str
    platform: str
    kind: str
    state: str
    attempts: int = 0
    retries: int = 0
    last_error: str | None = None
    next_attempt_at: datetime | None = None
    findings: list[dict[str, Any]] = Field(default_factory=list)


class UploadPage(BaseModel):
    items: list[UploadRow]
    next_cursor: str | None = None


class Health(BaseModel):
    """One service's liveness and readiness as the console reached them."""

    service: str
    alive: bool
    ready: bool
    status: int | None = None
    checks: dict[str, bool] = Field(default_factory=dict)


class DeadLetterRow(BaseModel):
    """A parked event as a service lists it: its type, ids and reason, never its payload."""

    message_id: str | None = None
    type: str | None = None
    letter_id: str | None = None
    attempts: int = 0
    reason: str = ""
    parked_at: datetime | None = None


class DeadLetters(BaseModel):
    """One service's dead-letter queue as the console reached it (`error`: why not)."""

    service: str
    queue: str = ""
    count: int = 0
    items: list[DeadLetterRow] = Field(default_factory=list)
    error: str | None = None
    status: int | None = None
