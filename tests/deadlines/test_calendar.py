"""The working-day calendar on dates fixed by the State Council's notices."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest
from pydantic import ValidationError

from services.deadlines.calendar.official import official_years
from services.deadlines.calendar.working_days import SHANGHAI, DayOverride, Due, WorkingCalendar

pytestmark = pytest.mark.unit  # needs no server

CALENDAR = WorkingCalendar.build()
PLUS_8 = timezone(timedelta(hours=8))


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _due_day(start: str, working_days: int, calendar: WorkingCalendar = CALENDAR) -> date:
    return calendar.due(_at(start), working_days=working_days).due.date()


def test_issue_example_national_day_2026() -> None:
    due = CALENDAR.due(_at("2026-09-30T16:00:00+08:00"), working_days=3)

    assert due == Due(due=_at("2026-10-10T23:59:59+08:00"), provisional=False)
    assert due.due.isoformat() == "2026-10-10T23:59:59+08:00"
    assert due.due.tzinfo is SHANGHAI


def test_national_day_2026_follows_the_notice() -> None:
    # 国办发明电〔2025〕7号: 10-01..10-07 off, Sun 09-20 and Sat 10-10 worked.
    assert not any(CALENDAR.is_working_day(date(2026, 10, day)) for day in range(1, 8))
    assert CALENDAR.is_working_day(date(2026, 9, 20))
    assert CALENDAR.is_working_day(date(2026, 10, 10))
    assert not CALENDAR.is_working_day(date(2026, 10, 11))


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        ("2026-10-03T10:00:00+08:00", date(2026, 10, 8)),  # Saturday inside the holiday
        ("2026-10-04T10:00:00+08:00", date(2026, 10, 8)),  # Sunday inside the holiday
        ("2026-10-11T10:00:00+08:00", date(2026, 10, 12)),  # ordinary Sunday
        ("2026-10-12T10:00:00+08:00", date(2026, 10, 13)),  # ordinary Monday: start never counts
    ],
)
def test_start_on_a_day_off_counts_from_the_next_working_day(start: str, expected: date) -> None:
    assert _due_day(start, 1) == expected


def test_spring_festival_2026() -> None:
    # Notice: 02-15..02-23 off; Saturdays 02-14 and 02-28 worked.
    assert all(not CALENDAR.is_working_day(date(2026, 2, day)) for day in range(15, 24))
    assert _due_day("2026-02-13T09:00:00+08:00", 1) == date(2026, 2, 14)
    assert _due_day("2026-02-14T17:00:00+08:00", 1) == date(2026, 2, 24)
    assert _due_day("2026-02-13T09:00:00+08:00", 3) == date(2026, 2, 25)
    assert _due_day("2026-02-26T09:00:00+08:00", 2) == date(2026, 2, 28)


def test_tiaoxiu_weekend_days_are_counted() -> None:
    assert _due_day("2026-09-19T12:00:00+08:00", 1) == date(2026, 9, 20)  # Sunday worked
    assert _due_day("2026-10-09T12:00:00+08:00", 1) == date(2026, 10, 10)  # Saturday worked
    assert _due_day("2026-02-27T12:00:00+08:00", 1) == date(2026, 2, 28)


def test_close_of_business_is_configurable() -> None:
    calendar = WorkingCalendar.build(close_of_business=time(17, 30))
    due = calendar.due(_at("2026-09-30T16:00:00+08:00"), working_days=3)

    assert due.due == datetime(2026, 10, 10, 17, 30, tzinfo=SHANGHAI)
    assert calendar.close_of_business == time(17, 30)
    assert calendar.close_of_business_on(date(2026, 10, 8)).isoformat() == (
        "2026-10-08T17:30:00+08:00"
    )


def test_close_of_business_with_an_offset_is_refused() -> None:
    with pytest.raises(ValueError, match="tzinfo"):
        WorkingCalendar.build(close_of_business=time(17, 30, tzinfo=UTC))


def test_start_is_read_in_shanghai_whatever_its_offset() -> None:
    # 20:00 UTC on 09-30 is 04:00 on 10-01 in Shanghai: the holiday, not the eve, is the start.
    late_utc = CALENDAR.due(_at("2026-09-30T20:00:00+00:00"), working_days=1)
    same_in_shanghai = CALENDAR.due(_at("2026-10-01T04:00:00+08:00"), working_days=1)
    eve_in_shanghai = CALENDAR.due(_at("2026-09-30T15:59:59+00:00"), working_days=1)

    assert late_utc == same_in_shanghai
    assert late_utc.due.date() == date(2026, 10, 8)
    assert eve_in_shanghai.due.date() == date(2026, 10, 8)
    # Monday evening in New York is already Tuesday in Shanghai.
    assert _due_day("2026-06-01T22:00:00-04:00", 1) == date(2026, 6, 3)
    assert _due_day("2026-06-01T22:00:00+08:00", 1) == date(2026, 6, 2)


def test_added_holiday_pushes_the_due() -> None:
    calendar = WorkingCalendar.build(
        overrides=[DayOverride(day=date(2026, 10, 9), kind="holiday", note="test notice")]
    )

    assert not calendar.is_working_day(date(2026, 10, 9))
    assert _due_day("2026-09-30T16:00:00+08:00", 3, calendar) == date(2026, 10, 12)


def test_added_workday_pulls_the_due() -> None:
    calendar = WorkingCalendar.build(
        overrides=[DayOverride(day=date(2026, 10, 7), kind="workday", note="test notice")]
    )

    assert calendar.is_working_day(date(2026, 10, 7))
    assert _due_day("2026-09-30T16:00:00+08:00", 3, calendar) == date(2026, 10, 9)


def test_a_later_override_of_the_same_day_wins() -> None:
    first = DayOverride(day=date(2026, 10, 7), kind="workday", note="draft")
    correction = DayOverride(day=date(2026, 10, 7), kind="holiday", note="corrected")
    calendar = WorkingCalendar.build(overrides=[first, correction])

    assert not calendar.is_working_day(date(2026, 10, 7))
    assert calendar.overrides == (correction,)


def test_override_needs_its_source_note() -> None:
    with pytest.raises(ValidationError):
        DayOverride(day=date(2026, 10, 7), kind="workday", note="")
    with pytest.raises(ValidationError):
        DayOverride.model_validate({"day": "2026-10-07", "kind": "day off", "note": "x"})


def test_due_in_an_unconfirmed_year_is_provisional_until_confirmed() -> None:
    start = _at("2026-12-24T10:00:00+08:00")
    provisional = CALENDAR.due(start, working_days=10)
    confirmed = WorkingCalendar.build(confirmed_years=[2027]).due(start, working_days=10)

    assert provisional.due.year == 2027
    assert provisional.provisional
    assert not confirmed.provisional
    assert confirmed.due == provisional.due


def test_due_within_a_settled_year_is_not_provisional() -> None:
    assert not CALENDAR.due(_at("2026-12-30T10:00:00+08:00"), working_days=1).provisional
    assert CALENDAR.due(_at("2026-12-31T10:00:00+08:00"), working_days=1).provisional


def test_year_status() -> None:
    calendar = WorkingCalendar.build(confirmed_years=[2027, 2026])

    assert set(range(2019, 2027)) <= official_years()
    assert 2027 not in official_years()
    assert calendar.year_status(2026) == "official"
    assert calendar.year_status(2027) == "confirmed"
    assert calendar.year_status(2028) == "provisional"
    assert CALENDAR.year_status(2027) == "provisional"
    assert calendar.confirmed_years == frozenset({2026, 2027})


def test_naive_start_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        CALENDAR.due(datetime(2026, 9, 30, 16), working_days=3)
    with pytest.raises(ValueError, match="naive"):
        CALENDAR.next_working_day_start(datetime(2026, 9, 30, 16))


@pytest.mark.parametrize("working_days", [0, -1, 366])
def test_working_days_out_of_bounds_are_refused(working_days: int) -> None:
    start = _at("2026-09-30T16:00:00+08:00")
    with pytest.raises(ValueError, match="working_days"):
        CALENDAR.due(start, working_days=working_days)
    with pytest.raises(ValueError, match="working_days"):
        CALENDAR.add_working_days(date(2026, 9, 30), working_days)


def test_working_days_must_be_an_int() -> None:
    start = _at("2026-09-30T16:00:00+08:00")
    with pytest.raises(TypeError):
        CALENDAR.due(start, working_days=True)
    with pytest.raises(TypeError):
        CALENDAR.due(start, working_days=3.0)  # type: ignore[arg-type]


def test_dates_outside_the_library_years_are_refused() -> None:
    with pytest.raises(ValueError, match="outside the supported range"):
        CALENDAR.due(_at("2000-06-01T10:00:00+08:00"), working_days=1)
    with pytest.raises(ValueError, match="after 2100"):
        CALENDAR.due(_at("2100-12-30T10:00:00+08:00"), working_days=5)
    with pytest.raises(ValueError, match="outside the supported range"):
        WorkingCalendar.build(confirmed_years=[1999])


def test_far_years_load_lazily_with_the_same_answers() -> None:
    small = WorkingCalendar.build(years=range(2026, 2027))
    wide = WorkingCalendar.build(years=range(2001, 2061))
    starts = ["2026-12-24T10:00:00+08:00", "2045-02-01T10:00:00+08:00", "2003-05-01T10:00:00Z"]

    for start in starts:
        for working_days in (1, 10, 365):
            assert small.due(_at(start), working_days=working_days) == wide.due(
                _at(start), working_days=working_days
            )


def test_add_working_days_and_working_days_between_are_inverse() -> None:
    start = date(2026, 9, 30)

    assert CALENDAR.add_working_days(start, 3) == date(2026, 10, 10)
    assert CALENDAR.working_days_between(start, date(2026, 10, 10)) == 3
    assert CALENDAR.working_days_between(date(2026, 10, 10), start) == -3
    assert CALENDAR.working_days_between(start, start) == 0
    assert CALENDAR.working_days_between(date(2026, 10, 1), date(2026, 10, 7)) == 0


def test_plain_dates_only_where_dates_are_asked() -> None:
    with pytest.raises(TypeError, match="expected a date"):
        CALENDAR.is_working_day(datetime(2026, 10, 1, tzinfo=PLUS_8))


def test_next_working_day_start() -> None:
    moment = _at("2026-09-30T20:00:00+00:00")  # 10-01 04:00 in Shanghai

    assert CALENDAR.next_working_day_start(moment) == datetime(2026, 10, 8, tzinfo=SHANGHAI)
    assert CALENDAR.next_working_day_start(_at("2026-10-09T09:00:00+08:00")) == datetime(
        2026, 10, 10, tzinfo=SHANGHAI
    )


def test_a_working_day_moved_into_the_previous_year_is_kept() -> None:
    # The 2002 notice moved New Year days off to 2001's last weekend: 12-29 and 12-30 worked.
    calendar = WorkingCalendar.build(years=range(2001, 2002))

    assert calendar.is_working_day(date(2001, 12, 29))
    assert calendar.is_working_day(date(2001, 12, 30))
    assert not calendar.is_working_day(date(2002, 1, 2))
