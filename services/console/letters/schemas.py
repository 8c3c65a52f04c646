"""What the pages read of routing's answers: the parts they show, unknown fields ignored.

Routing decides what each person may see; a field it withholds arrives null (or absent)
and the page shows that it is withheld, never anything else.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from services.console.casework.schemas import (
    AssistRequest,
    ContactAttempt,
    ContactInvalid,
    Decision,
    Handler,
    Referral,
    SensitivityMark,
    Transfer,
)
from services.console.casework.service import Event, events_of
from services.console.replies.schemas import ExtensionView, ReminderView, ReplyView


class Evidence(BaseModel):
    summary: str
    words: list[str] = Field(default_factory=list)


class NatureSuggestion(BaseModel):
    value: str
    confidence: float = 0.0
    reasons: list[Evidence] = Field(default_factory=list)


class ScopeSuggestion(BaseModel):
    accepted: bool
    reason: str | None = None
    confidence: float = 0.0
    reasons: list[Evidence] = Field(default_factory=list)


class CompetenceSuggestion(BaseModel):
    route: str
    lead_unit_id: str | None = None
    assisting_unit_ids: list[str] = Field(default_factory=list)
    recipient_id: str | None = None
    confidence: float = 0.0
    reasons: list[Evidence] = Field(default_factory=list)

    @property
    def target_id(self) -> str | None:
        """The lead unit for 直办, the recipient otherwise."""
        return self.lead_unit_id if self.route == "direct" else self.recipient_id


class SimilarLetter(BaseModel):
    letter_id: str
    similarity: float
    same_writer: bool
    received_at: datetime
    repeat: bool


class Suggestion(BaseModel):
    """The classifier's three suggestions (Art. 12), each with its reasons."""

    nature: NatureSuggestion
    scope: ScopeSuggestion
    competence: CompetenceSuggestion
    similar_letters: list[SimilarLetter] = Field(default_factory=list)


class Person(BaseModel):
    name: str | None = None
    phone: str | None = None
    id_number: str | None = None
    address: str | None = None
    email: str | None = None


class Clock(BaseModel):
    kind: str
    due: datetime
    state: str
    overdue: bool = False
    due_soon: bool = False
    provisional: bool = False


class LetterSummary(BaseModel):
    id: str
    version: int
    state: str
    platform: str
    external_id: str = ""
    title: str | None = None
    nature: str | None = None
    received_at: datetime
    lead_unit_id: str | None = None
    assisting_unit_ids: list[str] = Field(default_factory=list)
    major: bool = False
    locked: bool = False
    not_public: bool = False
    handling_due: datetime | None = None


class LetterRead(LetterSummary):
    """One letter as the person may see it, with what they may do now."""

    allowed_actions: list[str] = Field(default_factory=list)
    text: str | None = None
    person: Person | None = None
    withheld: list[str] = Field(default_factory=list)
    suggestion: Suggestion | None = None
    why: str = ""
    slip: dict[str, Any] | None = None
    clocks: dict[str, Clock] = Field(default_factory=dict)
    # Read by the reply panel (services/console/replies).
    reply: ReplyView | None = None
    extensions: list[ExtensionView] = Field(default_factory=list)
    reminders: list[ReminderView] = Field(default_factory=list)
    # Read by the casework panel and the timeline (`casework.schemas` gives their shape).
    source: str = ""
    decision: Decision | None = None
    handler: Handler | None = None
    contact_attempts: list[ContactAttempt] = Field(default_factory=list)
    contact_invalid: ContactInvalid | None = None
    assist_requests: list[AssistRequest] = Field(default_factory=list)
    sensitivity: SensitivityMark | None = None
    referrals: list[Referral] = Field(default_factory=list)
    transfer: Transfer | None = None

    @property
    def timeline(self) -> list[Event]:
        """The letter's steps as this read shows them, oldest first."""
        return events_of(self)


class WorkItem(BaseModel):
    letter: LetterSummary
    actions: list[str] = Field(default_factory=list)
    clock: str | None = None
    due: datetime | None = None
    overdue: bool = False


class Worklist(BaseModel):
    items: list[WorkItem]
    counts: dict[str, int] = Field(default_factory=dict)
    overdue: int = 0
    truncated: bool = False


class LetterPage(BaseModel):
    items: list[LetterSummary]
    next_cursor: str | None = None


class SearchHit(BaseModel):
    """A letter holding every word searched for (routing's search)."""

    id: str
    title: str = ""
    state: str
    nature: str | None = None
    platform: str | None = None
    unit_id: str | None = None
    unit_name: str | None = None
    received_at: datetime
    snippet: str | None = None
    withheld: list[str] = Field(default_factory=list)


class SearchPage(BaseModel):
    items: list[SearchHit]
    terms: list[str] = Field(default_factory=list)
    next_cursor: str | None = None


class OverdueClock(BaseModel):
    """An open overdue clock, as deadlines lists them."""

    id: str
    letter_id: str
    kind: str
    unit_id: str | None = None
    due: datetime
    provisional: bool = False
    state: str


class ClockPage(BaseModel):
    items: list[OverdueClock]
    next_cursor: str | None = None


class CalendarYear(BaseModel):
    """A year of deadlines' holiday calendar: official, confirmed or provisional."""

    year: int
    status: str


class UnitEntry(BaseModel):
    """A unit of routing's directory, as the filters and forms name it."""

    id: str
    name: str
    kind: str = ""
    active: bool = True
