"""Reading the worklist, the letters and one letter from routing, as the signed-in person;
the overdue filter from deadlines' overdue clocks, and which years' holiday calendars are
still provisional."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from urllib.parse import quote
from zoneinfo import ZoneInfo

from services.console.letters.schemas import (
    CalendarYear,
    ClockPage,
    LetterPage,
    LetterRead,
    SearchPage,
    UnitEntry,
    Worklist,
)
from services.console.upstream.service import Upstream, UpstreamError

PAGE_SIZE = 30
SOON = timedelta(hours=24)
LOCAL = ZoneInfo("Asia/Shanghai")
# Earlier pages' cursors kept in the address for 上一页 (routing pages forward only).
MAX_BACK = 30
# Routing's own pattern for a letter id; "." and ".." would walk out of /letters/.
# "worklist" is routing's route beside /letters/{id}, not a letter.
_LETTER_ID = re.compile(r"^(?!\.{1,2}$)(?!worklist$)[A-Za-z0-9_.:-]{1,64}$")
_CURSOR = re.compile(r"^[A-Za-z0-9_-]{1,512}$")


@dataclass(frozen=True)
class Badge:
    """How near a due date is: `overdue`, `soon` (within a day) or `running`; `provisional`
    when the due was counted over a year whose holiday calendar is not yet confirmed."""

    kind: str
    text: str
    provisional: bool = False


class BadFilter(ValueError):
    """A filter the console itself can tell is wrong (a date that is no date)."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name
        self.message = message


def _day(value: str | None, field_name: str) -> str | None:
    if not value:
        return None
    try:
        date.fromisoformat(value)
    except ValueError:
        raise BadFilter(field_name, "日期应写作 年-月-日，如 2026-10-01。") from None
    return value


def _instant(day: str | None, *, next_day: bool = False) -> str | None:
    """The start of a Beijing calendar day (or of the day after), as routing reads instants."""
    if day is None:
        return None
    start = datetime.combine(date.fromisoformat(day), datetime.min.time(), tzinfo=LOCAL)
    return (start + timedelta(days=1) if next_day else start).isoformat()


@dataclass(frozen=True)
class LetterFilters:
    """The list's filters, as the form and the page's address carry them.

    `q` asks routing's word search; `overdue` lists deadlines' overdue clocks instead;
    `back` holds the cursors of the pages before this one (for 上一页)."""

    state: str | None = None
    nature: str | None = None
    platform: str | None = None
    unit: str | None = None
    received_from: str | None = None
    received_to: str | None = None
    overdue: bool = False
    q: str | None = None
    cursor: str | None = None
    back: tuple[str, ...] = field(default_factory=tuple)

    @classmethod
    def of(cls, **values: str | None) -> LetterFilters:
        """From the address's parameters: blanks dropped, dates and cursors checked."""
        clean = {k: (v.strip() if isinstance(v, str) else v) or None for k, v in values.items()}
        cursor = clean.pop("cursor", None)
        back = tuple(c for c in (clean.pop("back", None) or "").split(".") if _CURSOR.match(c))
        return cls(
            state=clean.get("state"),
            nature=clean.get("nature"),
            platform=clean.get("platform"),
            unit=clean.get("unit"),
            received_from=_day(clean.get("received_from"), "received_from"),
            received_to=_day(clean.get("received_to"), "received_to"),
            overdue=clean.get("overdue") in ("1", "on", "true"),
            q=clean.get("q"),
            cursor=cursor if cursor and _CURSOR.match(cursor) else None,
            back=back[-MAX_BACK:],
        )

    @property
    def page_number(self) -> int:
        return len(self.back) + (2 if self.cursor else 1)

    def query(self, **changes: str | None) -> dict[str, str]:
        """The filters as the address carries them (empty ones left out), `changes` applied."""
        values: dict[str, str | None] = {
            "q": self.q,
            "state": self.state,
            "nature": self.nature,
            "platform": self.platform,
            "unit": self.unit,
            "received_from": self.received_from,
            "received_to": self.received_to,
            "overdue": "1" if self.overdue else None,
            "cursor": self.cursor,
            "back": ".".join(self.back) or None,
            **changes,
        }
        return {k: v for k, v in values.items() if v}

    def next_query(self, next_cursor: str) -> dict[str, str]:
        back = (*self.back, self.cursor) if self.cursor else self.back
        return self.query(cursor=next_cursor, back=".".join(back[-MAX_BACK:]) or None)

    def prev_query(self) -> dict[str, str] | None:
        if not self.cursor:
            return None
        if not self.back:
            return self.query(cursor=None, back=None)
        return self.query(cursor=self.back[-1], back=".".join(self.back[:-1]) or None)

    def routing_params(self) -> dict[str, str | int | None]:
        """What routing's list and search take (its 422 names a wrong one)."""
        return {
            "state": self.state,
            "nature": self.nature,
            "platform": self.platform,
            "unit": self.unit,
            "received_from": _instant(self.received_from),
            "received_to": _instant(self.received_to, next_day=True),
            "cursor": self.cursor,
            "limit": PAGE_SIZE,
        }

    def without_paging(self) -> LetterFilters:
        return replace(self, cursor=None, back=())


