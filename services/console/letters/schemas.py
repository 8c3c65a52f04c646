"""What the pages read of routing's answers: the parts they show, unknown fields ignored.

Routing decides what each person may see; a field it withholds arrives null (or absent)
and the page shows that it is withheld, never anything else.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


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
