"""Request and response models of the deadlines API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from services.deadlines.calendar import YearStatus
from services.deadlines.models import ID_PATTERN, UNIT_PATTERN, AssessmentTrigger
from shared.events.vocabulary import ClockKind, ClockState
from shared.paging import Page

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


class OverrideRead(BaseModel):
    """An administrator's correction of one date."""

    day: date
    kind: Literal["holiday", "workday"]
    note: str
    by: str
    at: datetime


class YearConfirmationRead(BaseModel):
    """Who marked a year confirmed (or not), when, citing what."""

    confirmed: bool
    note: str
    by: str
    at: datetime


class CalendarYearRead(BaseModel):
    """One year of the working-day calendar as the service uses it."""

    year: int
    status: YearStatus = Field(description="official (library data), confirmed, or provisional")
    confirmation: YearConfirmationRead | None = None
    overrides: list[OverrideRead]
    holidays_on_weekdays: list[date]
    workdays_on_weekends: list[date]
    recomputed_clocks: int | None = Field(
        default=None, description="after a change: open clocks whose due or mark moved"
    )


class OverrideUpdate(BaseModel):
    """Make one date a holiday or a working day."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"kind": "holiday", "note": "国办发明电〔2026〕X号：1月1日放假"}]
        },
    )

    kind: Literal["holiday", "workday"]
    note: str = Field(min_length=1, max_length=500, description="the source notice")


class YearUpdate(BaseModel):
    """Mark a year's calendar confirmed by the State Council's notice (or withdraw it)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"confirmed": True, "note": "国办发明电〔2026〕X号"}]},
    )

    confirmed: bool
    note: str = Field(min_length=1, max_length=500)


class ClockControl(BaseModel):
    """Move the service's time (demo and end-to-end tests only)."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"advance_s": 86400}]}
    )

    set_to: AwareDatetime | None = Field(default=None, description="an instant with offset")
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
