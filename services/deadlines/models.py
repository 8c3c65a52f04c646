"""Stored documents of the deadlines service and how their ids are made.

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
AssessmentKind = Literal["reminder_unanswered", "wrong_publication_mode", "manual"]
# Art. 28 deducts a wrongly confirmed publication mode only once it drew a superior's
# criticism (上级单位通报批评) or had a negative social impact (造成社会负面影响).
AssessmentTrigger = Literal["superior_criticism", "negative_social_impact"]

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


def reminder_id(clock_id: str, *, number: int) -> str:
    """The `number`-th reminder raised by one overdue clock."""
    return f"{clock_id}.reminder{number}"


def answer_clock_id(reminder: str) -> str:
    """The clock of the unit's answer to a reminder."""
    return f"{reminder}.answer"


def assessment_item_id(reminder: str) -> str:
    """The deduction for an unanswered reminder (at most one per reminder)."""
    return f"{reminder}.deduction"


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


class ReminderAnswer(BaseModel):
    """What a unit answered to a reminder."""

    model_config = ConfigDict(frozen=True)

    text: str
    answered_at: datetime
    by: str
    by_name: str = ""
    in_time: bool


class ReminderDoc(BaseModel):
    """A reminder (催办) issued to an overdue unit."""

    model_config = ConfigDict(extra="ignore")

    id: str = Field(alias="_id")
    letter_id: str
    clock_id: str
    unit_id: str
    issued_at: datetime
    answer_due: datetime
    answer_clock_id: str
    text: str
    answered: bool = False
    answer: ReminderAnswer | None = None
    version: int = 1

    @classmethod
    def of(cls, doc: dict[str, Any]) -> ReminderDoc:
        """Parse a stored document."""
        return cls.model_validate(doc)


class Annulment(BaseModel):
    """Who annulled a deduction item, when and why (the item stays, counting nothing)."""

    model_config = ConfigDict(frozen=True)

    by: str
    by_name: str = ""
    at: datetime
    reason: str


class AssessmentDoc(BaseModel):
    """A deduction item (考核扣分) for a unit."""

    model_config = ConfigDict(extra="ignore")

    id: str = Field(alias="_id")
    unit_id: str
    kind: AssessmentKind
    points: float
    year: int
    reason: str
    trigger: AssessmentTrigger | None = None
    letter_id: str | None = None
    reminder_id: str | None = None
    recorded_at: datetime
    recorded_by: str
    annulled: Annulment | None = None

    @classmethod
    def of(cls, doc: dict[str, Any]) -> AssessmentDoc:
        """Parse a stored document."""
        return cls.model_validate(doc)
