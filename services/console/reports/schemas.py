"""What the report pages read of deadlines' monthly report and annual summary."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class Period(BaseModel):
    kind: str
    label: str
    start: datetime
    end: datetime


class ClockStats(BaseModel):
    due: int = 0
    met: int = 0
    overdue: int = 0
    open: int = 0
    stopped: int = 0
    on_time_rate: float | None = None


class LetterCounts(BaseModel):
    total: int = 0
    by_platform: dict[str, int] = Field(default_factory=dict)
    by_source: dict[str, int] = Field(default_factory=dict)
    by_nature: dict[str, int] = Field(default_factory=dict)
    by_scope: dict[str, int] = Field(default_factory=dict)
    not_accepted_by_reason: dict[str, int] = Field(default_factory=dict)
    by_route: dict[str, int] = Field(default_factory=dict)
    by_unit: dict[str, int] = Field(default_factory=dict)


class UnitRow(BaseModel):
    unit_id: str
    unit_name: str
    letters: int = 0
    letters_led: int = 0
    letters_assisted: int = 0
    clocks: ClockStats = Field(default_factory=ClockStats)
    handling: ClockStats = Field(default_factory=ClockStats)
    extensions_approved: int = 0
    reminders: int = 0
    returns: int = 0
    deduction_items: int = 0
    deduction_points: float = 0.0
    score: float | None = None


class Report(BaseModel):
    """The monthly report or the annual summary (deadlines owns both)."""

    period: Period
    generated_at: datetime
    letters: LetterCounts
    on_time_by_kind: dict[str, ClockStats] = Field(default_factory=dict)
    extensions: dict[str, int] = Field(default_factory=dict)
    reminders: dict[str, int] = Field(default_factory=dict)
    returns: dict[str, int] = Field(default_factory=dict)
    deductions: dict[str, float] = Field(default_factory=dict)
    publication_modes: dict[str, int] = Field(default_factory=dict)
    units: list[UnitRow] = Field(default_factory=list)
    base_points: float | None = None
