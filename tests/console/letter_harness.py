"""The letter page's forms under test: the console over real routing (the module's `stack`
of `harness.py`), or over routing, publishing (and deadlines, where asked) on one exchange,
each at its own host (`replies_stack`); people signed in; a letter page read and its forms
posted as a browser posts them; letters brought to a step.

The steps before the reply (the slip, the handler, the contact) are taken through routing's
API as `tests.routing.harness.Desk` takes them; the steps under test through the console.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI
from redis.asyncio import Redis

from services.console.app import create_app as create_console
from services.console.settings import ConsoleSettings
from services.deadlines.app import create_app as create_deadlines
from services.deadlines.settings import DeadlinesSettings
from services.publishing.app import create_app as create_publishing
from services.publishing.settings import PublishingSettings
from services.routing.app import create_app as create_routing
from shared.auth import Role
from shared.clock import FixedClock
from shared.events import Event
from tests.console.harness import Browser, ConsoleStack
from tests.routing.admin_harness import routing_settings
from tests.routing.harness import LEAD, NOW, REPLY, Desk, Stack, enrol_handler
from tests.support import (
    REDIS_URL,
    EventProbe,
    common_settings,
    delete_exchange_and_queues,
    drop_database,
    running,
    unique_name,
)

PASSWORD = "春眠不觉晓-处处闻啼鸟"
_VERSION = re.compile(r'name="version" value="(\d+)"')
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
# The five parts as a browser posts them (the routing harness's reply).
PARTS = {k: v for k, v in REPLY.items() if k != "proposed_mode"}


# ---- people and the letter page's forms


async def signed_in(
    stack: ConsoleStack, user_id: str, *, role: str, unit_id: str | None = None
) -> Browser:
    """A new browser signed in as a new person of the role (and unit) given."""
    await stack.person(user_id, role=role, password=PASSWORD, unit_id=unit_id)
    browser = stack.browser()
    answer = await browser.sign_in(user_id, PASSWORD)
    assert answer.status_code == 303, answer.text
    return browser


async def letter_page(browser: Browser, letter_id: str) -> httpx.Response:
    """The letter's page (200)."""
    page = await browser.get(f"/letters/{letter_id}")
    assert page.status_code == 200, page.text
    return page


async def page_form(browser: Browser, letter_id: str) -> tuple[str, dict[str, str]]:
    """The letter's page and the hidden fields its forms carry (CSRF token, version)."""
    page = (await letter_page(browser, letter_id)).text
    csrf, version = _CSRF.search(page), _VERSION.search(page)
    assert csrf is not None and version is not None, page
    return page, {"csrf_token": csrf.group(1), "version": version.group(1)}


async def post(
    browser: Browser, letter_id: str, tail: str, fields: dict[str, str], *, hidden: dict[str, str]
) -> httpx.Response:
    """A form of the letter's page, posted as the browser posts it."""
    return await browser.client.post(f"/letters/{letter_id}{tail}", data={**hidden, **fields})


async def post_form(
    browser: Browser,
    letter_id: str,
    tail: str,
    fields: dict[str, str],
    *,
    version: str | None = None,
) -> httpx.Response:
    """A form of the letter's page as the page gives it now (its token and version, or the
    `version` given: a stale one)."""
    _, hidden = await page_form(browser, letter_id)
    if version is not None:
        hidden["version"] = version
    return await post(browser, letter_id, tail, fields, hidden=hidden)


def assert_redirected(answer: httpx.Response, letter_id: str) -> None:
    """The form was taken: 303 back to the letter's page."""
    assert (answer.status_code, answer.headers.get("location")) == (303, f"/letters/{letter_id}"), (
        answer.text
    )


def form_of(page: str, key: str) -> str:
    """The HTML of the replies form whose `data-form` is `key`."""
    found = re.search(rf'<form[^>]*data-form="{re.escape(key)}".*?</form>', page, re.S)
    assert found is not None, f"no form {key} in the page"
    return found.group(0)


def casework_form(page: str, form: str) -> str:
    """The HTML of the casework form `id="form-<form>"`."""
    found = re.search(rf'<form[^>]*id="form-{re.escape(form)}".*?</form>', page, re.S)
    assert found is not None, f"no form {form} in the page"
    return found.group(0)


