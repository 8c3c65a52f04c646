"""Helpers of the casework tests: people signed in, a letter page's form values."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.console.harness import Browser, ConsoleStack

PASSWORD = "春眠不觉晓-处处闻啼鸟"
_VERSION = re.compile(r'name="version" value="(\d+)"')
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


async def signed_in(stack: ConsoleStack, user_id: str, **person: str) -> Browser:
    """A new browser signed in as a new person of the role (and unit) given."""
    await stack.person(user_id, password=PASSWORD, **person)
    browser = stack.browser()
    assert (await browser.sign_in(user_id, PASSWORD)).status_code == 303
    return browser


async def form_of(browser: Browser, letter_id: str) -> tuple[str, str, httpx.Response]:
    """The letter page's CSRF token and the version its forms carry, and the page."""
    page = await browser.get(f"/letters/{letter_id}")
    assert page.status_code == 200, page.text
    version, token = _VERSION.search(page.text), _CSRF.search(page.text)
    assert version is not None and token is not None, page.text
    return token.group(1), version.group(1), page


async def post_form(
    browser: Browser,
    letter_id: str,
    tail: str,
    fields: dict[str, str],
    *,
    version: str | None = None,
) -> httpx.Response:
    """Posts a casework form as the letter page gives it (its token and version)."""
    token, current, _ = await form_of(browser, letter_id)
    body = {"version": version or current, **fields}
    return await browser.post(f"/letters/{letter_id}{tail}", body, token=token)


def assert_redirected(answer: httpx.Response, letter_id: str) -> None:
    assert (answer.status_code, answer.headers.get("location")) == (303, f"/letters/{letter_id}"), (
        answer.text
    )


def error_beside(page: str, form: str) -> str:
    """The error block shown beside the form `form` (raises if there is none)."""
    start = page.index(f'id="error-{form}"')
    return page[start : page.index("</div>", start)]


def slip_fields(**changes: Any) -> dict[str, str]:
    """The slip form as a clerk accepts a letter for direct handling by market-order."""
    fields = {
        "nature": "complaint",
        "accepted": "true",
        "route": "direct",
        "lead_unit_id": "market-order",
        "assisting_unit_1": "consumption",
        "opinion": "反映预付卡商家跑路，属我委职责，建议直办。",
        "summary": "预付卡商家跑路，请求退款。",
    }
    return {**fields, **{k: str(v) for k, v in changes.items()}}
