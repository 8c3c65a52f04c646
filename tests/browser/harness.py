"""The real deployment the browser tests drive, and the people and letters in it.

The simulator, the four services and the console run as processes on free loopback ports
(`devkit.launcher`), on databases, an exchange and timers of their own, wiped before and
after. People are created with passwords through routing's admin API, each then choosing
their own (so the page's first sign-in goes straight in); letters reach the services as
in the demo: put on the simulator, polled by intake, registered by routing. Debian's
Chromium, driven by Playwright, opens the console's pages as a person does.
"""

from __future__ import annotations

import os
import random
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import Browser, BrowserContext, Page, Playwright, async_playwright

from devkit.actors.office import Office
from devkit.actors.people import (
    ADMIN,
    CLERK,
    OFFICE_HEAD,
    OFFICE_LEADER,
    PRINCIPAL,
    Api,
    Cast,
    Person,
    Urls,
    enrol,
)
from devkit.actors.script import Registry
from devkit.demo.runner import DEMO_ENV, wipe_namespace
from devkit.launcher import REPO_ROOT, SERVICES, LocalDeployment, free_ports
from devkit.simulator.cli import DEFAULT_ADMIN_TOKEN
from devkit.simulator.letters import draft_letter
from shared.auth import Role
from shared.platforms.config import GOV_MAILBOX
from tests.support import unique_name

SCREENSHOTS = REPO_ROOT / "var" / "screenshots"
# Wrong passwords in a row that lock an account in these deployments.
MAX_FAILURES = 3
# The two units whose staff sign in: letters go to the first; the second's handler must
# not reach them.
LEAD_UNIT = "market-order"
OTHER_UNIT = "consumption"
ADMIN_SET = "管理员设置的临时密码-0"
EFFECT_TIMEOUT_S = 60.0


def chromium_path() -> str:
    """Debian's Chromium (never a browser build Playwright would download)."""
    found = os.environ.get("MAILBOX_CHROMIUM") or shutil.which("chromium")
    if not found:
        raise RuntimeError(
            "Chromium is missing: `apt-get install chromium fonts-noto-cjk`"
            " (bash deploy/local/test.sh installs them)"
        )
    return found


@dataclass(frozen=True)
class Account:
    """A person who signs in at the console: who they are and the password they chose."""

    person: Person
    password: str

    @property
    def user_id(self) -> str:
        return self.person.user_id


@dataclass
class Deployment:
    """The running servers, the people's accounts and tokens, and the seeded letters."""

    servers: LocalDeployment
    urls: Urls
    cast: Cast
    client: httpx.AsyncClient
    accounts: dict[str, Account] = field(default_factory=dict)
    letters: dict[str, str] = field(default_factory=dict)  # external id -> letter id

    @property
    def console(self) -> str:
        assert self.urls.console is not None
        return self.urls.console

    def api(self, person: Person) -> Api:
        """A person's API client (for seeding and for reading what the pages did)."""
        return self.cast.api(person, client=self.client, urls=self.urls)

    @property
    def office(self) -> Office:
        return Office(self.cast, client=self.client, urls=self.urls)

    def account(self, user_id: str) -> Account:
        return self.accounts[user_id]

    async def new_person(self, user_id: str, *, role: Role, unit_id: str | None = None) -> Account:
        """One more person with a password of their own (tests that lock accounts)."""
        person = Person(user_id, f"测试{user_id}", role, unit_id)
        admin = self.api(ADMIN)
        body = {"id": user_id, "name": person.name, "role": role.value, "unit_id": unit_id}
        await admin.routing.post("/admin/users", body=body)
        return await self._choose_password(person)

    async def _choose_password(self, person: Person) -> Account:
        admin = self.api(ADMIN)
        await admin.routing.put(
            f"/admin/users/{person.user_id}/password", body={"password": ADMIN_SET}
        )
        chosen = f"{person.user_id}-自己的密码"
        change = {"user_id": person.user_id, "old_password": ADMIN_SET, "new_password": chosen}
        answer = await self.client.post(self.urls.routing + "/auth/password", json=change)
        assert answer.status_code == 200, answer.text
        account = Account(person, chosen)
        self.accounts[person.user_id] = account
        return account

    async def put_letters(self, count: int, *, prefix: str) -> list[str]:
        """`count` generated letters on the simulator, waited for until routing registered
        them; their letter ids (no real citizen's text: the simulator's generator)."""
        rng = random.Random(prefix)
        now = datetime.now(UTC).replace(microsecond=0)
        letters: list[dict[str, Any]] = []
        for index in range(count):
            draft = draft_letter(rng)
            letters.append(
                {
                    "external_id": f"{prefix}-{index}",
                    "title": draft.title,
                    "text": draft.text,
                    "submitted_at": (now - timedelta(minutes=count - index)).isoformat(),
                    "person": {k: v for k, v in draft.person.model_dump().items() if v},
                }
            )
        answer = await self.client.post(
            self.urls.simulator + "/_admin/letters",
            json={"platform_id": GOV_MAILBOX, "letters": letters},
            headers={"Authorization": f"Bearer {DEFAULT_ADMIN_TOKEN}"},
        )
        assert answer.status_code == 200, answer.text
        registry = Registry(self.api(CLERK))
        ids = []
        for letter in letters:
            letter_id = await registry.letter_id(
                GOV_MAILBOX, external_id=letter["external_id"], timeout_s=EFFECT_TIMEOUT_S
            )
            self.letters[letter["external_id"]] = letter_id
            ids.append(letter_id)
        return ids

    async def assign(self, letter_id: str, *, unit_id: str = LEAD_UNIT) -> dict[str, Any]:
        """Seeding through the API: the office accepts the letter for `unit_id` directly."""
        office, label = self.office, f" (seeded {letter_id})"
        slip = {
            "nature": "complaint",
            "accepted": True,
            "route": "direct",
            "lead_unit_id": unit_id,
            "assisting_unit_ids": [],
            "major": False,
            "opinion": f"来信反映的问题属我委职责范围，建议由{unit_id}牵头直办。",
        }
        await office.draft_slip(letter_id, slip=slip, label=label)
        await office.submit_slip(letter_id, label=label)
        return await office.approve_slip(letter_id, comment="同意。", label=label)


