"""Request and response models of the clocks, the sweep and the clock control."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from shared.events.vocabulary import ClockKind, ClockState
from shared.paging import Page
from shared.validation import Instant

_EXAMPLE_DUE = "2026-10-16T23:59:59+08:00"


class TimeLeft(BaseModel):
    """Time left on an open clock (negative when overdue)."""

    working_days: int = Field(description="working days after today up to the due day")
    hours: float = Field(description="hours until the due instant")


class HistoryRead(BaseModel):
    """One change of a clock."""

    at: datetime
    action: str
    by: str
    role: str
    why: str
    due: datetime
    provisional: bool
    state: ClockState


class ClockRead(BaseModel):
    """A statutory clock."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "ltr_01JX.handling",
                    "letter_id": "ltr_01JX",
                    "kind": "handling",
                    "kind_zh": "办理",
                    "unit_id": "unit_market",
                    "start": "2026-09-30T08:00:00Z",
                    "working_days": 10,
                    "due": _EXAMPLE_DUE,
                    "provisional": False,
                    "state": "running",
                    "time_left": {"working_days": 3, "hours": 80.5},
                }
            ]
        }
    )

    id: str
    letter_id: str
    kind: ClockKind
    kind_zh: str
    unit_id: str | None
    start: datetime
    working_days: int
    due: datetime
    provisional: bool
    state: ClockState
    closed_at: datetime | None = None
    overdue_at: datetime | None = None
    due_soon_at: datetime | None = None
    awaiting_extension_decision: bool = False
    pending_extensions: list[str] = Field(default_factory=list)
    reminders: list[str] = Field(default_factory=list)
    reminder_id: str | None = None
    time_left: TimeLeft | None = None
    history: list[HistoryRead] = Field(default_factory=list)


ClockPage = Page[ClockRead]


class ClockControl(BaseModel):
    """Move the service's time (demo and end-to-end tests only)."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"advance_s": 86400}]}
    )

    set_to: Instant | None = Field(default=None, description="an instant with offset")
    advance_s: float | None = Field(default=None, ge=0, le=10 * 366 * 86400)


class SweepRead(BaseModel):
    """What a sweep did."""

    now: datetime | None
    recomputed: int
    due_soon: int
    overdue: int
    follow_ups: int
    calendar_reloaded: bool
    errors: list[str]


class ClockControlRead(BaseModel):
    """The service's time after the move, and the sweep it triggered."""

    now: datetime
    sweep: SweepRead
