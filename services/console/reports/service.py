"""The reports deadlines builds, read as the signed-in person; their charts drawn here as
plain SVG shapes (no script, no style attribute: the page's CSP allows neither)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import httpx

from services.console.reports.schemas import Report
from services.console.upstream.service import Upstream

LOCAL = ZoneInfo("Asia/Shanghai")
MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
MIN_YEAR, MAX_YEAR = 2001, 2100
# The chart's geometry, in SVG user units (the page scales it to its width).
LABEL_W, BAR_W, VALUE_W, ROW_H, TOP = 220, 440, 150, 30, 10


class BadPeriod(ValueError):
    """A month or year the report cannot be asked for; the message is for the page."""


@dataclass(frozen=True)
class Period:
    """A month (`2026-10`) or a year (`2026`) of the reports."""

    kind: str  # "monthly" or "annual"
    label: str

    @property
    def query(self) -> dict[str, str]:
        return {"month": self.label} if self.kind == "monthly" else {"year": self.label}

    @property
    def title(self) -> str:
        if self.kind == "monthly":
            year, month = self.label.split("-")
            return f"{year}年{int(month)}月 月度报告"
        return f"{self.label}年 年度汇总"


def period_of(month: str | None, year: str | None, *, now: datetime) -> Period:
    """The period the form asks for; this month by default."""
    if year:
        if not year.isdigit() or not MIN_YEAR <= int(year) <= MAX_YEAR:
            raise BadPeriod(f"年份应在 {MIN_YEAR} 至 {MAX_YEAR} 之间，如 2026。")
        return Period("annual", str(int(year)))
    if month:
        if not MONTH.match(month):
            raise BadPeriod("月份应写作 年-月，如 2026-10。")
        if not MIN_YEAR <= int(month[:4]) <= MAX_YEAR:
            raise BadPeriod(f"年份应在 {MIN_YEAR} 至 {MAX_YEAR} 之间。")
        return Period("monthly", month)
    return Period("monthly", now.astimezone(LOCAL).strftime("%Y-%m"))


async def report(upstream: Upstream, *, token: str, period: Period) -> Report:
    """The monthly report or annual summary (office roles and the admin; else 403)."""
    answer = await upstream.call(
        "deadlines", "GET", f"/reports/{period.kind}", token=token, params=period.query
    )
    return Report.model_validate(answer)


async def report_csv(upstream: Upstream, *, token: str, period: Period) -> httpx.Response:
    """Deadlines' CSV as it wrote it: cells that would start a formula already quoted."""
    params = {**period.query, "format": "csv"}
    return await upstream.download(
        "deadlines", f"/reports/{period.kind}", token=token, params=params
    )


@dataclass(frozen=True)
class Bar:
    label: str
    value_text: str
    y: int
    width: int  # 0: nothing to draw (no due clock, say)
    kind: str = "bar"


@dataclass(frozen=True)
class Chart:
    """A horizontal bar chart: one row per item, its value written beside the bar."""

    title: str
    bars: list[Bar]
    width: int = LABEL_W + BAR_W + VALUE_W
    label_w: int = LABEL_W
    bar_w: int = BAR_W
    row_h: int = ROW_H

    @property
    def height(self) -> int:
        return TOP * 2 + ROW_H * max(len(self.bars), 1)


def on_time_chart(data: Report) -> Chart:
    """Each unit's on-time rate: clocks met of those decided (met or overdue) in the period."""
    bars = []
    for row, unit in enumerate(data.units):
        rate = unit.clocks.on_time_rate
        decided = unit.clocks.met + unit.clocks.overdue
        if rate is None:
            text, width, kind = "本期无到期时限", 0, "none"
        else:
            text = f"{rate * 100:.1f}%（{unit.clocks.met}/{decided}）"
            width = round(rate * BAR_W)
            kind = "good" if rate >= 0.95 else ("fair" if rate >= 0.8 else "poor")
        bars.append(Bar(unit.unit_name, text, TOP + row * ROW_H, width, kind))
    return Chart(title="各承办单位按时办结率", bars=bars)


def count_chart(title: str, counts: dict[str, int], names: dict[str, str]) -> Chart:
    """Counts per key (letters per nature, say), the largest first."""
    top = max(counts.values(), default=0)
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    bars = [
        Bar(
            names.get(key, key),
            f"{value} 件",
            TOP + row * ROW_H,
            round(value / top * BAR_W) if top else 0,
        )
        for row, (key, value) in enumerate(ordered)
    ]
    return Chart(title=title, bars=bars)


def deductions_chart(data: Report) -> Chart:
    """Points deducted per unit (Art. 25–28), the largest first; units without none."""
    docked = [u for u in data.units if u.deduction_points > 0]
    top = max((u.deduction_points for u in docked), default=0.0)
    docked.sort(key=lambda u: (-u.deduction_points, u.unit_name))
    bars = [
        Bar(
            u.unit_name,
            f"{u.deduction_points:g} 分（{u.deduction_items} 项）",
            TOP + row * ROW_H,
            round(u.deduction_points / top * BAR_W) if top else 0,
            "poor",
        )
        for row, u in enumerate(docked)
    ]
    return Chart(title="各承办单位考核扣分", bars=bars)
