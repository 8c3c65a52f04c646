"""Stored reminders (催办) and deduction items (考核扣分), and how their ids are made.

A reminder's id is derived from the overdue clock that raised it, and the deduction for
an unanswered reminder from the reminder, so a repeated follow-up writes nothing new.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

AssessmentKind = Literal["reminder_unanswered", "wrong_publication_mode", "manual"]


# Art. 28 deducts a wrongly confirmed publication mode only once it drew a superior's
# criticism (上级单位通报批评) or had a negative social impact (造成社会负面影响).
AssessmentTrigger = Literal["superior_criticism", "negative_social_impact"]


def reminder_id(clock_id: str, *, number: int) -> str:
    """The `number`-th reminder raised by one overdue clock."""
    return f"{clock_id}.reminder{number}"


def assessment_item_id(reminder: str) -> str:
    """The deduction for an unanswered reminder (at most one per reminder)."""
    return f"{reminder}.deduction"


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
