"""Intake against the real servers and a simulator served over HTTP on a loopback port."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from devkit.simulator.server import RunningSimulator
from services.intake.app import create_app
from services.intake.polling.relay import LetterRelay
from services.intake.settings import IntakeSettings
from shared.auth import Role
from shared.clock import Clock
from shared.events import make_event
from shared.events.catalog import TokenRevoked
from shared.mongo import Database, make_client
from shared.platforms.config import dump_platform_configs
from tests.support import (
    MONGO_URL,
    EventProbe,
    auth,
    common_settings,
    delete_exchange_and_queues,
    drop_database,
    eventually,
    running,
    unique_name,
)

PLATFORMS = ("gov_mailbox", "mayor_hotline", "service_platform")
CLERK = auth(Role.office_clerk, user_id="u_clerk_li")
HEAD = auth(Role.office_head)
ADMIN = auth(Role.admin)
UNIT = auth(Role.unit_handler, unit_id="unit_market")


@dataclass
class Names:
    """A test's own database and exchange."""

    db: str
    exchange: str


@asynccontextmanager
async def names_and_probe() -> AsyncIterator[tuple[Names, EventProbe]]:
    """Fresh names, a probe on the exchange, and the clean-up of both afterwards."""
    names = Names(db=unique_name("intake"), exchange=unique_name("intake"))
    probe = EventProbe(names.exchange)
    await probe.start()
    try:
        yield names, probe
    finally:
        await probe.close()
        await drop_database(names.db)
        await delete_exchange_and_queues(names.exchange)


def write_platforms(sim: RunningSimulator, path: Path, **overrides: Any) -> Path:
    """A platforms file pointing at the simulator, with overrides (short timeouts, pages)."""
    path.write_bytes(dump_platform_configs(sim.configs(**overrides), reveal_tokens=True))
    return path


def settings(sim: RunningSimulator, names: Names, **overrides: Any) -> IntakeSettings:
    """Test settings: fast sweeps, short grace, no polling loop unless asked."""
    values: dict[str, Any] = {
        **common_settings(db=names.db, exchange=names.exchange),
        "simulator_url": sim.url,
        "poll_enabled": False,
        "poll_interval_s": 0.2,
        "outbox_sweep_interval_s": 0.2,
        "outbox_grace_s": 1.0,
        "lease_s": 10.0,
    }
    values.update(overrides)
    return IntakeSettings(**values)


@asynccontextmanager
async def intake(
    sim: RunningSimulator, names: Names, *, clock: Clock | None = None, **overrides: Any
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """The intake app running (lifespan) with an in-process client."""
    app = create_app(settings(sim, names, **overrides), clock=clock)
    async with running(app) as client:
        yield app, client


@asynccontextmanager
async def database(names: Names) -> AsyncIterator[Database]:
    """Direct access to the test's database (to count what is stored)."""
    client = make_client(MONGO_URL)
    try:
        yield client[names.db]
    finally:
        await client.close()


async def generate(sim: RunningSimulator, n: int, *, seed: int = 1, **where: Any) -> dict[str, Any]:
    """Put `n` generated letters on the simulator; their ids per platform."""
    response = await sim.admin.post("/_admin/generate", json={"n": n, "seed": seed, **where})
    response.raise_for_status()
    ids: dict[str, list[str]] = response.json()["ids"]
    return ids


async def set_faults(sim: RunningSimulator, **faults: Any) -> None:
    """Faults on every platform of the simulator."""
    response = await sim.admin.put("/_admin/faults", json={"faults": faults})
    response.raise_for_status()


async def poll_all(client: httpx.AsyncClient, *, until_caught_up: int = 50) -> list[dict[str, Any]]:
    """`poll now` every platform until each reports it caught up (bounded)."""
    results = []
    for platform in PLATFORMS:
        for _ in range(until_caught_up):
            response = await client.post(f"/platforms/{platform}/poll", headers=ADMIN)
            if response.status_code == 409:  # another instance polls it right now
                await asyncio.sleep(0.05)
                continue
            assert response.status_code == 200, response.text
            results.append(response.json())
            if response.json()["outcome"] == "caught_up":
                break
        else:
            raise AssertionError(f"{platform} never caught up: {results[-1:]}")
    return results


async def settle(probe: EventProbe, *relays: LetterRelay) -> None:
    """Wait until every outbox is published and the probe has seen all of it.

    The relays drain (publish with confirms, so the events are in the probe's queue),
    then a marker event goes out after them: once the probe sees it, nothing
    published before is still on its way.
    """
    for relay in relays:
        await relay.drain(timeout_s=30)
    marker = make_event(
        TokenRevoked(token_id=unique_name("marker"), expires_at=datetime.now(UTC)),
        producer="test",
        occurred_at=datetime.now(UTC),
        letter_id=None,
    )
    await probe.publish(marker)
    await eventually(
        lambda: any(e.id == marker.id for e in probe.of_type("token.revoked")),
        what="the settle marker",
    )


def received_letter_ids(probe: EventProbe) -> list[str]:
    """The letter ids of every `letter.received` seen (repeats included)."""
    return [str(e.letter_id) for e in probe.of_type("letter.received")]
