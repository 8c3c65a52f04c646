"""Properties of the counting rule, checked against a plain day-by-day count."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

import pytest
from holidays.countries.china import China
from hypothesis import given
from hypothesis import strategies as st

from services.deadlines.calendar.official import official_years
from services.deadlines.calendar.working_days import DayOverride, WorkingCalendar

pytestmark = pytest.mark.unit  # needs no server

# Built independently of the code under test: one library instance over all the years, asked
# one day at a time with its own is_working_day.
LIBRARY = China(years=range(2018, 2029))  # type: ignore[no-untyped-call]
SHANGHAI = ZoneInfo("Asia/Shanghai")
CLOSE_OF_BUSINESS = time(23, 59, 59)
CALENDAR = WorkingCalendar.build()

ZONES: list[tzinfo] = [
    UTC,
    SHANGHAI,
    timezone(timedelta(hours=8)),
    timezone(timedelta(hours=-5)),
    timezone(timedelta(hours=14)),
    timezone(timedelta(hours=-12)),
    ZoneInfo("America/New_York"),
]

starts_2019_2026 = st.datetimes(
    min_value=datetime(2019, 1, 1),
    max_value=datetime(2026, 12, 31, 23, 59, 59),
    timezones=st.sampled_from(ZONES),
)
starts_2019_2027 = st.datetimes(
    min_value=datetime(2019, 1, 1),
    max_value=datetime(2027, 12, 31, 23, 59, 59),
    timezones=st.sampled_from(ZONES),
)
lengths = st.integers(min_value=1, max_value=40)


def reference_due_day(start: datetime, working_days: int) -> date:
    """Walk day by day from the Shanghai start date, counting the library's working days."""
    day = start.astimezone(SHANGHAI).date()
    counted = 0
    while counted < working_days:
        day += timedelta(days=1)
        if LIBRARY.is_working_day(day):
            counted += 1
    return day


@given(start=starts_2019_2026, working_days=lengths)
def test_agrees_with_a_day_by_day_count(start: datetime, working_days: int) -> None:
    due = CALENDAR.due(start, working_days=working_days)

    assert due.due == datetime.combine(
        reference_due_day(start, working_days), CLOSE_OF_BUSINESS, tzinfo=SHANGHAI
    )


def test_agrees_with_a_day_by_day_count_for_every_start_date_2019_2026() -> None:
    day = date(2019, 1, 1)
    while day.year <= 2026:
        start = datetime.combine(day, time(12), tzinfo=SHANGHAI)
        for working_days in (1, 3, 10):
            expected = reference_due_day(start, working_days)
            assert CALENDAR.due(start, working_days=working_days).due.date() == expected, start
        day += timedelta(days=1)


@given(day=st.dates(min_value=date(2018, 1, 1), max_value=date(2028, 12, 31)))
def test_working_days_are_the_librarys(day: date) -> None:
    assert CALENDAR.is_working_day(day) == LIBRARY.is_working_day(day)


@given(start=starts_2019_2027, working_days=lengths)
def test_due_day_is_a_working_day_at_close_of_business(start: datetime, working_days: int) -> None:
    due = CALENDAR.due(start, working_days=working_days).due

    assert CALENDAR.is_working_day(due.date())
    assert due.timetz() == CLOSE_OF_BUSINESS.replace(tzinfo=SHANGHAI)
    assert due.utcoffset() == timedelta(hours=8)


@given(start=starts_2019_2027, working_days=lengths, more=st.integers(1, 40))
def test_more_days_never_give_an_earlier_due(start: datetime, working_days: int, more: int) -> None:
    shorter = CALENDAR.due(start, working_days=working_days).due
    longer = CALENDAR.due(start, working_days=working_days + more).due

    assert shorter < longer


@given(start=starts_2019_2027, working_days=lengths)
def test_due_is_strictly_after_start(start: datetime, working_days: int) -> None:
    assert CALENDAR.due(start, working_days=working_days).due > start


@given(start=starts_2019_2027, working_days=lengths)
def test_counting_back_gives_the_length(start: datetime, working_days: int) -> None:
    start_day = start.astimezone(SHANGHAI).date()
    due_day = CALENDAR.due(start, working_days=working_days).due.date()

    assert CALENDAR.working_days_between(start_day, due_day) == working_days
    assert CALENDAR.add_working_days(start_day, working_days) == due_day


@given(start=starts_2019_2027, working_days=lengths)
def test_provisional_exactly_when_an_unsettled_year_is_counted(
    start: datetime, working_days: int
) -> None:
    due = CALENDAR.due(start, working_days=working_days)
    first_counted = start.astimezone(SHANGHAI).date() + timedelta(days=1)
    years = range(first_counted.year, due.due.year + 1)

    assert due.provisional == any(year not in official_years() for year in years)


@given(
    start=starts_2019_2027,
    working_days=lengths,
    days_off=st.lists(st.dates(date(2019, 1, 1), date(2028, 6, 30)), max_size=20),
)
def test_added_holidays_never_bring_a_due_forward(
    start: datetime, working_days: int, days_off: list[date]
) -> None:
    overrides = [DayOverride(day=day, kind="holiday", note="property") for day in days_off]
    with_holidays = WorkingCalendar.build(overrides=overrides)

    due = with_holidays.due(start, working_days=working_days).due

    assert due >= CALENDAR.due(start, working_days=working_days).due
    assert due.date() not in set(days_off)
