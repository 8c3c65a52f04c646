"""Helpers for the administration, notification and search tests: a configurable routing
stack, role headers, and a real webhook receiver on a loopback port."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Generator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import orjson
import uvicorn
from fastapi import FastAPI, Request, Response

from services.routing.app import create_app
from services.routing.settings import RoutingSettings
from shared.auth import Role
from shared.clock import FixedClock
from tests.routing.harness import NOW, Stack
from tests.support import (
    EventProbe,
    auth,
    common_settings,
    delete_exchange_and_queues,
    drop_database,
    running,
    unique_name,
)

T = TypeVar("T")


async def wait_until(
    check: Callable[[], Awaitable[T | None]], *, timeout_s: float = 15.0, what: str = "condition"
) -> T:
    """Poll an asynchronous check until it returns something; fail after `timeout_s`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        value = await check()
        if value is not None:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"{what} not reached within {timeout_s} s")
        await asyncio.sleep(0.05)


def admin() -> dict[str, str]:
    """Headers of an admin (a token minted with the shared test secret)."""
    return auth(Role.admin, user_id="u_admin")


def as_unit(role: Role, unit: str, user: str | None = None) -> dict[str, str]:
    """Headers of a unit's user."""
    return auth(role, unit_id=unit, user_id=user or f"u_{role.value}_{unit}")


def routing_settings(**overrides: Any) -> RoutingSettings:
    """Routing settings on a fresh database and exchange, with quick background loops."""
    db, exchange = unique_name("routing_admin"), unique_name("routing_admin")
    return RoutingSettings(
        **common_settings(db=db, exchange=exchange),
        **{"notice_sweep_interval_s": 0.2, "webhook_poll_interval_s": 0.1, **overrides},
    )


@asynccontextmanager
async def admin_stack(settings: RoutingSettings | None = None) -> AsyncIterator[Stack]:
    """The routing app on its own database and exchange, torn down afterwards."""
    settings = settings or routing_settings()
    clock = FixedClock(NOW)
    probe = EventProbe(settings.exchange_name)
    await probe.start()
    try:
        app = create_app(settings, clock=clock)
        async with running(app) as client:
            yield Stack(client=client, probe=probe, clock=clock, settings=settings, app=app)
    finally:
        await probe.close()
        await delete_exchange_and_queues(settings.exchange_name)
        await drop_database(settings.mongo_db)


@dataclass
class Hit:
    """One request the receiver got."""

    headers: dict[str, str]
    body: bytes
    status: int

    @property
    def json(self) -> dict[str, Any]:
        """The body as JSON."""
        value: dict[str, Any] = orjson.loads(self.body)
        return value


@dataclass
class Receiver:
    """A webhook endpoint that records every request and fails the first `fail_first`."""

    fail_first: int = 0
    hits: list[Hit] = field(default_factory=list)
    url: str = ""

    def delivered(self, *, event: str | None = None) -> list[Hit]:
        """Requests answered with success (of one event kind)."""
        return [
            h
            for h in self.hits
            if h.status == 200 and (event is None or h.headers["x-mailbox-event"] == event)
        ]

    def app(self) -> FastAPI:
        """The receiving app."""
        app = FastAPI()

        @app.post("/hook")
        async def hook(request: Request) -> Response:
            body = await request.body()
            status = 500 if len(self.hits) < self.fail_first else 200
            self.hits.append(Hit(headers=dict(request.headers), body=body, status=status))
            return Response(status_code=status)

        return app


class _Server(uvicorn.Server):
    """Leaves signals to pytest."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[str]:
    """Serve an app (its lifespan left to the caller) on a free 127.0.0.1 port; its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port: int = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="off", ws="none")
    server = _Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(10):
            while not server.started:
                if task.done():
                    task.result()
                await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


@asynccontextmanager
async def webhook_receiver(*, fail_first: int = 0) -> AsyncIterator[Receiver]:
    """A receiver served on a free 127.0.0.1 port until the block ends."""
    receiver = Receiver(fail_first=fail_first)
    async with serving(receiver.app()) as base_url:
        receiver.url = f"{base_url}/hook"
        yield receiver
