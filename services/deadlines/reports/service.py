"""Monthly report and annual summary (Art. 6 ③), computed in Python over indexed period queries.

What counts in a period:
- letters: received in it (by platform, source, nature, scope, reason, route, lead unit);
- clocks: falling due in it (met, overdue — open or closed late —, still open, stopped);
- extensions, returns and publications: decided / returned / published in it;
- reminders: issued in it; deductions: recorded in it (a year: the items of that assessment
  year, as its scores count them), annulled ones left out;
- per unit, letters led and assisted: handed over to it in the period; its handling on-time rate:
  its handling clocks falling due in it; and, in the annual summary, its score (Art. 25), by the
  rule of `GET /assessment/scores`.
"""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field

from services.deadlines.calendar.working_days import MAX_YEAR, MIN_YEAR, SHANGHAI
from services.deadlines.reports.repository import (
    FactsRepository,
)
from services.deadlines.supervision.service import UnitScore
from shared.clock import ensure_aware
from shared.errors import Invalid
from shared.events.vocabulary import LABELS_ZH, ClockKind, ClockState
from shared.mongo import Document

UNDECIDED = "undecided"
UNCLASSIFIED = "unclassified"
NO_UNIT = "none"


class Period(BaseModel):
    """A calendar month or year in Asia/Shanghai, as a half-open UTC interval."""

    kind: Literal["month", "year"]
    label: str
    start: datetime
    end: datetime

    def holds(self, at: datetime | None) -> bool:
        """Whether an instant lies in the period."""
        return at is not None and self.start <= ensure_aware(at) < self.end


def month_period(month: str) -> Period:
    """The period of a month written YYYY-MM."""
    try:
        first = date.fromisoformat(f"{month}-01")
    except ValueError as exc:
        raise Invalid(f"month {month!r} is not YYYY-MM", details={"field": "month"}) from exc
    if not MIN_YEAR <= first.year <= MAX_YEAR:
        raise Invalid(
            f"month {month!r} is outside {MIN_YEAR}..{MAX_YEAR}", details={"field": "month"}
        )
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return Period(kind="month", label=month, start=_midnight(first), end=_midnight(following))


def year_period(year: int) -> Period:
    """The period of a year."""
    return Period(
        kind="year",
        label=str(year),
        start=_midnight(date(year, 1, 1)),
        end=_midnight(date(year + 1, 1, 1)),
    )


def _midnight(day: date) -> datetime:
    return ensure_aware(datetime(day.year, day.month, day.day, tzinfo=SHANGHAI))


class ClockStats(BaseModel):
    """Clocks falling due in the period."""

    due: int = 0
    met: int = 0
    overdue: int = 0
    open: int = 0
    stopped: int = 0
    on_time_rate: float | None = Field(default=None, description="met / (met + overdue)")


class LetterCounts(BaseModel):
    """Letters received in the period."""

    total: int = 0
    by_platform: dict[str, int] = Field(default_factory=dict)
    by_source: dict[str, int] = Field(default_factory=dict)
    by_nature: dict[str, int] = Field(default_factory=dict)
    by_scope: dict[str, int] = Field(default_factory=dict)
    not_accepted_by_reason: dict[str, int] = Field(default_factory=dict)
    by_route: dict[str, int] = Field(default_factory=dict)
    by_unit: dict[str, int] = Field(default_factory=dict)


class UnitRow(BaseModel):
    """One unit's figures in the period."""

    unit_id: str
    unit_name: str
    letters: int = Field(default=0, description="letters received in the period it leads")
    letters_led: int = Field(default=0, description="handed over to it as lead unit in the period")
    letters_assisted: int = Field(
        default=0, description="handed over to it as an assisting unit in the period"
    )
    clocks: ClockStats = Field(default_factory=ClockStats)
    handling: ClockStats = Field(
        default_factory=ClockStats, description="its handling clocks: the on-time handling rate"
    )
    extensions_approved: int = 0
    reminders: int = 0
    returns: int = 0
    deduction_items: int = 0
    deduction_points: float = 0.0
    score: float | None = Field(
        default=None,
        description="annual summary: the base minus the year's deductions (Art. 25), as"
        " GET /assessment/scores gives it",
    )


class Report(BaseModel):
    """The monthly report or annual summary."""

    period: Period
    generated_at: datetime
    letters: LetterCounts
    on_time_by_kind: dict[str, ClockStats]
    extensions: dict[str, int]
    reminders: dict[str, int]
    returns: dict[str, int]
    deductions: dict[str, float]
    publication_modes: dict[str, int]
    units: list[UnitRow]
    base_points: float | None = Field(
        default=None, description="annual summary: a unit's score without deductions"
    )


