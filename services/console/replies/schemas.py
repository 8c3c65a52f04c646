"""What the reply panel reads of routing's letter and publishing's preview, and the state
of a form shown again after an error (pure data, unknown fields ignored)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class ReplyParts(BaseModel):
    """The five parts of Art. 29, as routing stores them."""

    unit: str = ""
    handler: str = ""
    investigation: str = ""
    policy_basis: str = ""
    result: str = ""


class Actor(BaseModel):
    name: str = ""


class Review(BaseModel):
    step: str
    decision: str
    comment: str | None = None
    by: Actor | None = None
    at: datetime | None = None


class ReturnRecord(BaseModel):
    reason: str
    comment: str
    new_due: datetime | None = None


class WriterInformed(BaseModel):
    """How and when the unit told the writer the result (Art. 14), as given on submission."""

    channel: str
    at: datetime
    note: str | None = None


class ReplyView(BaseModel):
    """The letter's reply as the chain has it now."""

    revision: int = 1
    parts: ReplyParts = Field(default_factory=ReplyParts)
    proposed_mode: str | None = None
    proposed_reason: str | None = None
    mode: str | None = None
    mode_reason: str | None = None
    submitted_at: datetime | None = None
    writer_informed: WriterInformed | None = None
    approved_at: datetime | None = None
    reviews: list[Review] = Field(default_factory=list)
    returned: ReturnRecord | None = None


class ExtensionView(BaseModel):
    id: str
    reason: str
    extra_working_days: int | None = None
    new_due: datetime | None = None
    status: str = "pending"
    decision_reason: str | None = None


class ReminderView(BaseModel):
    reminder_id: str
    unit_id: str
    answer_due: datetime
    text: str
    answered_at: datetime | None = None


class Span(BaseModel):
    """One mask on the original text: [start, end) becomes `replacement`."""

    start: int
    end: int
    kind: str
    replacement: str


class FieldRedaction(BaseModel):
    original: str
    text: str
    spans: list[Span] = Field(default_factory=list)


class PublicationPreview(BaseModel):
    """Publishing's `LetterPreviewRead`: each field's original, masked text and masks."""

    letter_id: str
    reply_source: str
    fields: dict[str, FieldRedaction]
    leak_scan_passed: bool
    online_allowed: bool
    online_blocks: list[str] = Field(default_factory=list)


@dataclass(frozen=True)
class Segment:
    """A piece of a field: plain text (`kind` None), or a mask's original and replacement."""

    original: str
    masked: str
    kind: str | None = None


@dataclass(frozen=True)
class Missing:
    """A part of the reply that routing would refuse, and why, in words."""

    name: str
    label: str
    why: str


@dataclass
class FormState:
    """A form shown again after the API refused it: which, why, and what was typed."""

    form: str
    status: int
    message: str
    values: dict[str, str] = field(default_factory=dict)
    missing: list[Missing] = field(default_factory=list)
    # The form is no longer on the page (the person may not act now): shown above the forms.
    orphan: bool = False
    # The letter's state when routing refused the action in it (409).
    state: str | None = None

    def value(self, name: str, default: Any = "") -> Any:
        return self.values.get(name, default)
