from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest

from shared.bus import EventBus
from shared.ids import new_id
from shared.mongo import Database, make_client


@pytest.fixture
def exchange_name() -> str:
    return f"test-{new_id('x').lower()}"


@pytest.fixture
async def bus(exchange_name: str) -> AsyncIterator[EventBus]:
    bus = EventBus(
        os.environ.get("MAILBOX_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/"),
        exchange_name=exchange_name,
        service="routing",
        retry_delays_s=(0.05, 0.1),
        max_attempts=3,
    )
    await bus.start()
    yield bus
    await bus.delete_topology()
    await bus.close()


@pytest.fixture
async def db() -> AsyncIterator[Database]:
    client = make_client(os.environ.get("MAILBOX_MONGO_URL", "mongodb://127.0.0.1:27017/"))
    name = f"test_{new_id('db').lower()}"
    yield client[name]
    await client.drop_database(name)
    await client.close()
