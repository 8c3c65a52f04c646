"""One routing app and one console per test module; a fresh browser per test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.console.harness import Browser, ConsoleStack, console_stack


@pytest.fixture(scope="module")
async def stack() -> AsyncIterator[ConsoleStack]:
    async with console_stack() as running_stack:
        yield running_stack


@pytest.fixture
async def browser(stack: ConsoleStack) -> AsyncIterator[Browser]:
    opened = stack.browser()
    try:
        yield opened
    finally:
        await opened.close()