def error_beside(page: str, form: str) -> str:
    """The error block shown beside the casework form `form` (raises if there is none)."""
    start = page.index(f'id="error-{form}"')
    return page[start : page.index("</div>", start)]


def slip_fields(**changes: Any) -> dict[str, str]:
    """The slip form as a clerk accepts a letter for direct handling by market-order."""
    fields = {
        "nature": "complaint",
        "accepted": "true",
        "route": "direct",
        "lead_unit_id": "market-order",
        "assisting_unit_1": "consumption",
        "opinion": "反映预付卡商家跑路，属我委职责，建议直办。",
        "summary": "预付卡商家跑路，请求退款。",
    }
    return {**fields, **{k: str(v) for k, v in changes.items()}}


# ---- the console over routing, publishing (and deadlines)


class Hosts(httpx.AsyncBaseTransport):
    """Each service at its own host name, in process."""

    def __init__(self, apps: dict[str, FastAPI]) -> None:
        self._transports = {host: httpx.ASGITransport(app=app) for host, app in apps.items()}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self._transports[request.url.host].handle_async_request(request)


@dataclass
class RepliesStack(ConsoleStack):
    """The console stack with publishing (and deadlines) beside routing."""

    publishing: httpx.AsyncClient | None = None
    deadlines: FastAPI | None = None
    deadlines_clock: FixedClock | None = None
    deadlines_client: httpx.AsyncClient | None = None

    @property
    def desk(self) -> Desk:
        return Desk(self.routing)

    async def signed_in(self, user_id: str, *, role: str, unit_id: str | None = None) -> Browser:
        """A browser signed in as a new person of `role` (and unit)."""
        return await signed_in(self, user_id, role=role, unit_id=unit_id)

    async def act(
        self,
        letter_id: str,
        path: str,
        role: Role,
        body: dict[str, Any] | None = None,
        *,
        method: str = "POST",
        user: str | None = None,
    ) -> dict[str, Any]:
        """One of routing's actions at the letter's current version (read again while
        deadlines' clock events move it on)."""
        for _ in range(50):
            version = (await self.desk.letter(letter_id))["version"]
            response = await self.routing.client.request(
                method,
                f"/letters/{letter_id}{path}",
                json={"version": version, **(body or {})},
                headers=Desk.headers(role, None, user),
            )
            if response.status_code == 409 and response.json()["error"] == "stale_version":
                await asyncio.sleep(0.1)
                continue
            assert response.status_code == 200, f"{path}: {response.status_code} {response.text}"
            answer: dict[str, Any] = response.json()
            return answer
        raise AssertionError(f"{path}: the letter kept changing")

    async def in_handling(self, handler_id: str, *, event: Event | None = None) -> str:
        """A letter assigned to LEAD whose handler is `handler_id`, the writer reached."""
        letter_id = await self.desk.register(event)
        slip = {
            "opinion": "反映预付卡商家跑路，属我委职责，建议直办。",
            "nature": "complaint",
            "accepted": True,
            "route": "direct",
            "lead_unit_id": LEAD,
            "assisting_unit_ids": [],
        }
        await self.act(letter_id, "/slip", Role.office_clerk, slip, method="PUT")
        await self.act(letter_id, "/slip/submit", Role.office_clerk)
        await self.act(letter_id, "/slip/approve", Role.office_head, {"comment": "同意。"})
        named = {"user_id": handler_id, "name": "测试经办人"}
        await self.act(letter_id, "/handler", Role.unit_head, named)
        contact = {"at": NOW.isoformat(), "channel": "phone", "outcome": "reached"}
        await self.act(letter_id, "/contact-attempts", Role.unit_head, contact)
        if self.deadlines is not None:  # its clocks change the letter as they come
            await self.desk.eventually_clock(letter_id, "handling")
            await self.settled(letter_id)
        return letter_id

    async def settled(self, letter_id: str) -> None:
        """Wait until the letter's version holds still (deadlines' events applied)."""
        seen: list[int] = []
        for _ in range(100):
            seen.append((await self.desk.letter(letter_id))["version"])
            if len(seen) >= 4 and len(set(seen[-4:])) == 1:
                return
            await asyncio.sleep(0.15)
        raise AssertionError(f"letter {letter_id} kept changing: versions {seen}")

    async def at_office(self, handler_id: str, *, event: Event | None = None) -> str:
        """A letter whose reply the unit approved and submitted: the office re-checks it."""
        letter_id = await self.in_handling(handler_id, event=event)
        mine = handler_id  # the named handler drafts; others approve (four eyes)
        await self.act(letter_id, "/reply", Role.unit_handler, REPLY, method="PUT", user=mine)
        await self.act(letter_id, "/reply/send-for-review", Role.unit_handler, user=mine)
        await self.act(letter_id, "/reply/unit-approve", Role.unit_head)
        await self.act(letter_id, "/reply/unit-approve", Role.unit_leader)
        informed = {"writer_informed": {"channel": "phone", "at": NOW.isoformat()}}
        await self.act(letter_id, "/reply/submit", Role.unit_handler, informed, user=mine)
        return letter_id