@asynccontextmanager
async def deployment() -> AsyncIterator[Deployment]:
    """Fresh databases, every server started, the people enrolled with their passwords."""
    names = (*SERVICES, "console", "simulator")
    servers = LocalDeployment(
        namespace=unique_name("browser"),
        ports=free_ports(names),
        extra_env={
            **DEMO_ENV,
            "MAILBOX_ROUTING_SIGN_IN_MAX_FAILURES": str(MAX_FAILURES),
            "MAILBOX_ROUTING_SIGN_IN_LOCKOUT_S": "600",
            # The first preview loads publishing's redaction models: on a loaded 2-core
            # machine that took longer than the console's default 10 s wait.
            "MAILBOX_CONSOLE_UPSTREAM_TIMEOUT_S": "60",
        },
    )
    await wipe_namespace(servers)
    try:
        await servers.start()
        urls = Urls.from_lookup(servers.url)
        async with httpx.AsyncClient(timeout=30.0) as client:
            cast = await enrol(
                client, urls=urls, secret=servers.token_secret, units=(LEAD_UNIT, OTHER_UNIT)
            )
            found = Deployment(servers=servers, urls=urls, cast=cast, client=client)
            office = (CLERK, OFFICE_HEAD, OFFICE_LEADER, PRINCIPAL)
            staff = (*cast.staff[LEAD_UNIT], cast.staff[OTHER_UNIT][0])
            for person in (*office, *staff):
                await found._choose_password(person)
            admin = await found.new_person("ops.admin", role=Role.admin)
            found.accounts["admin"] = admin
            yield found
    finally:
        await servers.stop_all()
        await wipe_namespace(servers)


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    """Debian's Chromium, headless, through Playwright's driver."""
    driver: Playwright
    async with async_playwright() as driver:
        browser = await driver.chromium.launch(executable_path=chromium_path())
        try:
            yield browser
        finally:
            await browser.close()


class Desk:
    """One person's browser window (its own cookies) at the console."""

    def __init__(self, context: BrowserContext, page: Page, *, base: str) -> None:
        self.context = context
        self.page = page
        self.base = base

    async def open(self, path: str) -> int:
        """Go to a page of the console; the status it answered with."""
        response = await self.page.goto(self.base + path)
        assert response is not None, path
        return response.status

    async def sign_in(self, account: Account) -> None:
        """Through the sign-in form; lands on 待办."""
        await self.fill_sign_in(account.user_id, account.password)
        await self.page.wait_for_url(self.base + "/worklist")

    async def fill_sign_in(self, user_id: str, password: str) -> None:
        """Fill in and send the sign-in form (whatever it answers)."""
        await self.open("/login")
        await self.page.fill("input[name=user_id]", user_id)
        await self.page.fill("input[name=password]", password)
        async with self.page.expect_navigation():
            await self.page.click("form[action='/login'] button[type=submit]")

    async def shot(self, name: str) -> Path:
        """A full-page screenshot under var/screenshots/ for a reviewer to look at."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        await self.page.screenshot(path=str(path), full_page=True)
        return path

    async def close(self) -> None:
        await self.context.close()


async def open_desk(browser: Browser, *, base: str) -> Desk:
    """A fresh window (no cookies) at an A4-friendly size, in Beijing time, in Chinese."""
    context = await browser.new_context(
        viewport={"width": 1280, "height": 900},
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
    )
    context.set_default_timeout(60_000)  # a loaded 2-core machine
    return Desk(context, await context.new_page(), base=base)
