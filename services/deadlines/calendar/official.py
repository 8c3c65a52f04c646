"""Mainland China's working days as the `holidays` package knows them, cached per year."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date

from holidays.countries.china import China, ChinaStaticHolidays

# The library checks its China data against the State Council notices from 2001 on, and its
# lunisolar tables stop after 2100: outside these years it would answer with silent guesses.
MIN_YEAR = 2001
MAX_YEAR = 2100


@dataclass(frozen=True, slots=True)
class LibraryYear:
    """One year of the library's calendar: days off on weekdays, working days on weekends."""

    year: int
    weekday_holidays: frozenset[date]
    weekend_workdays: frozenset[date]

    def is_working_day(self, day: date) -> bool:
        """Whether the library counts `day` (in this year) as a working day."""
        if day.weekday() >= 5:
            return day in self.weekend_workdays
        return day not in self.weekday_holidays


@functools.cache
def official_years() -> frozenset[int]:
    """Years for which the library holds the State Council's yearly holiday notice."""
    # The notice's 调休 swaps are what the library cannot project; a year has official data
    # exactly when its table of substituted days exists.
    return frozenset(
        year for year in ChinaStaticHolidays.special_public_holidays if MIN_YEAR <= year <= MAX_YEAR
    )


def check_year(year: int) -> None:
    """Refuse a year the library has no trustworthy data or projection for."""
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValueError(f"year {year} is outside the supported range {MIN_YEAR}..{MAX_YEAR}")


@functools.cache
def library_year(year: int) -> LibraryYear:
    """The library's holidays and 调休 working days of `year` (cached: the data never changes)."""
    check_year(year)
    # A notice may move a working day into the previous year (2002's New Year swap made
    # 2001-12-29 a working Saturday), so the next year is populated too.
    # China.__init__ forwards untyped **kwargs; the instance itself is typed.
    china = China(years=(year, year + 1) if year < MAX_YEAR else year)  # type: ignore[no-untyped-call]
    weekday_holidays = frozenset(day for day in china if day.year == year and day.weekday() < 5)
    weekend_workdays = frozenset(day for day in china.weekend_workdays if day.year == year)
    return LibraryYear(
        year=year, weekday_holidays=weekday_holidays, weekend_workdays=weekend_workdays
    )
