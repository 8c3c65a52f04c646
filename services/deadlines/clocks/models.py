"""Stored clocks of the deadlines service and how their ids are made.

Ids are derived from what caused a document (letter, stage, reply revision,
reminder), so the document an event creates is the same however often the event
is delivered: a second insert is a duplicate key and a no-op.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.events.vocabulary import ClockKind, ClockState

PRODUCER = "deadlines"


ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,199}$"


UNIT_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"


FollowUp = Literal["reminder", "assessment"]


TimerKind = Literal["due", "due_soon"]


# The clocks that concern a unit (its handling, its answer to a reminder); the
# others concern the office itself and never raise a reminder.
UNIT_KINDS = frozenset({ClockKind.handling, ClockKind.reminder_answer})


def acceptance_clock_id(letter_id: str) -> str:
    """One acceptance clock per letter."""
    return f"{letter_id}.acceptance"


def handling_clock_id(letter_id: str) -> str:
    """One handling clock per letter (a returned reply reopens it)."""
    return f"{letter_id}.handling"


def upload_clock_id(letter_id: str, *, reply_id: str, revision: int) -> str:
    """One upload clock per submitted reply revision."""
    return f"{letter_id}.upload.{reply_id}.{revision}"


def answer_clock_id(reminder: str) -> str:
    """The clock of the unit's answer to a reminder."""
    return f"{reminder}.answer"


@dataclass(frozen=True)
class Timer:
    """One wake-up of one clock: at its due, or when its due-soon notice is to go out."""

    clock_id: str
    kind: TimerKind
    at: datetime


class Adjustment(BaseModel):
    """An approved extension or a due set by the office, applied in order."""

    model_config = ConfigDict(frozen=True)

    source: str = Field(description="extension id, or the returned reply's revision")
    extra_working_days: int | None = None
    new_due: datetime | None = None
    at: datetime


class HistoryEntry(BaseModel):
    """One change of a clock: what, when, by whom, why, and the resulting due and state."""

    model_config = ConfigDict(frozen=True)

    at: datetime
    action: str
    by: str
    role: str
    why: str = ""
    due: datetime
    provisional: bool
    state: ClockState
    event_id: str | None = None


class PendingExtension(BaseModel):
    """An extension request made before the due and not decided yet."""

    model_config = ConfigDict(frozen=True)

    extension_id: str
    requested_at: datetime


class ClockDoc(BaseModel):
    """A statutory clock as stored."""

    model_config = ConfigDict(extra="ignore")

    id: str = Field(alias="_id")
    letter_id: str
    kind: ClockKind
    unit_id: str | None = None
    start: datetime
    base_working_days: int
    working_days: int
    adjustments: list[Adjustment] = Field(default_factory=list)
    due: datetime
    provisional: bool
    due_soon_at: datetime | None = None
    due_soon_sent: bool = False
    state: ClockState
    closed_at: datetime | None = None
    overdue_at: datetime | None = None
    awaiting_decision: bool = False
    pending_extensions: list[PendingExtension] = Field(default_factory=list)
    follow_up: FollowUp | None = None
    # A reminder's answer clock: recording its deduction began (set before the item is
    # written). It stands from then on: an answer closing the clock by its due either
    # lands before this (and nothing is deducted) or finds it and closes late.
    deduction_committed: bool = False
    reminders: list[str] = Field(default_factory=list)
    reminder_id: str | None = None
    calendar_version: int = 0
    history: list[HistoryEntry] = Field(default_factory=list)
    version: int = 1

    @classmethod
    def of(cls, doc: dict[str, Any]) -> ClockDoc:
        """Parse a stored document."""
        return cls.model_validate(doc)

    @property
    def is_open(self) -> bool:
        """Running, or overdue and not closed yet."""
        return self.closed_at is None and self.state in (ClockState.running, ClockState.overdue)
