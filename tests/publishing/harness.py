"""Publishing against the real servers, the platform simulator over HTTP, a local SMTP sink,
and a small HTTP stand-in for routing's dossier and deadlines' clocks."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from devkit.simulator.server import RunningSimulator, running_simulator
from services.publishing.app import create_app
from services.publishing.settings import PublishingSettings
from shared.clock import Clock, FixedClock
from shared.events.vocabulary import Person
from shared.ids import new_id
from shared.platforms.config import dump_platform_configs
from tests.publishing.case_data import (
    ADMIN,
    CLERK,
    HEAD,
    LEADER,
    NOW,
    PARTS,
    PLATFORM,
    SECRETS,
    TEXT,
    TITLE,
    UNIT,
    WRITER,
    approved,
    clock_closed,
    escalated,
    forwarded,
    locked,
    marked,
    not_accepted,
    received,
)
from tests.publishing.doubles import CaseDouble, SmtpSink, case_app, clock, serve, smtp_sink
from tests.support import (
    EventProbe,
    common_settings,
    delete_exchange_and_queues,
    drop_database,
    eventually,
    running,
    unique_name,
)

# ---- the stack a test module runs against ----------------------------------------------------


@dataclass
class Stack:
    """Simulator, SMTP sink, case double, probe, and names; builds settings and apps."""

    sim: RunningSimulator
    smtp: SmtpSink
    cases: CaseDouble
    probe: EventProbe
    db: str
    exchange: str
    tmp: Path

    def settings(self, **overrides: Any) -> PublishingSettings:
        """Fast loops, short back-off, the sink as mail server, the double as the other services."""
        platform_overrides = overrides.pop("platform", {})
        platforms = self.tmp / f"platforms-{new_id('p').lower()}.json"
        configs = self.sim.configs(
            **{"timeout_s": 2.0, "max_attempts": 1, "backoff_base_s": 0.01, **platform_overrides}
        )
        platforms.write_bytes(dump_platform_configs(configs, reveal_tokens=True))
        values: dict[str, Any] = {
            **common_settings(db=self.db, exchange=self.exchange),
            "platforms_file": platforms,
            "intake_url": self.cases.url,
            "routing_url": self.cases.url,
            "deadlines_url": self.cases.url,
            "smtp_host": self.smtp.host,
            "smtp_port": self.smtp.port,
            "smtp_timeout_s": 5.0,
            "upload_poll_interval_s": 0.1,
            "upload_backoff_base_s": 0.05,
            "upload_backoff_max_s": 0.2,
            "upload_max_attempts": 30,
            "upload_claim_s": 10.0,
            "archiver_enabled": False,
            **overrides,
        }
        return PublishingSettings(**values)

    @asynccontextmanager
    async def service(
        self, clock: Clock | None = None, **overrides: Any
    ) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
        """The publishing app running (lifespan) with an in-process client."""
        app = create_app(self.settings(**overrides), clock=clock or FixedClock(NOW))
        async with running(app) as client:
            yield app, client

    async def letter(
        self,
        client: httpx.AsyncClient,
        *,
        person: Person = WRITER,
        title: str = TITLE,
        text: str = TEXT,
        wait: bool = True,
    ) -> tuple[str, str]:
        """A letter on the simulator and `letter.received` published; (letter id, external id)."""
        external_id = f"T{new_id('x')[-12:]}"
        response = await self.sim.admin.post(
            "/_admin/letters",
            json={
                "platform_id": PLATFORM,
                "letters": [
                    {
                        "external_id": external_id,
                        "title": title,
                        "text": text,
                        "submitted_at": NOW.isoformat(),
                        "person": person.model_dump(exclude_none=True),
                    }
                ],
            },
        )
        response.raise_for_status()
        letter_id = new_id("ltr")
        await self.probe.publish(
            received(letter_id, external_id=external_id, person=person, title=title, text=text)
        )
        if wait:
            await self.known(client, letter_id)
        return letter_id, external_id

    async def known(self, client: httpx.AsyncClient, letter_id: str) -> None:
        """Wait until publishing has its copy of the letter."""
        for _ in range(500):
            if (await client.get(f"/letters/{letter_id}", headers=CLERK)).status_code == 200:
                return
            await asyncio.sleep(0.02)
        raise AssertionError(f"letter {letter_id} never became known")

    async def uploads(self, external_id: str | None = None) -> list[dict[str, Any]]:
        """What arrived at the simulator (for one letter)."""
        response = await self.sim.admin.get("/_admin/uploads", params={"platform_id": PLATFORM})
        response.raise_for_status()
        items: list[dict[str, Any]] = response.json()["uploads"]
        return [u for u in items if external_id is None or u["external_id"] == external_id]

    async def upload_state(
        self, client: httpx.AsyncClient, upload_id: str, state: str, *, timeout_s: float = 20.0
    ) -> dict[str, Any]:
        """Wait until an upload reaches a state; its view then."""
        seen: dict[str, Any] = {}

        async def check() -> bool:
            nonlocal seen
            response = await client.get(f"/uploads/{upload_id}", headers=CLERK)
            seen = response.json() if response.status_code == 200 else {}
            return seen.get("state") == state

        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while not await check():
            if loop.time() > deadline:
                raise AssertionError(f"upload {upload_id} not {state} in {timeout_s} s: {seen}")
            await asyncio.sleep(0.05)
        return seen

    async def faults(self, **faults: Any) -> None:
        """Set the simulator's faults on the platform."""
        response = await self.sim.admin.put(
            "/_admin/faults", json={"platform_id": PLATFORM, "faults": faults}
        )
        response.raise_for_status()


@asynccontextmanager
async def stack(tmp: Path) -> AsyncIterator[Stack]:
    """Everything a publishing test module needs, cleaned up afterwards."""
    db, exchange = unique_name("publishing"), unique_name("publishing")
    probe = EventProbe(exchange)
    await probe.start()
    cases = CaseDouble()
    try:
        async with (
            running_simulator() as sim,
            smtp_sink() as sink,
            serve(case_app(cases)) as url,
        ):
            cases.url = url
            yield Stack(
                sim=sim, smtp=sink, cases=cases, probe=probe, db=db, exchange=exchange, tmp=tmp
            )
    finally:
        await probe.close()
        await drop_database(db)
        await delete_exchange_and_queues(exchange)


__all__ = [
    "ADMIN",
    "CLERK",
    "HEAD",
    "LEADER",
    "NOW",
    "PARTS",
    "PLATFORM",
    "SECRETS",
    "TEXT",
    "TITLE",
    "UNIT",
    "WRITER",
    "Stack",
    "approved",
    "clock",
    "clock_closed",
    "escalated",
    "eventually",
    "forwarded",
    "locked",
    "marked",
    "not_accepted",
    "received",
    "serve",
    "stack",
]