def _stats(clocks: Iterable[dict[str, Any]], *, now: datetime) -> ClockStats:
    stats = ClockStats()
    for clock in clocks:
        stats.due += 1
        state = clock["state"]
        if state == ClockState.stopped:
            stats.stopped += 1
        elif state == ClockState.met:
            stats.met += 1
        elif state == ClockState.overdue or clock["due"] <= now:
            stats.overdue += 1
        else:
            stats.open += 1
    decided = stats.met + stats.overdue
    stats.on_time_rate = round(stats.met / decided, 4) if decided else None
    return stats


def _count(values: Iterable[str]) -> dict[str, int]:
    return dict(sorted(Counter(values).items()))


class Scores(Protocol):
    """Units' assessment scores of a year (SupervisionService.scores)."""

    async def __call__(self, year: int, *, units: Iterable[str] = ()) -> list[UnitScore]: ...


class ClockSource(Protocol):
    """The clocks a report reads (the clocks' ClockRepository)."""

    async def due_between(self, start: datetime, end: datetime) -> list[Document]: ...


class ReminderSource(Protocol):
    """The reminders a report reads (supervision's ReminderRepository)."""

    async def issued_between(self, start: datetime, end: datetime) -> list[Document]: ...


class AssessmentSource(Protocol):
    """The deduction items a report reads (supervision's AssessmentRepository)."""

    async def recorded_between(self, start: datetime, end: datetime) -> list[Document]: ...

    async def for_year(self, year: int, *, unit_id: str | None = None) -> list[Document]: ...


class ReportBuilder:
    """Builds reports from the service's collections."""

    def __init__(
        self,
        *,
        clocks: ClockSource,
        reminders: ReminderSource,
        assessment: AssessmentSource,
        facts: FactsRepository,
        scores: Scores,
        base_points: float,
    ) -> None:
        self._clocks = clocks
        self._reminders = reminders
        self._assessment = assessment
        self._facts = facts
        self._scores = scores
        self._base_points = base_points

    async def build(self, period: Period, *, now: datetime) -> Report:
        """The report of one period, as of `now`."""
        if period.kind == "month":
            letters = await self._facts.active_in_month(period.label)
        else:
            letters = await self._facts.active_in_year(int(period.label))
        clocks = await self._clocks.due_between(period.start, period.end)
        reminders = await self._reminders.issued_between(period.start, period.end)
        if period.kind == "month":
            items = await self._assessment.recorded_between(period.start, period.end)
        else:
            items = await self._assessment.for_year(int(period.label))
        names = await self._facts.unit_names()

        received = [f for f in letters if period.holds(f.get("received_at"))]
        counts = _letter_counts(received)

        by_unit: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for clock in clocks:
            if clock.get("unit_id"):
                by_unit[clock["unit_id"]].append(clock)
        kinds = sorted({str(c["kind"]) for c in clocks})
        on_time = {k: _stats((c for c in clocks if c["kind"] == k), now=now) for k in kinds}

        def in_period(field: str) -> list[dict[str, Any]]:
            return [x for f in letters for x in f.get(field, []) if period.holds(x.get("at"))]

        approved = in_period("extensions_approved")
        returns = in_period("returns")
        publications = in_period("publications")
        handed_over = [
            f for f in letters if f.get("lead_unit_id") and period.holds(f.get("decided_at"))
        ]
        led = Counter(str(f["lead_unit_id"]) for f in handed_over)
        assisted = Counter(
            str(u) for f in handed_over for u in set(f.get("assisting_unit_ids") or [])
        )
        units = sorted(
            set(by_unit)
            | set(counts.by_unit) - {NO_UNIT}
            | set(led)
            | set(assisted)
            | {r["unit_id"] for r in reminders}
            | {i["unit_id"] for i in items}
        )
        scores: dict[str, UnitScore] = {}
        if period.kind == "year":
            scored = await self._scores(int(period.label), units=units)
            scores = {s.unit_id: s for s in scored}
        rows = []
        for unit in units:
            unit_items = [i for i in items if i["unit_id"] == unit]
            unit_clocks = by_unit.get(unit, [])
            score = scores.get(unit)
            rows.append(
                UnitRow(
                    unit_id=unit,
                    unit_name=names.get(unit, unit),
                    letters=counts.by_unit.get(unit, 0),
                    letters_led=led[unit],
                    letters_assisted=assisted[unit],
                    clocks=_stats(unit_clocks, now=now),
                    handling=_stats(
                        (c for c in unit_clocks if c["kind"] == ClockKind.handling), now=now
                    ),
                    extensions_approved=sum(1 for a in approved if a.get("unit_id") == unit),
                    reminders=sum(1 for r in reminders if r["unit_id"] == unit),
                    returns=sum(1 for r in returns if r.get("unit_id") == unit),
                    deduction_items=len(unit_items),
                    deduction_points=round(sum(float(i["points"]) for i in unit_items), 2),
                    score=None if score is None else score.score,
                )
            )
        answered = [r for r in reminders if r.get("answer")]
        return Report(
            period=period,
            generated_at=now,
            letters=counts,
            on_time_by_kind=on_time,
            extensions={
                "requested": len(in_period("extensions_requested")),
                "approved": len(approved),
                "refused": len(in_period("extensions_refused")),
            },
            reminders={
                "issued": len(reminders),
                "answered": len(answered),
                "answered_in_time": sum(1 for r in answered if r["answer"].get("in_time")),
                "unanswered": len(reminders) - len(answered),
            },
            returns={"total": len(returns), **_count(r["reason"] for r in returns)},
            deductions={
                "items": len(items),
                "points": round(sum(float(i["points"]) for i in items), 2),
                **{f"items_{k}": v for k, v in _count(str(i["kind"]) for i in items).items()},
            },
            publication_modes=_count(str(p.get("mode") or p.get("kind")) for p in publications),
            units=rows,
            base_points=self._base_points if period.kind == "year" else None,
        )


