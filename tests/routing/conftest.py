"""The routing stack most routing test modules share: one per module, and a desk on it.

A module that needs other settings (webhooks, the admin API) defines its own `stack`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.routing.harness import Desk, Stack, routing_stack


@pytest.fixture(scope="module")
async def stack() -> AsyncIterator[Stack]:
    async with routing_stack() as running_stack:
        yield running_stack


@pytest.fixture
def desk(stack: Stack) -> Desk:
    return Desk(stack)
