"""The fault tests' private stack: started once per session on ports of its own, stopped and
its data removed at the end. The default stack (5672, 6379, 27017) is never touched."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.faults.harness import PrivateStack


@pytest.fixture(scope="session")
def fault_stack() -> Iterator[PrivateStack]:
    """RabbitMQ, Redis and the MongoDB-wire server of the fault tests alone."""
    stack = PrivateStack.create()
    try:
        stack.up()
        yield stack
    finally:
        stack.down()