def _letter_counts(received: list[dict[str, Any]]) -> LetterCounts:
    def nature(f: dict[str, Any]) -> str:
        return str(f.get("nature") or (f.get("suggested") or {}).get("nature") or UNCLASSIFIED)

    def scope(f: dict[str, Any]) -> str:
        accepted = f.get("accepted")
        return UNDECIDED if accepted is None else ("accepted" if accepted else "not_accepted")

    return LetterCounts(
        total=len(received),
        by_platform=_count(str(f.get("platform", "?")) for f in received),
        by_source=_count(str(f.get("source", "?")) for f in received),
        by_nature=_count(nature(f) for f in received),
        by_scope=_count(scope(f) for f in received),
        not_accepted_by_reason=_count(
            str(f["not_accepted_reason"]) for f in received if f.get("not_accepted_reason")
        ),
        by_route=_count(str(f["route"]) for f in received if f.get("route")),
        by_unit=_count(str(f.get("lead_unit_id") or NO_UNIT) for f in received),
    )


CSV_HEADER = ("section", "dimension", "key", "label", "value")
# A spreadsheet program runs a cell that starts with one of these as a formula
# (`=cmd|' /C calc'!A0`); tab and CR too, as some strip them first (OWASP: CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> object:
    """A CSV cell a spreadsheet shows as text: a leading `'` where it would be a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class _SafeWriter:
    """A CSV writer whose every cell went through `csv_cell`."""

    def __init__(self, out: io.StringIO) -> None:
        self._writer = csv.writer(out, lineterminator="\n")

    def writerow(self, row: Iterable[object]) -> None:
        self._writer.writerow([csv_cell(value) for value in row])


def to_csv(report: Report) -> str:
    """The report as CSV: section, dimension, key, label (Chinese where known), value."""
    out = io.StringIO()
    writer = _SafeWriter(out)
    writer.writerow(CSV_HEADER)
    names = {u.unit_id: u.unit_name for u in report.units}

    def label(key: str) -> str:
        return LABELS_ZH.get(key) or names.get(key, "")

    writer.writerow(("period", report.period.kind, report.period.label, "", ""))
    writer.writerow(("letters", "total", "all", "", report.letters.total))
    for dimension in (
        "by_platform",
        "by_source",
        "by_nature",
        "by_scope",
        "not_accepted_by_reason",
        "by_route",
        "by_unit",
    ):
        values: dict[str, int] = getattr(report.letters, dimension)
        for key, value in values.items():
            writer.writerow(("letters", dimension, key, label(key), value))
    for kind, stats in report.on_time_by_kind.items():
        for metric, value in stats.model_dump().items():
            writer.writerow(("on_time", kind, metric, label(kind), "" if value is None else value))
    for section in ("extensions", "reminders", "returns", "deductions", "publication_modes"):
        section_values: dict[str, Any] = getattr(report, section)
        for key, value in section_values.items():
            writer.writerow((section, "total", key, label(key), value))
    if report.base_points is not None:
        writer.writerow(("assessment", "total", "base_points", "", report.base_points))
    for unit in report.units:
        row = unit.model_dump(exclude={"unit_id", "unit_name", "clocks", "handling", "score"})
        row.update({f"on_time_{k}": v for k, v in unit.clocks.model_dump().items()})
        row.update({f"handling_{k}": v for k, v in unit.handling.model_dump().items()})
        if unit.score is not None:
            row["score"] = unit.score
        for metric, value in row.items():
            writer.writerow(
                ("units", unit.unit_id, metric, unit.unit_name, "" if value is None else value)
            )
    return out.getvalue()
