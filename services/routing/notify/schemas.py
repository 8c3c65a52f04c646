"""Requests and responses of a unit's inbox and webhook."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, UrlConstraints

from shared.paging import Page

NoticeKind = Annotated[str, Field(pattern=r"^[a-z_]{1,32}\.[a-z_]{1,32}$")]


WebhookUrl = Annotated[HttpUrl, UrlConstraints(max_length=2048, allowed_schemes=["http", "https"])]


class WebhookPut(BaseModel):
    """Where to POST the unit's notices and the secret to sign them with."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "url": "https://oa.example.gov.cn/hooks/mailbox",
                    "secret": "a-long-random-shared-secret",
                    "events": [],
                    "version": None,
                }
            ]
        },
    )

    url: WebhookUrl
    secret: str = Field(min_length=16, max_length=256, description="the HMAC-SHA256 key")
    events: list[NoticeKind] = Field(
        default_factory=list, max_length=30, description="kinds to send; empty: every notice"
    )
    version: int | None = Field(
        default=None, ge=1, description="the version read; none when registering the first"
    )


class WebhookRead(BaseModel):
    """The unit's webhook (the secret is never shown again)."""

    unit_id: str
    url: str
    events: list[str]
    active: bool
    version: int
    updated_at: datetime | None = None
    updated_by: str | None = None


class InboxNotice(BaseModel):
    """A notice for a unit, and whether someone of the unit read it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "ntc_01JDX5Q9Z6M0B6W1B7Q1T3V9KC",
                    "unit_id": "market-order",
                    "kind": "reply.returned",
                    "letter_id": "ltr_01JDX5Q9Z6M0B6W1B7Q1T3V9KC",
                    "payload": {"reason": "perfunctory", "comment": "请补充调查经过。"},
                    "at": "2026-10-14T03:00:00Z",
                    "read_at": None,
                    "read_by": None,
                }
            ]
        }
    )

    id: str
    unit_id: str
    kind: str
    letter_id: str | None = None
    payload: dict[str, Any]
    at: datetime
    read_at: datetime | None = None
    read_by: str | None = None


class Attempt(BaseModel):
    """One try to deliver."""

    n: int
    at: datetime
    url: str | None = None
    status: int | None = None
    error: str | None = None
    duration_ms: float | None = None


class DeliveryRead(BaseModel):
    """A notice on its way to the unit's webhook, with every attempt."""

    id: str
    unit_id: str
    kind: str
    letter_id: str | None = None
    state: Literal["pending", "delivered", "failed"]
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None = None
    delivered_at: datetime | None = None
    last_error: str | None = None
    history: list[Attempt] = Field(default_factory=list)


class InboxPage(Page[InboxNotice]):
    """A page of a unit's inbox, newest first."""
