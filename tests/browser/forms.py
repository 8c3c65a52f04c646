"""Filling in and sending the console's forms as a person does, in the browser."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from playwright.async_api import Locator, Page

LOCAL = ZoneInfo("Asia/Shanghai")
_PAGE = re.compile(rb"/Type\s*/Page\b")


def local_now() -> str:
    """Now in Beijing time, as a `datetime-local` input takes it."""
    return datetime.now(LOCAL).strftime("%Y-%m-%dT%H:%M")


async def fill(form: Locator, fields: Mapping[str, str | bool]) -> None:
    """Type, pick, tick: each field by its `name`, whatever kind of input it is."""
    for name, value in fields.items():
        first = form.locator(f"[name='{name}']").first
        kind = await first.evaluate("e => e.tagName.toLowerCase() + ':' + (e.type || '')")
        if kind == "input:radio":
            await form.locator(f"[name='{name}'][value='{value}']").check()
        elif kind == "input:checkbox":
            await (first.check() if value else first.uncheck())
        elif kind.startswith("select"):
            await first.select_option(str(value))
        else:
            await first.fill(str(value))


async def send(page: Page, form: Locator, *, button: str | None = None) -> int:
    """Click the form's submit button (the one with `button`'s text); the status of the page
    the browser lands on (a 303 is followed: the letter page's 200)."""
    buttons = form.locator("button[type=submit]")
    target = buttons.filter(has_text=button) if button else buttons
    async with page.expect_navigation() as navigation:
        await target.first.click()
    response = await navigation.value
    assert response is not None
    return response.status


async def send_fresh(page: Page, form_selector: str, *, button: str | None = None) -> int:
    """`send`, and once more when the letter moved on meanwhile (an event of another
    service bumps its version too): the page tells so beside the form, keeps what was
    typed and carries the new version, so sending again is what a person does."""
    status = await send(page, page.locator(form_selector), button=button)
    if status == 409:
        told = await page.locator(f"{form_selector} [role=alert]").inner_text()
        assert "刚被他人更新" in told, told
        status = await send(page, page.locator(form_selector), button=button)
    if status >= 400:
        alerts = await page.locator("[role=alert]").all_inner_texts()
        raise AssertionError(f"{form_selector} answered {status}: {alerts}")
    return status


def pdf_pages(pdf: bytes) -> int:
    """How many page objects a PDF has (Chromium writes them uncompressed)."""
    return len(_PAGE.findall(pdf))
