"""报表: the monthly report and annual summary deadlines builds, seen through the console."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator

import pytest

from services.deadlines.clocks.models import handling_clock_id
from shared.auth import Role
from shared.events.vocabulary import ClockState
from tests.console.harness import Browser
from tests.console.services_harness import ServicesStack, services_stack
from tests.deadlines.harness import at
from tests.support import auth

PASSWORD = "白日依山尽-黄河入海流"
# A unit name a spreadsheet would run as a formula, were the CSV not quoting it.
FORMULA_UNIT = '=HYPERLINK("http://evil.example")'


@pytest.fixture(scope="module")
async def stack() -> AsyncIterator[ServicesStack]:
    """October 2026: 商贸处 answers in time; the other unit is late and docked points."""
    async with services_stack() as running_stack:
        h = running_stack.clocks
        fast, late = h.letter_id(), h.letter_id()
        for letter in (fast, late):
            await h.received(letter, received_at=at("2026-10-12T10:00:00"))
        await h.accepted(
            fast, handed_over_at=at("2026-10-13T09:00:00"), unit_id="unit_a", unit_name="商贸处"
        )
        await h.accepted(
            late, handed_over_at=at("2026-10-13T09:00:00"), unit_id="unit_b", unit_name=FORMULA_UNIT
        )
        for letter in (fast, late):
            await h.wait_clock(handling_clock_id(letter))
        h.clock.set(at("2026-10-16T15:00:00"))
        await h.submitted(fast, submitted_at=at("2026-10-16T15:00:00"), unit_id="unit_a")
        await h.wait_clock(handling_clock_id(fast), lambda c: c.state == ClockState.met)
        h.clock.set(at("2026-10-30T10:00:00"))
        await h.service.sweep()
        await h.wait_clock(handling_clock_id(late), lambda c: c.state == ClockState.overdue)
        docked = await h.client.post(
            "/assessment",
            json={"unit_id": "unit_b", "kind": "manual", "reason": "答复敷衍", "letter_id": late},
            headers=auth(Role.office_head),
        )
        assert docked.status_code == 201, docked.text
        yield running_stack


async def _signed_in(stack: ServicesStack, browser: Browser, user_id: str, **person: str) -> None:
    await stack.person(user_id, password=PASSWORD, **person)
    assert (await browser.sign_in(user_id, PASSWORD)).status_code == 303


async def test_the_monthly_report_shows_rates_deductions_and_inline_charts(
    stack: ServicesStack, browser: Browser
) -> None:
    await _signed_in(stack, browser, "head.report", role="office_head")
    nav = await browser.get("/worklist")
    assert 'href="/reports"' in nav.text and 'href="/operations"' in nav.text
    page = await browser.get("/reports", params={"month": "2026-10"})
    assert page.status_code == 200, page.text
    assert "2026年10月 月度报告" in page.text
    assert 'data-unit="unit_a"' in page.text and 'data-unit="unit_b"' in page.text
    assert "100.0%" in page.text and "0.0%" in page.text  # each unit's on-time rate
    # The charts are inline SVG of shapes: no script, no style attribute (the CSP).
    start = page.text.index('<svg id="chart-on-time"')
    svg = page.text[start : page.text.index("</svg>", start) + len("</svg>")]
    root = ET.fromstring(svg)
    assert [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")][:2] == [
        "商贸处",
        "100.0%（1/1）",
    ]
    assert "<script" not in page.text.split("</head>")[1] and " style=" not in page.text
    assert '<svg id="chart-deductions"' in page.text
    assert FORMULA_UNIT.replace('"', "&#34;") in page.text  # escaped, shown as text
    assert "Content-Security-Policy" in page.headers


async def test_the_csv_is_deadlines_own_with_formulas_quoted(
    stack: ServicesStack, browser: Browser
) -> None:
    await _signed_in(stack, browser, "clerk.report", role="office_clerk")
    page = await browser.get("/reports", params={"month": "2026-10"})
    assert 'id="report-csv" href="/reports/monthly.csv?month=2026-10"' in page.text
    download = await browser.get("/reports/monthly.csv", params={"month": "2026-10"})
    assert download.status_code == 200, download.text
    assert download.headers["content-type"].startswith("text/csv")
    assert 'filename="report-2026-10.csv"' in download.headers["content-disposition"]
    direct = await stack.clocks.client.get(
        "/reports/monthly",
        params={"month": "2026-10", "format": "csv"},
        headers=auth(Role.office_clerk),
    )
    assert download.content == direct.content  # passed on byte for byte
    rows = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    names = {row[3] for row in rows if row[0] == "units" and row[1] == "unit_b"}
    assert names == {"'" + FORMULA_UNIT}
    assert ["units", "unit_b", "deduction_items", "'" + FORMULA_UNIT, "1"] in rows


async def test_the_annual_summary_names_each_units_score(
    stack: ServicesStack, browser: Browser
) -> None:
    await _signed_in(stack, browser, "leader.report", role="office_leader")
    page = await browser.get("/reports", params={"year": "2026"})
    assert page.status_code == 200, page.text
    assert "2026年 年度汇总" in page.text and "考核得分" in page.text
    assert 'href="/reports/annual.csv?year=2026"' in page.text
    annual = await browser.get("/reports/annual.csv", params={"year": "2026"})
    assert annual.status_code == 200 and b"base_points" in annual.content


async def test_a_wrong_period_is_shown_beside_its_form_and_units_are_refused(
    stack: ServicesStack, browser: Browser
) -> None:
    await _signed_in(stack, browser, "clerk.period", role="office_clerk")
    wrong = await browser.get("/reports", params={"month": "2026-13"})
    assert wrong.status_code == 422
    assert 'id="report-error"' in wrong.text and "年-月" in wrong.text
    assert 'value="2026-13"' in wrong.text  # as typed
    unit = stack.browser()
    try:
        await _signed_in(stack, unit, "handler.report", role="unit_handler", unit_id="market-order")
        nav = await unit.get("/worklist")
        assert 'href="/reports"' not in nav.text
        refused = await unit.get("/reports", params={"month": "2026-10"})
        assert refused.status_code == 403 and "无权" in refused.text
        csv_refused = await unit.get("/reports/monthly.csv", params={"month": "2026-10"})
        assert csv_refused.status_code == 403
    finally:
        await unit.close()
