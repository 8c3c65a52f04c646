"""Request and response models of the administered calendar."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from services.deadlines.calendar.working_days import YearStatus


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
