"""The working-day calendar of mainland China and the product's deadline counting rule.

Counting rule (requirements.md): the start instant is read in Asia/Shanghai; the start day
never counts; day 1 is the first working day after the start date; the deadline falls at
close of business (23:59:59 unless configured) on day N.
"""

from __future__ import annotations

import threading
from bisect import bisect_right
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from services.deadlines.calendar.official import (
    MAX_YEAR,
    MIN_YEAR,
    check_year,
    library_year,
    official_years,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEFAULT_CLOSE_OF_BUSINESS = time(23, 59, 59)
# The longest statutory clock is 10 working days; a year of them leaves room for extensions
# while still catching a unit mistake (calendar days, minutes) at the boundary.
MAX_WORKING_DAYS = 365
# Covers the letters the system holds at launch; other years load on first use.
DEFAULT_YEARS = range(2019, 2029)
# A deadline of MAX_WORKING_DAYS working days ends well within two calendar years.
_LOOKAHEAD_YEARS = 2

YearStatus = Literal["official", "confirmed", "provisional"]


class DayOverride(BaseModel):
    """An administrator's correction of one date, with the notice it comes from."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    day: date
    kind: Literal["holiday", "workday"]
    note: str = Field(min_length=1, description="Text or reference of the source notice.")


@dataclass(frozen=True, slots=True)
class Due:
    """When a clock falls due, and whether an unconfirmed year took part in the count."""

    due: datetime
    provisional: bool


@dataclass(frozen=True, slots=True)
class _Span:
    """Sorted ordinals of the working days in the whole years first_year..last_year."""

    first_year: int
    last_year: int
    first_ordinal: int
    last_ordinal: int
    working: tuple[int, ...]


def _year_bounds(first_year: int, last_year: int) -> tuple[int, int]:
    return date(first_year, 1, 1).toordinal(), date(last_year, 12, 31).toordinal()


def _check_working_days(working_days: int) -> None:
    if isinstance(working_days, bool) or not isinstance(working_days, int):
        raise TypeError(f"working_days must be an int, not {type(working_days).__name__}")
    if not 1 <= working_days <= MAX_WORKING_DAYS:
        raise ValueError(
            f"working_days must be between 1 and {MAX_WORKING_DAYS}, got {working_days}"
        )


def _check_plain_date(day: date) -> None:
    # A datetime is a date too; taking its date part would silently ignore its offset.
    if isinstance(day, datetime) or not isinstance(day, date):
        raise TypeError(f"expected a date, got {type(day).__name__}")


def local_date(moment: datetime) -> date:
    """The calendar date of an aware instant in Asia/Shanghai; naive datetimes are refused."""
    if not isinstance(moment, datetime):
        raise TypeError(f"expected a datetime, got {type(moment).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(
            f"naive datetime {moment.isoformat()} refused: give an offset, e.g. +08:00"
        )
    return moment.astimezone(SHANGHAI).date()


class WorkingCalendar:
    """Working days of mainland China: library data, overrides and confirmed years.

    A value: built once from data and never changed; a new override or confirmation means
    building a new calendar. Years outside the precomputed range are added on first use,
    which changes speed only, never an answer.
    """

    __slots__ = (
        "_close_of_business",
        "_confirmed_years",
        "_lock",
        "_overrides",
        "_settled_years",
        "_span",
        "_year_working",
    )

    def __init__(
        self,
        overrides: dict[date, DayOverride],
        *,
        confirmed_years: frozenset[int],
        close_of_business: time,
        years: range,
    ) -> None:
        self._overrides = overrides
        self._confirmed_years = confirmed_years
        self._settled_years = official_years() | confirmed_years
        self._close_of_business = close_of_business
        self._lock = threading.Lock()
        self._year_working: dict[int, tuple[int, ...]] = {}
        self._span = self._build_span(years.start, years.stop - 1)

    @classmethod
    def build(
        cls,
        *,
        overrides: Sequence[DayOverride] = (),
        confirmed_years: Collection[int] = (),
        close_of_business: time = DEFAULT_CLOSE_OF_BUSINESS,
        years: range | None = None,
    ) -> WorkingCalendar:
        """Build a calendar; a later override of the same day replaces an earlier one."""
        if close_of_business.tzinfo is not None:
            raise ValueError("close_of_business is a local Asia/Shanghai time: give no tzinfo")
        by_day: dict[date, DayOverride] = {}
        for override in overrides:
            check_year(override.day.year)
            by_day[override.day] = override
        for year in confirmed_years:
            check_year(year)
        span = DEFAULT_YEARS if years is None else years
        if len(span) == 0 or span.step != 1:
            raise ValueError(f"years must be a non-empty range with step 1, got {span!r}")
        check_year(span.start)
        check_year(span.stop - 1)
        return cls(
            by_day,
            confirmed_years=frozenset(confirmed_years),
            close_of_business=close_of_business,
            years=span,
        )

    # -- what the calendar was built from ------------------------------------------------

    @property
    def overrides(self) -> tuple[DayOverride, ...]:
        """The overrides in force, in date order."""
        return tuple(self._overrides[day] for day in sorted(self._overrides))

    @property
    def confirmed_years(self) -> frozenset[int]:
        """Years an administrator confirmed (official library years are not listed here)."""
        return self._confirmed_years

    @property
    def close_of_business(self) -> time:
        """Local time of day at which a deadline falls."""
        return self._close_of_business

    def year_status(self, year: int) -> YearStatus:
        """Whether `year` is backed by the library's official data, a confirmation, or neither."""
        if year in official_years():
            return "official"
        if year in self._confirmed_years:
            return "confirmed"
        return "provisional"

    # -- days ----------------------------------------------------------------------------

    def is_working_day(self, day: date) -> bool:
        """Whether `day` is a working day."""
        _check_plain_date(day)
        ordinal = day.toordinal()
        working = self._covering(ordinal).working
        index = bisect_right(working, ordinal)
        return index > 0 and working[index - 1] == ordinal

    def add_working_days(self, start_date: date, working_days: int) -> date:
        """The `working_days`-th working day after `start_date` (which itself never counts)."""
        _check_plain_date(start_date)
        _check_working_days(working_days)
        return date.fromordinal(self._nth_after(start_date.toordinal(), working_days))

    def working_days_between(self, first: date, last: date) -> int:
        """Working days after `first` up to and including `last`; negative if `last` is earlier.

        So `working_days_between(d, add_working_days(d, n)) == n`, and the working days left
        on a clock are `working_days_between(today, due_date)`.
        """
        _check_plain_date(first)
        _check_plain_date(last)
        low, high = sorted((first.toordinal(), last.toordinal()))
        self._covering(low)
        working = self._covering(high).working
        count = bisect_right(working, high) - bisect_right(working, low)
        return count if last >= first else -count

    def any_provisional(self, first: date, last: date) -> bool:
        """Whether any day from `first` to `last` (inclusive) lies in a provisional year."""
        _check_plain_date(first)
        _check_plain_date(last)
        settled = self._settled_years
        return any(year not in settled for year in range(first.year, last.year + 1))

    # -- instants ------------------------------------------------------------------------

    def due(self, start: datetime, *, working_days: int) -> Due:
        """When a clock of `working_days` working days started at `start` falls due."""
        # The hot path of the deadlines service: checks are inlined rather than delegated.
        if not isinstance(start, datetime) or start.tzinfo is None or start.utcoffset() is None:
            local_date(start)  # raises the one clear error
        if type(working_days) is not int or not 1 <= working_days <= MAX_WORKING_DAYS:
            _check_working_days(working_days)
        start_ordinal = start.astimezone(SHANGHAI).toordinal()
        due_ordinal = self._nth_after(start_ordinal, working_days)
        due_day = date.fromordinal(due_ordinal)
        settled = self._settled_years
        first_year = date.fromordinal(start_ordinal + 1).year
        if first_year == due_day.year:
            provisional = first_year not in settled
        else:
            provisional = any(y not in settled for y in range(first_year, due_day.year + 1))
        return Due(
            due=datetime.combine(due_day, self._close_of_business, tzinfo=SHANGHAI),
            provisional=provisional,
        )

    def close_of_business_on(self, day: date) -> datetime:
        """The instant a deadline falling on `day` is due."""
        _check_plain_date(day)
        return datetime.combine(day, self._close_of_business, tzinfo=SHANGHAI)

    def next_working_day_start(self, moment: datetime) -> datetime:
        """Midnight (Asia/Shanghai) starting the first working day after `moment`'s local date."""
        ordinal = local_date(moment).toordinal()
        day = date.fromordinal(self._nth_after(ordinal, 1))
        return datetime.combine(day, time(0), tzinfo=SHANGHAI)

    # -- precomputed working days -----------------------------------------------------------

    def _nth_after(self, ordinal: int, n: int) -> int:
        span = self._span
        if not span.first_ordinal <= ordinal <= span.last_ordinal:
            span = self._covering(ordinal)
        working = span.working
        index = bisect_right(working, ordinal) + n - 1
        while index >= len(working):
            if span.last_year >= MAX_YEAR:
                raise ValueError(
                    f"the deadline would fall after {MAX_YEAR}, beyond the supported years"
                )
            span = self._extend(span.first_year, min(span.last_year + _LOOKAHEAD_YEARS, MAX_YEAR))
            working = span.working
            index = bisect_right(working, ordinal) + n - 1
        return working[index]

    def _covering(self, ordinal: int) -> _Span:
        span = self._span
        if span.first_ordinal <= ordinal <= span.last_ordinal:
            return span
        year = date.fromordinal(ordinal).year
        check_year(year)
        return self._extend(
            min(span.first_year, year), max(span.last_year, year + _LOOKAHEAD_YEARS - 1)
        )

    def _extend(self, first_year: int, last_year: int) -> _Span:
        with self._lock:
            span = self._span
            # Another thread may have extended it while this one waited.
            if span.first_year <= first_year and last_year <= span.last_year:
                return span
            span = self._build_span(
                min(first_year, span.first_year), min(max(last_year, span.last_year), MAX_YEAR)
            )
            self._span = span
            return span

    def _build_span(self, first_year: int, last_year: int) -> _Span:
        working: list[int] = []
        for year in range(first_year, last_year + 1):
            working.extend(self._working_ordinals(year))
        first_ordinal, last_ordinal = _year_bounds(first_year, last_year)
        return _Span(first_year, last_year, first_ordinal, last_ordinal, tuple(working))

    def _working_ordinals(self, year: int) -> tuple[int, ...]:
        cached = self._year_working.get(year)
        if cached is not None:
            return cached
        library = library_year(year)
        overrides = self._overrides
        first_ordinal, last_ordinal = _year_bounds(year, year)
        working: list[int] = []
        for ordinal in range(first_ordinal, last_ordinal + 1):
            day = date.fromordinal(ordinal)
            override = overrides.get(day)
            if override is None:
                is_working = library.is_working_day(day)
            else:
                is_working = override.kind == "workday"
            if is_working:
                working.append(ordinal)
        result = tuple(working)
        self._year_working[year] = result
        return result


__all__ = [
    "DEFAULT_CLOSE_OF_BUSINESS",
    "MAX_WORKING_DAYS",
    "MAX_YEAR",
    "MIN_YEAR",
    "SHANGHAI",
    "DayOverride",
    "Due",
    "WorkingCalendar",
    "YearStatus",
    "local_date",
]