@asynccontextmanager
async def replies_stack(*, with_deadlines: bool = False) -> AsyncIterator[RepliesStack]:
    """Routing, publishing (and deadlines) on one exchange, the console calling them."""
    settings = routing_settings()
    exchange = settings.exchange_name
    clock = FixedClock(NOW)
    probe = EventProbe(exchange)
    await probe.start()
    redis = Redis.from_url(REDIS_URL)
    publishing_db, deadlines_db = unique_name("publishing"), unique_name("deadlines")
    try:
        async with AsyncExitStack() as apps:
            publishing = create_publishing(
                PublishingSettings(
                    **common_settings(db=publishing_db, exchange=exchange),
                    simulator_url="http://127.0.0.1:9",  # nothing is uploaded here
                    archiver_enabled=False,
                ),
                clock=clock,
            )
            publishing_client = await apps.enter_async_context(running(publishing))
            hosts: dict[str, FastAPI] = {"publishing.test": publishing}
            deadlines: FastAPI | None = None
            deadlines_clock: FixedClock | None = None
            deadlines_client: httpx.AsyncClient | None = None
            if with_deadlines:
                deadlines_clock = FixedClock(NOW)
                values: dict[str, Any] = {
                    **common_settings(db=deadlines_db, exchange=exchange),
                    "sweep_interval_s": 3600.0,
                    "timer_poll_delay_s": 0.1,
                }
                deadlines = create_deadlines(DeadlinesSettings(**values), clock=deadlines_clock)
                deadlines_client = await apps.enter_async_context(running(deadlines))
                hosts["deadlines.test"] = deadlines
            routing_app = create_routing(settings, clock=clock)
            routing_client = await apps.enter_async_context(running(routing_app))
            hosts["routing.test"] = routing_app
            await enrol_handler(routing_client)
            console_settings = ConsoleSettings(
                environment="test",
                redis_url=REDIS_URL,
                log_json=False,
                routing_url="http://routing.test",
                publishing_url="http://publishing.test",
                deadlines_url="http://deadlines.test",
            )
            console = create_console(console_settings, transport=Hosts(hosts))
            await apps.enter_async_context(running(console))
            yield RepliesStack(
                routing=Stack(client=routing_client, probe=probe, clock=clock, settings=settings),
                console=console,
                settings=console_settings,
                redis=redis,
                publishing=publishing_client,
                deadlines=deadlines,
                deadlines_clock=deadlines_clock,
                deadlines_client=deadlines_client,
            )
    finally:
        if with_deadlines:  # the timers deadlines left in Redis (as its own harness clears)
            queue = DeadlinesSettings(
                **common_settings(db=deadlines_db, exchange=exchange)
            ).timer_queue_name
            for member in await redis.zrange(queue, 0, -1):
                await redis.delete(b"arq:job:" + member)
            await redis.delete(queue)
        await redis.aclose()
        await probe.close()
        await delete_exchange_and_queues(exchange)
        for db in (settings.mongo_db, publishing_db, deadlines_db):
            await drop_database(db)
