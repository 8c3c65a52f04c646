"""Request and response models of reminders, their answers, deductions and scores."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from services.deadlines.clocks.models import ID_PATTERN, UNIT_PATTERN
from services.deadlines.supervision.models import AssessmentTrigger
from shared.paging import Page


class ReminderAnswerRead(BaseModel):
    """A unit's answer to a reminder."""

    text: str
    answered_at: datetime
    by: str
    by_name: str
    in_time: bool


class ReminderRead(BaseModel):
    """A reminder (催办) and its answer."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "ltr_01JX.handling.reminder1",
                    "letter_id": "ltr_01JX",
                    "clock_id": "ltr_01JX.handling",
                    "unit_id": "unit_market",
                    "issued_at": "2026-10-17T00:00:00Z",
                    "answer_due": "2026-10-19T23:59:59+08:00",
                    "text": "催办：来信 ltr_01JX 的办理已超过期限……",
                    "answered": False,
                    "answer": None,
                }
            ]
        }
    )

    id: str
    letter_id: str
    clock_id: str
    unit_id: str
    issued_at: datetime
    answer_due: datetime
    text: str
    answered: bool
    answer: ReminderAnswerRead | None = None


ReminderPage = Page[ReminderRead]


class ReminderAnswerCreate(BaseModel):
    """The unit's answer to a reminder."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"text": "已联系来信人，答复稿正在审核，明日提交。"}]},
    )

    text: str = Field(min_length=1, max_length=2000)


class AnnulmentRead(BaseModel):
    """Who annulled a deduction item, when and why."""

    by: str
    by_name: str = ""
    at: datetime
    reason: str


class AssessmentItemRead(BaseModel):
    """A deduction item (考核扣分); an annulled one counts in no score or report."""

    id: str
    unit_id: str
    kind: Literal["reminder_unanswered", "wrong_publication_mode", "manual"]
    points: float
    year: int
    reason: str
    trigger: AssessmentTrigger | None = Field(
        default=None, description="wrong_publication_mode: what made it a deduction (Art. 28)"
    )
    letter_id: str | None = None
    reminder_id: str | None = None
    recorded_at: datetime
    recorded_by: str
    annulled: AnnulmentRead | None = None


AssessmentPage = Page[AssessmentItemRead]


class LetterSupervisionRead(BaseModel):
    """The reminders of a letter with the units' answers, and its deduction items."""

    letter_id: str
    reminders: list[ReminderRead]
    assessment_items: list[AssessmentItemRead]


class AssessmentCreate(BaseModel):
    """A deduction the office records (Art. 28 wrong publication mode, or manual)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "unit_id": "unit_market",
                    "kind": "wrong_publication_mode",
                    "trigger": "superior_criticism",
                    "reason": "网上发布了应不公开的答复，被市政府通报批评（第二十八条）",
                    "letter_id": "ltr_01JX",
                }
            ]
        },
    )

    unit_id: str = Field(pattern=UNIT_PATTERN)
    kind: Literal["wrong_publication_mode", "manual"]
    reason: str = Field(min_length=1, max_length=1000)
    trigger: AssessmentTrigger | None = Field(
        default=None,
        description="wrong_publication_mode only, and required there (Art. 28): the mode drew"
        " a superior's criticism (上级单位通报批评) or had a negative social impact"
        " (造成社会负面影响)",
    )
    letter_id: str = Field(
        pattern=ID_PATTERN,
        description="the letter the unit handled (wrong_publication_mode: as its lead unit):"
        " a deduction is about one (Art. 27, 28)",
    )
    points: float | None = Field(
        default=None, gt=0, le=100, description="default: the configured weight of the kind"
    )


class AssessmentAnnul(BaseModel):
    """Why a deduction item is annulled (wrongly recorded, or its basis is gone)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"reason": "国办发明电〔2026〕X号调休后该日为工作日，催办反馈未超期"}]
        },
    )

    reason: str = Field(min_length=1, max_length=1000)


class UnitScoreRead(BaseModel):
    """A unit's score for a year."""

    unit_id: str
    unit_name: str | None = None
    score: float
    deducted: float
    items: int


class ScoresRead(BaseModel):
    """Scores of a year: the base minus each unit's deductions."""

    year: int
    base_points: float
    units: list[UnitScoreRead]
