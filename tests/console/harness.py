"""The console in process over a real routing app in process, real Redis, and browsers
(one cookie jar each) that fill in its forms as people do."""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
from fastapi import FastAPI
from redis.asyncio import Redis

from services.console.app import create_app as create_console
from services.console.auth.store import KEY_PREFIX
from services.console.settings import ConsoleSettings
from services.routing.app import create_app as create_routing
from shared.clock import FixedClock
from tests.routing.admin_harness import admin, routing_settings
from tests.routing.harness import NOW, Stack, enrol_handler
from tests.support import (
    REDIS_URL,
    EventProbe,
    delete_exchange_and_queues,
    drop_database,
    running,
)

MAX_FAILURES = 3
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class ConsoleStack:
    """Routing (its admin client and the desk's stack) and the console app."""

    routing: Stack
    console: FastAPI
    settings: ConsoleSettings
    redis: Redis

    def browser(self) -> Browser:
        """A fresh browser: its own cookies."""
        transport = httpx.ASGITransport(app=self.console)
        return Browser(httpx.AsyncClient(transport=transport, base_url="http://console.test"))

    async def person(
        self, user_id: str, *, role: str, password: str | None, unit_id: str | None = None
    ) -> None:
        """A user; with `password`, one they chose (else an admin's, to change first)."""
        body: dict[str, Any] = {"id": user_id, "name": f"测试{user_id}", "role": role}
        if unit_id is not None:
            body["unit_id"] = unit_id
        client = self.routing.client
        created = await client.post("/admin/users", json=body, headers=admin())
        assert created.status_code == 201, created.text
        first = "管理员设置的临时密码"
        answer = await client.put(
            f"/admin/users/{user_id}/password", json={"password": first}, headers=admin()
        )
        assert answer.status_code == 200, answer.text
        if password is not None:
            change = {"user_id": user_id, "old_password": first, "new_password": password}
            changed = await client.post("/auth/password", json=change)
            assert changed.status_code == 200, changed.text

    async def session_of(self, browser: Browser) -> dict[str, Any] | None:
        """The session Redis keeps for the browser's cookie, as stored."""
        session_id = browser.client.cookies.get("console_session")
        if session_id is None:
            return None
        raw = await self.redis.get(KEY_PREFIX + hashlib.sha256(session_id.encode()).hexdigest())
        return None if raw is None else dict(orjson.loads(raw))


class Browser:
    """Gets pages and posts their forms with the token the page carries."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def close(self) -> None:
        await self.client.aclose()

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.client.get(path, **kwargs)

    async def token(self, path: str) -> str:
        """The CSRF token of the form on the page at `path`."""
        page = await self.client.get(path)
        assert page.status_code == 200, page.text
        found = _CSRF.search(page.text)
        assert found is not None, page.text
        return found.group(1)

    async def post(self, path: str, fields: dict[str, str], *, token: str | None) -> httpx.Response:
        """The form as the browser posts it (`token` None: without the CSRF field)."""
        data = {**fields, **({"csrf_token": token} if token is not None else {})}
        return await self.client.post(path, data=data)

    async def sign_in(self, user_id: str, password: str) -> httpx.Response:
        token = await self.token("/login")
        return await self.post("/login", {"user_id": user_id, "password": password}, token=token)


@asynccontextmanager
async def console_stack() -> AsyncIterator[ConsoleStack]:
    """Routing on its own database and exchange, the console calling it in process."""
    settings = routing_settings(sign_in_max_failures=MAX_FAILURES, sign_in_lockout_s=600)
    clock = FixedClock(NOW)
    probe = EventProbe(settings.exchange_name)
    await probe.start()
    redis = Redis.from_url(REDIS_URL)
    try:
        routing_app = create_routing(settings, clock=clock)
        async with running(routing_app) as routing_client:
            await enrol_handler(routing_client)
            console_settings = ConsoleSettings(
                environment="test", redis_url=REDIS_URL, log_json=False
            )
            console = create_console(
                console_settings, transport=httpx.ASGITransport(app=routing_app)
            )
            async with running(console):
                yield ConsoleStack(
                    routing=Stack(
                        client=routing_client, probe=probe, clock=clock, settings=settings
                    ),
                    console=console,
                    settings=console_settings,
                    redis=redis,
                )
    finally:
        await redis.aclose()
        await probe.close()
        await delete_exchange_and_queues(settings.exchange_name)
        await drop_database(settings.mongo_db)