def due_badge(
    due: datetime | None, *, overdue: bool, now: datetime, provisional: bool = False
) -> Badge | None:
    """The badge of a step's due date; routing's `overdue` decides the red one."""
    if overdue:
        return Badge("overdue", "已超期", provisional)
    if due is None:
        return None
    if due - now <= SOON:
        return Badge("soon", "24小时内到期", provisional)
    return Badge("running", "办理中", provisional)


async def worklist(upstream: Upstream, *, token: str) -> Worklist:
    """待办: overdue letters first, then as routing orders them (soonest due first)."""
    answer = await upstream.call("routing", "GET", "/letters/worklist", token=token)
    work = Worklist.model_validate(answer)
    # A stable sort: routing's order stands within each group.
    work.items.sort(key=lambda item: not item.overdue)
    return work


async def provisional_years(upstream: Upstream, *, token: str, years: set[int]) -> set[int]:
    """The years whose holiday calendar deadlines still counts as provisional (its
    `GET /calendar/{year}`); a due counted into one of them may move. A calendar that does
    not answer marks nothing: the badge is a hint, the worklist still shows."""

    async def status(year: int) -> CalendarYear | None:
        try:
            answer = await upstream.call("deadlines", "GET", f"/calendar/{year}", token=token)
        except UpstreamError:
            return None
        return CalendarYear.model_validate(answer)

    found = await asyncio.gather(*(status(y) for y in sorted(years) if 2001 <= y <= 2100))
    return {c.year for c in found if c is not None and c.status == "provisional"}


def local_year(moment: datetime) -> int:
    return moment.astimezone(LOCAL).year


async def units(upstream: Upstream, *, token: str) -> list[UnitEntry]:
    """The directory's active units (office and admin read it); none for anyone else."""
    try:
        answer = await upstream.call(
            "routing",
            "GET",
            "/admin/directory/units",
            token=token,
            params={"active": "true", "limit": 100},
        )
    except UpstreamError:
        return []
    return [UnitEntry.model_validate(item) for item in answer.get("items", [])]


async def letters(upstream: Upstream, *, token: str, filters: LetterFilters) -> LetterPage:
    """One page of the letters the person may list, newest first."""
    answer = await upstream.call(
        "routing", "GET", "/letters", token=token, params=filters.routing_params()
    )
    return LetterPage.model_validate(answer)


async def search(upstream: Upstream, *, token: str, filters: LetterFilters) -> SearchPage:
    """Routing's word search with the same filters; the admin is refused (403)."""
    params = {**filters.routing_params(), "q": filters.q}
    answer = await upstream.call("routing", "GET", "/search/letters", token=token, params=params)
    return SearchPage.model_validate(answer)


async def overdue(upstream: Upstream, *, token: str, filters: LetterFilters) -> ClockPage:
    """Deadlines' open overdue clocks, oldest due first (a unit's people: their unit's)."""
    params: dict[str, str | int | None] = {
        "unit": filters.unit,
        "cursor": filters.cursor,
        "limit": PAGE_SIZE,
    }
    answer = await upstream.call("deadlines", "GET", "/clocks/overdue", token=token, params=params)
    return ClockPage.model_validate(answer)


async def letter(upstream: Upstream, *, token: str, letter_id: str) -> LetterRead:
    """One letter as routing shows it to the person, with their `allowed_actions`."""
    if not _LETTER_ID.match(letter_id):
        # As routing answers an id that is no letter of the person's.
        raise UpstreamError(404, code="not_found", message="no such letter")
    path = "/letters/" + quote(letter_id, safe="")
    answer = await upstream.call("routing", "GET", path, token=token)
    return LetterRead.model_validate(answer)
