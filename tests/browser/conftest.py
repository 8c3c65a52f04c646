"""One real deployment and one Chromium for the browser tests; a fresh window per person."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from playwright.async_api import Browser

from tests.browser.harness import Deployment, Desk, chromium, deployment, open_desk

# Starting every server and enrolling the people takes a while on a busy machine.
pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="session")
async def live() -> AsyncIterator[Deployment]:
    async with deployment() as running:
        yield running


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as opened:
        yield opened


@pytest.fixture
async def desk(live: Deployment, browser: Browser) -> AsyncIterator[Callable[[], Awaitable[Desk]]]:
    """Opens fresh windows (each its own cookies) at the console; closed after the test."""
    opened: list[Desk] = []

    async def new() -> Desk:
        window = await open_desk(browser, base=live.console)
        opened.append(window)
        return window

    yield new
    for window in opened:
        await window.close()
