"""Every built service running in-process against the real servers, as one deployment.

The services share one exchange (as in production) and each has its own database and its
own FixedClock (each is its own process in production, and deadlines' clock moves alone);
the platform simulator serves on loopback for intake and publishing.
The suite shares one deployment whose state only moves through `seeded` (the requests of
the tests are refused ones); schemathesis gets its own, since it changes whatever it may.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from redis.asyncio import Redis

from devkit.simulator.server import RunningSimulator, running_simulator
from shared.auth import Role
from shared.clock import FixedClock
from shared.events import Event, make_event
from shared.events.catalog import LetterReceived
from shared.events.vocabulary import LetterSource, Person
from shared.ids import new_id
from shared.platforms.config import dump_platform_configs
from tests.security.harness import BUILT, NOW, SETTINGS_CLASSES, UNIT_A, UNIT_ASSIST, headers
from tests.support import (
    EventProbe,
    common_settings,
    delete_exchange_and_queues,
    drop_database,
    eventually,
    running,
    unique_name,
)

# Nothing listens here: publishing's calls to routing and deadlines over HTTP fail fast
# (the in-process apps have no port) instead of reaching whatever serves 8002/8003.
CLOSED_PORT_URL = "http://127.0.0.1:9"
GOV = "gov_mailbox"
COMPLAINT = (
    "我在沙坪坝区某健身房办理了预付卡，充值五千元，现在健身房突然关门，老板联系不上，"
    "预付卡余额无法退还，请商务部门督促商家退款并加强单用途预付卡监管。"
)


@dataclass
class Deployment:
    """The running services, their clients, the probe on their exchange, the simulator."""

    exchange: str
    probe: EventProbe
    sim: RunningSimulator
    clocks: dict[str, FixedClock] = field(default_factory=dict)  # one per service, as processes
    apps: dict[str, FastAPI] = field(default_factory=dict)
    clients: dict[str, httpx.AsyncClient] = field(default_factory=dict)
    databases: dict[str, str] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)

    def client(self, service: str) -> httpx.AsyncClient:
        """The in-process HTTP client of a service."""
        return self.clients[service]


def _extra_settings(service: str, *, sim: RunningSimulator, platforms: Path) -> dict[str, Any]:
    platform_side: dict[str, Any] = {"simulator_url": sim.url, "platforms_file": platforms}
    extra: dict[str, dict[str, Any]] = {
        "intake": {**platform_side, "poll_enabled": False},
        "routing": {"notice_sweep_interval_s": 0.2},
        "deadlines": {
            "sweep_interval_s": 3600.0,
            "timer_poll_delay_s": 0.1,
            # The demo's and the end-to-end tests' admin endpoint is attacked like the rest.
            "clock_control": True,
        },
        "publishing": {
            **platform_side,
            "routing_url": CLOSED_PORT_URL,
            "deadlines_url": CLOSED_PORT_URL,
            "upload_poll_interval_s": 0.5,
        },
    }
    return extra[service]


def _settings(service: str, **values: Any) -> Any:
    module = importlib.import_module(f"services.{service}.settings")
    return getattr(module, SETTINGS_CLASSES[service])(**values)


def _create_app(service: str, settings: Any, *, clock: FixedClock) -> FastAPI:
    module = importlib.import_module(f"services.{service}.app")
    app: FastAPI = module.create_app(settings, clock=clock)
    return app


async def _clear_timers(settings: Any) -> None:
    queue = getattr(settings, "timer_queue_name", None)
    if queue is None:
        return
    redis = Redis.from_url(settings.redis_url)
    try:
        for member in await redis.zrange(queue, 0, -1):
            await redis.delete(b"arq:job:" + member)
        await redis.delete(queue)
    finally:
        await redis.aclose()


@asynccontextmanager
async def deployment(services: Sequence[str], *, tmp: Path) -> AsyncIterator[Deployment]:
    """Start the services (and the simulator) and remove everything they made afterwards."""
    exchange = unique_name("security")
    probe = EventProbe(exchange)
    await probe.start()
    async with AsyncExitStack() as stack:
        sim = await stack.enter_async_context(running_simulator())
        platforms = tmp / "platforms.json"
        configs = sim.configs(timeout_s=2.0, max_attempts=1, backoff_base_s=0.0)
        platforms.write_bytes(dump_platform_configs(configs, reveal_tokens=True))
        found = Deployment(exchange=exchange, probe=probe, sim=sim)
        try:
            for service in services:
                db = unique_name(service)
                found.databases[service] = db
                settings = _settings(
                    service,
                    **common_settings(db=db, exchange=exchange),
                    **_extra_settings(service, sim=sim, platforms=platforms),
                )
                found.settings[service] = settings
                found.clocks[service] = FixedClock(NOW)
                app = _create_app(service, settings, clock=found.clocks[service])
                found.apps[service] = app
                found.clients[service] = await stack.enter_async_context(running(app))
            yield found
        finally:
            await stack.aclose()
            await probe.close()
            for service, db in found.databases.items():
                await drop_database(db)
                await _clear_timers(found.settings[service])
            await delete_exchange_and_queues(exchange)


@pytest.fixture(scope="session")
async def deployed(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Deployment]:
    """The deployment the suite shares (its state moves only through `seeded`)."""
    async with deployment(BUILT, tmp=tmp_path_factory.mktemp("security")) as found:
        yield found


# ---- seeding through the public APIs and the bus ----------------------------------------------


def received(letter_id: str, *, title: str, text: str = COMPLAINT) -> Any:
    """A `letter.received` as intake publishes it."""
    data = LetterReceived(
        platform=GOV,
        external_id=new_id("ext"),
        source=LetterSource.platform,
        title=title,
        text=text,
        person=Person(name="王小明", phone="13800001234"),
        submitted_at=NOW - timedelta(minutes=20),
        received_at=NOW,
        raw_sha256="0" * 64,
    )
    return make_event(data, producer="intake", occurred_at=NOW, letter_id=letter_id)


async def call(
    client: httpx.AsyncClient,
    method: str,
    path: str,
    *,
    role: Role,
    body: Any = None,
    unit: str | None = None,
    expect: int = 200,
) -> Any:
    """One request as `role` that must answer `expect`; its JSON."""
    response = await client.request(method, path, json=body, headers=headers(role, unit=unit))
    assert response.status_code == expect, (
        f"{method} {path}: {response.status_code} {response.text}"
    )
    return response.json()


async def register_letter(found: Deployment, *, title: str = "预付卡商家跑路无法退款") -> str:
    """A letter received (published as intake would) and classified by routing."""
    letter_id = new_id("ltr")
    await found.probe.publish(received(letter_id, title=title))
    await found.probe.wait_for("letter.classified", letter_id=letter_id)
    return letter_id


async def act(
    client: httpx.AsyncClient, method: str, path: str, *, role: Role, body: dict[str, Any]
) -> Any:
    """A letter action with the letter's current version, again if it moved meanwhile.

    Routing also records what other services report (the clocks deadlines opens), so the
    version can move between reading it and acting on it.
    """
    letter_path = "/".join(path.split("/")[:3])
    for _ in range(20):  # bounded: each retry follows a concurrent change
        current = await call(client, "GET", letter_path, role=role)
        response = await client.request(
            method, path, json={**body, "version": current["version"]}, headers=headers(role)
        )
        if response.status_code == 409 and response.json()["error"] == "stale_version":
            continue
        assert response.status_code == 200, f"{method} {path}: {response.text}"
        return response.json()
    raise AssertionError(f"{method} {path}: the letter kept changing")


async def accept_for(
    found: Deployment, letter_id: str, *, lead: str, assisting: Sequence[str] = ()
) -> None:
    """The office drafts, submits and approves a slip: the lead unit handles the letter."""
    client = found.client("routing")
    slip = {
        "opinion": "反映预付卡商家跑路，属我委职责，建议直办。",
        "nature": "complaint",
        "accepted": True,
        "route": "direct",
        "lead_unit_id": lead,
        "assisting_unit_ids": list(assisting),
        "major": False,
    }
    base = f"/letters/{letter_id}"
    await act(client, "PUT", f"{base}/slip", role=Role.office_clerk, body=slip)
    await act(client, "POST", f"{base}/slip/submit", role=Role.office_clerk, body={})
    await act(
        client, "POST", f"{base}/slip/approve", role=Role.office_head, body={"comment": "同意。"}
    )
    await found.probe.wait_for("letter.accepted", letter_id=letter_id)


@dataclass
class Seeded:
    """What exists in the shared deployment for the tests to aim at (None: service not built)."""

    letter: str | None = None  # routing: lead UNIT_A, assisting UNIT_ASSIST
    handling_clock: str | None = None  # deadlines: the letter's handling clock, overdue
    reminder: str | None = None  # deadlines: the reminder to UNIT_A
    intake_letter: str | None = None  # intake: registered by the clerk
    quarantined: str | None = None  # intake: a record that failed validation
    user: str | None = None  # routing: a user the admin created
    ids: dict[str, dict[str, str]] = field(default_factory=dict)

    def path_ids(self, service: str) -> dict[str, str]:
        """Real ids per path parameter name, for requests that must reach the handler."""
        return self.ids.get(service, {})


async def _seed_routing_and_deadlines(found: Deployment, seeded: Seeded) -> None:
    letter = await register_letter(found)
    await accept_for(found, letter, lead=UNIT_A, assisting=[UNIT_ASSIST])
    seeded.letter = letter
    routing = found.client("routing")
    user = {"id": "sec.wang", "name": "王五", "role": "unit_handler", "unit_id": UNIT_A}
    seeded.user = (
        await call(routing, "POST", "/admin/users", role=Role.admin, body=user, expect=201)
    )["id"]
    # The handler a unit head names is a person of the unit: the one the tests' unit_handler
    # tokens name (tests.support.token).
    handler = {"id": "u_unit_handler", "name": "李华", "role": "unit_handler", "unit_id": UNIT_A}
    await call(routing, "POST", "/admin/users", role=Role.admin, body=handler, expect=201)
    seeded.ids["routing"] = {
        "letter_id": letter,
        "unit_id": UNIT_A,
        "recipient_id": "medical-insurance",
        "user_id": seeded.user,
    }
    if "deadlines" not in found.apps:
        return
    deadlines = found.client("deadlines")

    def handling() -> list[Event]:
        scheduled = found.probe.of_type("clock.scheduled", letter_id=letter)
        return [e for e in scheduled if e.data.get("kind") == "handling"]

    await eventually(lambda: bool(handling()), what="the handling clock of the seeded letter")
    clock = handling()[0].data
    moved = {"set_to": (datetime.fromisoformat(clock["due"]) + timedelta(hours=9)).isoformat()}
    await call(deadlines, "POST", "/admin/clock", role=Role.admin, body=moved)
    await found.probe.wait_for("reminder.issued", letter_id=letter)
    reminders = await call(deadlines, "GET", "/reminders", role=Role.office_clerk)
    mine = [r for r in reminders["items"] if r["letter_id"] == letter]
    assert mine, f"no reminder listed for {letter}: {reminders}"
    seeded.handling_clock = clock["clock_id"]
    seeded.reminder = mine[0]["id"]
    seeded.ids["deadlines"] = {
        "letter_id": letter,
        "clock_id": clock["clock_id"],
        "reminder_id": mine[0]["id"],
        "unit_id": UNIT_A,
    }


async def _seed_intake(found: Deployment, seeded: Seeded) -> None:
    intake = found.client("intake")
    manual = {
        "source": "hotline",
        "external_id": "RX-SEC-0001",
        "title": "来电反映农贸市场占道经营",
        "text": "市民来电反映某农贸市场外长期占道经营，影响通行，希望尽快处理。",
        "submitted_at": "2026-10-09T10:20:00+08:00",
        "person": {"name": "张某某", "phone": "13800000000"},
    }
    letter = await call(intake, "POST", "/letters", role=Role.office_clerk, body=manual, expect=201)
    seeded.intake_letter = letter["id"]
    bad = {
        "id": "GOVSEC0001",
        "text": "没有标题的记录",
        "submitted_at": "2026-10-09T09:15:00+08:00",
    }
    response = await found.sim.admin.post(
        "/_admin/letters", json={"platform_id": GOV, "raw": [bad]}
    )
    response.raise_for_status()
    await call(intake, "POST", f"/platforms/{GOV}/poll", role=Role.office_clerk)
    items = await call(intake, "GET", "/quarantine", role=Role.office_clerk)
    assert items["items"], "the record without a title was not quarantined"
    seeded.quarantined = items["items"][0]["id"]
    seeded.ids["intake"] = {
        "letter_id": letter["id"],
        "item_id": items["items"][0]["id"],
        "platform_id": GOV,
    }


async def _wait_for_copy(publishing: httpx.AsyncClient, letter: str) -> None:
    """Publishing keeps its own copy of every received letter (from `letter.received`)."""
    office = headers(Role.office_clerk)
    for _ in range(300):  # bounded wait for the consumer: at most 15 s
        if (await publishing.get(f"/letters/{letter}", headers=office)).status_code == 200:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"publishing has no copy of {letter}")


async def seed(found: Deployment) -> Seeded:
    """A letter of UNIT_A through routing (its overdue clock and reminder), intake's items."""
    seeded = Seeded()
    if "routing" in found.apps:
        await _seed_routing_and_deadlines(found, seeded)
    if "intake" in found.apps:
        await _seed_intake(found, seeded)
    if "publishing" in found.apps and seeded.letter is not None:
        await _wait_for_copy(found.client("publishing"), seeded.letter)
        seeded.ids["publishing"] = {"letter_id": seeded.letter}
    return seeded


@pytest.fixture(scope="session")
async def seeded(deployed: Deployment) -> Seeded:
    """What the shared deployment holds for the tests to aim at."""
    return await seed(deployed)
