"""Helpers for tests that run a service against the real servers.

Each test module gets its own database and its own exchange (so its queues are
its own), both deleted afterwards; nothing here mocks a server.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import aio_pika
import httpx
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from shared.auth import Role, TokenCodec
from shared.events.envelope import Event
from shared.ids import new_id
from shared.mongo import make_client
from shared.web import create_service_app

MONGO_URL = os.environ.get("MAILBOX_MONGO_URL", "mongodb://127.0.0.1:27017/")
AMQP_URL = os.environ.get("MAILBOX_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
REDIS_URL = os.environ.get("MAILBOX_REDIS_URL", "redis://127.0.0.1:6379/0")
TEST_SECRET = "test-secret-for-tokens-0123456789abcdef"


def unique_name(prefix: str) -> str:
    """A database or exchange name no other test uses."""
    return f"{prefix}_{new_id('t').lower()}"


def common_settings(*, db: str, exchange: str) -> dict[str, Any]:
    """Keyword arguments for any service's settings class in tests."""
    return {
        "environment": "test",
        "mongo_url": MONGO_URL,
        "mongo_db": db,
        "amqp_url": AMQP_URL,
        "redis_url": REDIS_URL,
        "exchange_name": exchange,
        "token_secret": TEST_SECRET,
        "relay_interval_s": 0.2,
        "retry_delays_s": (0.05, 0.2, 0.5),
        "consumer_max_attempts": 4,
        "log_json": False,
    }


def token(
    role: Role, *, unit_id: str | None = None, user_id: str | None = None, name: str = "测试用户"
) -> str:
    """A bearer token signed with the tests' secret."""
    issued = TokenCodec(TEST_SECRET).issue(
        user_id=user_id or f"u_{role.value}",
        name=name,
        role=role,
        unit_id=unit_id,
        ttl=timedelta(hours=2),
    )
    return issued.token


def auth(role: Role, *, unit_id: str | None = None, user_id: str | None = None) -> dict[str, str]:
    """Authorization header for a role."""
    return {"Authorization": f"Bearer {token(role, unit_id=unit_id, user_id=user_id)}"}


def _dump_tasks(what: str) -> None:
    """Every task's stack on stderr: a lifespan that overruns shows what it waits for."""
    print(f"--- {what} is slow; the tasks and where they wait:", file=sys.stderr)
    for task in asyncio.all_tasks():
        print(f"task {task.get_name()}: {task.get_coro()!r}", file=sys.stderr)
        task.print_stack(limit=8, file=sys.stderr)


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Run the app's lifespan and give an in-process HTTP client to it."""
    loop = asyncio.get_running_loop()
    watch = loop.call_later(20, _dump_tasks, "start-up")
    try:
        async with LifespanManager(app, startup_timeout=60, shutdown_timeout=30) as manager:
            watch.cancel()
            transport = httpx.ASGITransport(app=manager.app)
            try:
                async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                    yield client
            finally:
                watch = loop.call_later(15, _dump_tasks, "shutdown")
    finally:
        watch.cancel()


class EventProbe:
    """Listens to every event on an exchange, as a test's own queue."""

    def __init__(self, exchange: str) -> None:
        self.exchange = exchange
        self.events: list[Event] = []
        self._connection: aio_pika.abc.AbstractRobustConnection | None = None

    async def start(self) -> None:
        """Declare the exchange and an exclusive queue bound to everything."""
        self._connection = await aio_pika.connect_robust(AMQP_URL)
        channel = await self._connection.channel()
        exchange = await channel.declare_exchange(
            self.exchange, aio_pika.ExchangeType.TOPIC, durable=True
        )
        queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        await queue.bind(exchange, routing_key="#")

        async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            async with message.process():
                self.events.append(Event.from_json(message.body))

        await queue.consume(on_message)

    async def publish(self, event: Event) -> None:
        """Publish as if another service had (persistent)."""
        assert self._connection is not None
        channel = await self._connection.channel()
        exchange = await channel.get_exchange(self.exchange)
        await exchange.publish(
            aio_pika.Message(event.to_json(), delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
            routing_key=event.type,
        )
        await channel.close()

    async def close(self) -> None:
        if self._connection is not None:
            await self._connection.close()

    def of_type(self, event_type: str, *, letter_id: str | None = None) -> list[Event]:
        """Events seen of one type (and letter)."""
        return [
            e
            for e in self.events
            if e.type == event_type and (letter_id is None or e.letter_id == letter_id)
        ]

    async def wait_for(
        self,
        event_type: str,
        *,
        count: int = 1,
        letter_id: str | None = None,
        timeout_s: float = 15.0,
    ) -> list[Event]:
        """Wait until `count` events of a type were seen; fail after `timeout_s`."""
        await eventually(
            lambda: len(self.of_type(event_type, letter_id=letter_id)) >= count,
            timeout_s=timeout_s,
            what=f"{count} × {event_type}",
        )
        return self.of_type(event_type, letter_id=letter_id)


async def eventually(
    predicate: Callable[[], bool], *, timeout_s: float = 15.0, what: str = "condition"
) -> None:
    """Poll a condition (asynchronous effects) with a bounded wait."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"{what} not reached within {timeout_s} s")
        await asyncio.sleep(0.02)


async def delete_exchange_and_queues(exchange: str) -> None:
    """Remove everything a test's services declared on RabbitMQ (whatever their retry delays)."""
    from shared.events.topology import SUBSCRIPTIONS, dead_queue_name, queue_name, retry_queue_name

    connection = await aio_pika.connect(AMQP_URL)
    try:
        channel = await connection.channel()
        for service in SUBSCRIPTIONS:
            names = [queue_name(exchange, service), dead_queue_name(exchange, service)]
            names += [retry_queue_name(exchange, service, step=step) for step in range(10)]
            for name in names:
                await channel.queue_delete(name)
        await channel.exchange_delete(exchange)
    finally:
        await connection.close()


async def drop_database(name: str) -> None:
    """Remove a test's database."""
    from shared.mongo import make_client

    client = make_client(MONGO_URL)
    await client.drop_database(name)
    await client.close()


def add_write_while_the_database_is_down(app: FastAPI) -> None:
    """`POST /write-while-the-database-is-down`: a write to a MongoDB nobody listens for."""

    @app.post("/write-while-the-database-is-down")
    async def write_while_down() -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))  # a free port, released: nobody listens there
            port: int = sock.getsockname()[1]
        client = make_client(f"mongodb://127.0.0.1:{port}/", server_selection_timeout_s=0.2)
        try:
            await client["t"]["letters"].insert_one({"_id": "ltr_1"})
        finally:
            await client.close()


def bare_service_app() -> FastAPI:
    """A service app from the common factory with nothing in its lifespan (2 KiB bodies)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield

    return create_service_app(
        service="test",
        title="t",
        description="d",
        version="1",
        lifespan=lifespan,
        max_body_bytes=2048,
    )
