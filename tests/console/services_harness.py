"""The console over several real services in process: routing (sign-in, letters, users,
directory, rules) and deadlines (reports, the calendar, overdue clocks), each on its own
database and exchange, reached by host name through one transport (`harness.py` keeps the
routing-only stack)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from redis.asyncio import Redis

from services.console.app import create_app as create_console
from services.console.settings import ConsoleSettings
from services.routing.app import create_app as create_routing
from shared.clock import FixedClock
from tests.console.harness import MAX_FAILURES, ConsoleStack
from tests.deadlines.harness import Harness as DeadlinesHarness
from tests.routing.admin_harness import routing_settings
from tests.routing.harness import NOW, Stack, enrol_handler
from tests.support import (
    REDIS_URL,
    EventProbe,
    delete_exchange_and_queues,
    drop_database,
    running,
)

HOSTS = {name: f"http://{name}.test" for name in ("intake", "routing", "deadlines", "publishing")}


class ByHost(httpx.AsyncBaseTransport):
    """Each service's requests to its app; a host with no app does not answer (503)."""

    def __init__(self, apps: dict[str, httpx.AsyncBaseTransport]) -> None:
        self._apps = apps

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        app = self._apps.get(request.url.host)
        if app is None:
            raise httpx.ConnectError(f"{request.url.host} does not answer", request=request)
        return await app.handle_async_request(request)


@dataclass
class ServicesStack(ConsoleStack):
    """The console stack with deadlines beside routing."""

    deadlines: DeadlinesHarness | None = None

    @property
    def clocks(self) -> DeadlinesHarness:
        assert self.deadlines is not None
        return self.deadlines


@asynccontextmanager
async def services_stack(
    extra: dict[str, FastAPI] | None = None,
) -> AsyncIterator[ServicesStack]:
    """Routing and deadlines (sharing the tests' token secret), the console over both and
    over `extra`: running apps by service name ("intake", "publishing")."""
    settings = routing_settings(sign_in_max_failures=MAX_FAILURES, sign_in_lockout_s=600)
    clock = FixedClock(NOW)
    probe = EventProbe(settings.exchange_name)
    await probe.start()
    redis = Redis.from_url(REDIS_URL)
    deadlines = DeadlinesHarness(now=NOW)
    await deadlines.start()
    try:
        routing_app = create_routing(settings, clock=clock)
        async with running(routing_app) as routing_client:
            await enrol_handler(routing_client)
            console_settings = ConsoleSettings(
                environment="test",
                redis_url=REDIS_URL,
                log_json=False,
                intake_url=HOSTS["intake"],
                routing_url=HOSTS["routing"],
                deadlines_url=HOSTS["deadlines"],
                publishing_url=HOSTS["publishing"],
            )
            transport = ByHost(
                {
                    "routing.test": httpx.ASGITransport(app=routing_app),
                    "deadlines.test": httpx.ASGITransport(app=deadlines.app),
                    **{
                        f"{name}.test": httpx.ASGITransport(app=app)
                        for name, app in (extra or {}).items()
                    },
                }
            )
            console = create_console(console_settings, transport=transport)
            async with LifespanManager(console):
                yield ServicesStack(
                    routing=Stack(
                        client=routing_client, probe=probe, clock=clock, settings=settings
                    ),
                    console=console,
                    settings=console_settings,
                    redis=redis,
                    deadlines=deadlines,
                )
    finally:
        await deadlines.stop()
        await redis.aclose()
        await probe.close()
        await delete_exchange_and_queues(settings.exchange_name)
        await drop_database(settings.mongo_db)
