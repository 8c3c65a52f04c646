"""Suite-wide fixtures: where the local stack's servers are, and a check that they answer.

Tests run against real servers, never mocks; a missing server is a broken set-up,
so the session stops with a message saying how to start them instead of skipping.
"""

from __future__ import annotations

import asyncio
import os

import aio_pika
import pytest
import redis
from pymongo import MongoClient

DEFAULT_MONGO_URL = "mongodb://127.0.0.1:27017/"
DEFAULT_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
STACK_CHECK_TIMEOUT_S = 5.0
START_HINT = (
    "run `bash deploy/local/test.sh` or `mailbox stack up` (then `source deploy/local/env.sh`)"
)


def _mongo_url() -> str:
    return os.environ.get("MAILBOX_MONGO_URL", DEFAULT_MONGO_URL)


def _amqp_url() -> str:
    return os.environ.get("MAILBOX_AMQP_URL", DEFAULT_AMQP_URL)


def _redis_url() -> str:
    return os.environ.get("MAILBOX_REDIS_URL", DEFAULT_REDIS_URL)


def _check_mongo(url: str) -> None:
    timeout_ms = int(STACK_CHECK_TIMEOUT_S * 1000)
    client: MongoClient[dict[str, object]] = MongoClient(
        url, serverSelectionTimeoutMS=timeout_ms, connectTimeoutMS=timeout_ms
    )
    with client:
        client.admin.command("ping")


def _check_amqp(url: str) -> None:
    async def connect() -> None:
        connection = await aio_pika.connect(url, timeout=STACK_CHECK_TIMEOUT_S)
        await connection.close()

    asyncio.run(connect())


def _check_redis(url: str) -> None:
    client = redis.Redis.from_url(
        url, socket_timeout=STACK_CHECK_TIMEOUT_S, socket_connect_timeout=STACK_CHECK_TIMEOUT_S
    )
    try:
        client.ping()
    finally:
        client.close()


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test not marked `unit` needs the local stack: mark it `stack`, before `-m`
    selects, so that `pytest -m unit` (the same as `-m "not stack"`) runs the rest in
    seconds without any server."""
    for item in items:
        if item.get_closest_marker("unit") is None:
            item.add_marker(pytest.mark.stack)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Check the stack answers, only when a selected test needs it."""
    if any(item.get_closest_marker("stack") is not None for item in session.items):
        _check_stack()


def _check_stack() -> None:
    """Stop the run at once when a server of the local stack does not answer."""
    if os.environ.get("MAILBOX_SKIP_STACK_CHECK") == "1":
        return
    checks = (
        ("MongoDB-wire server", _mongo_url(), _check_mongo),
        ("RabbitMQ", _amqp_url(), _check_amqp),
        ("Redis", _redis_url(), _check_redis),
    )
    down = []
    for name, url, check in checks:
        try:
            check(url)
        except Exception as exc:  # any failure to answer means the same: not usable
            down.append(f"  {name} at {url}: {type(exc).__name__}: {exc}")
    if down:
        pytest.exit(
            "the local stack is not answering:\n" + "\n".join(down) + f"\n{START_HINT}",
            returncode=3,
        )


@pytest.fixture(scope="session")
def mongo_url() -> str:
    """URL of the MongoDB-wire server the tests use."""
    return _mongo_url()


@pytest.fixture(scope="session")
def amqp_url() -> str:
    """URL of the RabbitMQ broker the tests use."""
    return _amqp_url()


@pytest.fixture(scope="session")
def redis_url() -> str:
    """URL of the Redis server the tests use."""
    return _redis_url()
