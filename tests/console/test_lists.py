"""待办's counts and badges, and the letters' list: filters, word search, overdue clocks and
paging by links a keyboard reaches."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import datetime

import pytest

from services.console.letters import service as letters_service
from services.deadlines.clocks.models import handling_clock_id
from shared.events.vocabulary import ClockKind, ClockState
from tests.console.harness import Browser
from tests.console.services_harness import ServicesStack, services_stack
from tests.deadlines.harness import at
from tests.routing.harness import LEAD, Desk, clock_scheduled

PASSWORD = "锄禾日当午-汗滴禾下土"
PROVISIONAL_DUE = datetime.fromisoformat("2027-01-06T17:30:00+08:00")


@pytest.fixture(scope="module")
async def stack() -> AsyncIterator[ServicesStack]:
    async with services_stack() as running_stack:
        yield running_stack


@pytest.fixture(scope="module")
async def letters(stack: ServicesStack) -> dict[str, str]:
    """Two registered letters (one due in 2027, whose calendar is provisional), one assigned
    to LEAD, and a clock deadlines holds overdue."""
    desk = Desk(stack.routing)
    registered = await desk.register()
    provisional = await desk.register()
    assigned = await desk.register()
    await desk.accept_direct(assigned)
    event = clock_scheduled(
        provisional, due=PROVISIONAL_DUE, kind=ClockKind.acceptance, unit_id=None
    )
    await stack.routing.probe.publish(event)
    for _ in range(400):
        doc = await desk.letter(provisional)
        if (doc.get("clocks") or {}).get("acceptance"):
            break
        await asyncio.sleep(0.05)
    h = stack.clocks
    late = h.letter_id()
    await h.received(late, received_at=at("2026-10-12T10:00:00"))
    await h.accepted(late, handed_over_at=at("2026-10-13T09:00:00"), unit_id=LEAD)
    await h.wait_clock(handling_clock_id(late))
    h.clock.set(at("2026-11-30T10:00:00"))
    await h.service.sweep()
    await h.wait_clock(handling_clock_id(late), lambda c: c.state == ClockState.overdue)
    return {
        "registered": registered,
        "provisional": provisional,
        "assigned": assigned,
        "late": late,
    }


async def _signed_in(stack: ServicesStack, browser: Browser, user_id: str, **person: str) -> None:
    await stack.person(user_id, password=PASSWORD, **person)
    assert (await browser.sign_in(user_id, PASSWORD)).status_code == 303


async def test_the_worklist_counts_each_action_and_marks_a_provisional_due(
    stack: ServicesStack, browser: Browser, letters: dict[str, str]
) -> None:
    await _signed_in(stack, browser, "clerk.counts", role="office_clerk")
    page = await browser.get("/worklist")
    assert page.status_code == 200, page.text
    counts = dict(
        re.findall(r'<li data-action="(\w+)">.*?<span class="count">(\d+)</span>', page.text)
    )
    assert int(counts["draft_slip"]) >= 2
    row = page.text.split(f'href="/letters/{letters["provisional"]}"')[1].split("</tr>")[0]
    assert "时限暂定" in row and "2027-01-06 17:30" in row
    other = page.text.split(f'href="/letters/{letters["registered"]}"')[1].split("</tr>")[0]
    assert "时限暂定" not in other
    assert 'id="provisional-notice"' in page.text and "2027" in page.text


async def test_filters_by_unit_and_dates_and_a_wrong_date_beside_the_form(
    stack: ServicesStack, browser: Browser, letters: dict[str, str]
) -> None:
    await _signed_in(stack, browser, "clerk.filters", role="office_clerk")
    by_unit = await browser.get("/letters", params={"unit": LEAD})
    assert letters["assigned"] in by_unit.text and letters["registered"] not in by_unit.text
    assert f'<option value="{LEAD}" selected>' in by_unit.text
    that_day = await browser.get(
        "/letters", params={"received_from": "2026-10-12", "received_to": "2026-10-12"}
    )
    assert letters["registered"] in that_day.text
    later = await browser.get("/letters", params={"received_from": "2026-10-13"})
    assert letters["registered"] not in later.text and "没有符合条件的信件" in later.text
    wrong = await browser.get("/letters", params={"received_from": "2026-02-30"})
    assert wrong.status_code == 422 and 'id="filters-error"' in wrong.text
    assert 'value="2026-02-30"' in wrong.text and 'aria-invalid="true"' in wrong.text


async def test_word_search_for_the_office_and_a_plain_refusal_for_the_admin(
    stack: ServicesStack, browser: Browser, letters: dict[str, str]
) -> None:
    await _signed_in(stack, browser, "clerk.search", role="office_clerk")
    found = await browser.get("/letters", params={"q": "预付卡"})
    assert found.status_code == 200, found.text
    assert letters["registered"] in found.text and 'id="search-terms"' in found.text
    assert 'class="snippet"' in found.text
    admin = stack.browser()
    try:
        await _signed_in(stack, admin, "admin.search", role="admin")
        refused = await admin.get("/letters", params={"q": "预付卡"})
        assert refused.status_code == 403
        assert 'id="search-refused"' in refused.text and "管理员不能全文检索" in refused.text
        assert 'value="预付卡"' in refused.text  # the form keeps the words
        assert (await admin.get("/letters")).status_code == 200  # the list itself is open
    finally:
        await admin.close()


async def test_the_overdue_filter_lists_deadlines_overdue_clocks(
    stack: ServicesStack, browser: Browser, letters: dict[str, str]
) -> None:
    await _signed_in(stack, browser, "head.overdue", role="office_head")
    page = await browser.get("/letters", params={"overdue": "1"})
    assert page.status_code == 200, page.text
    assert f'href="/letters/{letters["late"]}"' in page.text and "已超期" in page.text
    assert 'name="overdue" value="1" checked' in page.text


async def test_paging_by_links_with_rel_and_accesskeys(
    stack: ServicesStack,
    browser: Browser,
    letters: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(letters_service, "PAGE_SIZE", 1)
    await _signed_in(stack, browser, "clerk.paging", role="office_clerk")
    seen = []
    page = await browser.get("/letters")
    assert 'rel="prev"' not in page.text and "第 1 页" in page.text
    for number in range(2, 4):
        link = re.search(r'<a href="([^"]+)" rel="next" accesskey="n"', page.text)
        assert link is not None, page.text
        seen.append(re.findall(r'href="/letters/(ltr_\w+)"', page.text)[0])
        assert '<link rel="next"' in page.text
        page = await browser.get(link.group(1).replace("&amp;", "&"))
        assert f"第 {number} 页" in page.text
        assert re.search(r'rel="prev" accesskey="p"', page.text)
    back = re.search(r'<a href="([^"]+)" rel="prev"', page.text)
    assert back is not None
    previous = await browser.get(back.group(1).replace("&amp;", "&"))
    assert "第 2 页" in previous.text
    assert re.findall(r'href="/letters/(ltr_\w+)"', previous.text)[0] == seen[1]
    partial = await browser.get(
        back.group(1).replace("&amp;", "&"),
        headers={"HX-Request": "true", "HX-Target": "letters-table"},
    )
    assert "<html" not in partial.text and 'id="results-heading"' in partial.text
    assert "autofocus" in partial.text  # focus follows the swapped table
