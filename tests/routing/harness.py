"""Helpers for driving the routing service against the real servers: the app, letters, desks."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from services.routing.app import create_app
from services.routing.settings import RoutingSettings
from shared.auth import Role
from shared.clock import FixedClock
from shared.events import Event, make_event
from shared.events.catalog import ClockScheduled, LetterReceived
from shared.events.vocabulary import ClockKind, ClockState, LetterSource, Person
from shared.ids import new_id
from tests.support import (
    EventProbe,
    auth,
    common_settings,
    delete_exchange_and_queues,
    drop_database,
    running,
    unique_name,
)

# A Monday morning in Chongqing.
NOW = datetime(2026, 10, 12, 1, 30, tzinfo=UTC)

LEAD = "market-order"
ASSIST = "consumption"
OTHER = "foreign-trade"
HANDLER = "u_handler_li"

COMPLAINT = (
    "我在沙坪坝区某健身房办理了预付卡，充值五千元，现在健身房突然关门，老板联系不上，"
    "预付卡余额无法退还，请商务部门督促商家退款并加强单用途预付卡监管。"
)

REPLY = {
    "unit": "市商务委市场秩序处",
    "handler": "李华，联系电话023-63661234",
    "investigation": (
        "接件后我处与来信人电话联系，了解预付卡办理和余额情况，并会同区商务委实地核查门店经营状况。"
    ),
    "policy_basis": "《单用途商业预付卡管理办法（试行）》第二十条",
    "result": "区商务委已约谈经营者并督促其制定退款方案，来信人余额已于十月十五日全额退还。",
    "proposed_mode": "online",
}

# Art. 14 ¶1: the handler tells the writer the result as the reply goes to the office.
WRITER_INFORMED = {"channel": "phone", "at": NOW.isoformat(), "note": "已电话告知来信人处理结果。"}


@dataclass
class Stack:
    """A running routing app, its HTTP client, an event probe and the clock."""

    client: httpx.AsyncClient
    probe: EventProbe
    clock: FixedClock
    settings: RoutingSettings
    # The app itself, for the few tests that reach a part the API does not expose.
    app: FastAPI | None = None


@asynccontextmanager
async def routing_stack(**overrides: Any) -> AsyncIterator[Stack]:
    """The routing app on its own database and exchange, torn down afterwards."""
    db, exchange = unique_name("routing"), unique_name("routing")
    fields = {**common_settings(db=db, exchange=exchange), "notice_sweep_interval_s": 0.2}
    settings = RoutingSettings(**{**fields, **overrides})
    clock = FixedClock(NOW)
    probe = EventProbe(exchange)
    await probe.start()
    try:
        async with running(create_app(settings, clock=clock)) as client:
            await enrol_handler(client)
            yield Stack(client=client, probe=probe, clock=clock, settings=settings)
    finally:
        await probe.close()
        await delete_exchange_and_queues(exchange)
        await drop_database(db)


async def enrol_handler(client: httpx.AsyncClient) -> None:
    """HANDLER as a person of the lead unit: a unit names only its own people (Art. 14)."""
    handler = {"id": HANDLER, "name": "李华", "role": "unit_handler", "unit_id": LEAD}
    created = await client.post("/admin/users", json=handler, headers=auth(Role.admin))
    assert created.status_code in (201, 409), created.text  # 409: enrolled already


def received(
    *,
    title: str = "预付卡商家跑路无法退款",
    text: str = COMPLAINT,
    person: Person | None = None,
    received_at: datetime = NOW,
    letter_id: str | None = None,
) -> Event:
    """A `letter.received` as intake publishes it."""
    data = LetterReceived(
        platform="cq-gov-mailbox",
        external_id=new_id("ext"),
        source=LetterSource.platform,
        title=title,
        text=text,
        person=person or Person(name="王小明", phone="13800001234"),
        submitted_at=received_at - timedelta(minutes=20),
        received_at=received_at,
        raw_sha256="0" * 64,
    )
    return make_event(
        data, producer="intake", occurred_at=received_at, letter_id=letter_id or new_id("ltr")
    )


def clock_scheduled(
    letter_id: str,
    *,
    due: datetime,
    kind: ClockKind = ClockKind.handling,
    unit_id: str | None = LEAD,
    change: str = "opened",
) -> Event:
    """A `clock.scheduled` as the deadlines service publishes it."""
    data = ClockScheduled(
        clock_id=f"{letter_id}:{kind.value}",
        kind=kind,
        unit_id=unit_id,
        started_at=NOW,
        due=due,
        provisional=False,
        state=ClockState.running,
        working_days=10,
        change=change,
    )
    return make_event(data, producer="deadlines", occurred_at=NOW, letter_id=letter_id)


class Desk:
    """Calls the routing API as people of each role do."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.client = stack.client

    @staticmethod
    def headers(role: Role, unit: str | None = None, user: str | None = None) -> dict[str, str]:
        if unit is None and role in (Role.unit_handler, Role.unit_head, Role.unit_leader):
            unit = LEAD
        if user is None and role is Role.unit_handler:
            user = HANDLER
        return auth(role, unit_id=unit, user_id=user)

    async def register(self, event: Event | None = None) -> str:
        """Publish a received letter and wait until it is classified."""
        event = event or received()
        await self.stack.probe.publish(event)
        await self.stack.probe.wait_for("letter.classified", letter_id=event.letter_id)
        assert event.letter_id is not None
        return event.letter_id

    async def get(
        self, letter_id: str, role: Role = Role.office_clerk, *, unit: str | None = None
    ) -> httpx.Response:
        return await self.client.get(f"/letters/{letter_id}", headers=self.headers(role, unit))

    async def letter(self, letter_id: str) -> dict[str, Any]:
        response = await self.get(letter_id)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def call(
        self,
        letter_id: str,
        path: str,
        role: Role,
        body: dict[str, Any] | None = None,
        *,
        unit: str | None = None,
        user: str | None = None,
        method: str = "POST",
        version: int | None = None,
        expect: int = 200,
    ) -> dict[str, Any]:
        """One action on the letter with its current version (or the one given)."""
        if version is None:
            version = (await self.letter(letter_id))["version"]
        payload = {"version": version, **(body or {})}
        response = await self.client.request(
            method,
            f"/letters/{letter_id}{path}",
            json=payload,
            headers=self.headers(role, unit, user),
        )
        assert response.status_code == expect, f"{path}: {response.status_code} {response.text}"
        result: dict[str, Any] = response.json()
        return result

    async def inbox(
        self, unit: str, *, letter_id: str, kind: str, timeout_s: float = 10.0
    ) -> list[dict[str, Any]]:
        """The unit's notices of one kind about a letter, waiting until there is one."""
        deadline = asyncio.get_running_loop().time() + timeout_s
        while True:
            response = await self.client.get(
                "/inbox", params={"limit": 200}, headers=self.headers(Role.unit_head, unit)
            )
            assert response.status_code == 200, response.text
            found = [
                item
                for item in response.json()["items"]
                if item["letter_id"] == letter_id and item["kind"] == kind
            ]
            if found:
                return found
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"no {kind} notice for {unit} within {timeout_s} s")
            await asyncio.sleep(0.05)

    async def accept_direct(
        self, letter_id: str, *, assisting: list[str] | None = None, major: bool = False
    ) -> dict[str, Any]:
        """Slip drafted, submitted and approved for direct handling by LEAD."""
        slip = {
            "opinion": "反映预付卡商家跑路，属我委职责，建议直办。",
            "nature": "complaint",
            "accepted": True,
            "route": "direct",
            "lead_unit_id": LEAD,
            "assisting_unit_ids": [ASSIST] if assisting is None else assisting,
            "major": major,
        }
        await self.call(letter_id, "/slip", Role.office_clerk, slip, method="PUT")
        await self.call(letter_id, "/slip/submit", Role.office_clerk)
        return await self.call(letter_id, "/slip/approve", Role.office_head, {"comment": "同意。"})

    async def eventually_clock(self, letter_id: str, kind: str) -> None:
        """Wait until routing has applied the letter's clock of `kind`."""
        deadline = asyncio.get_running_loop().time() + 10
        while kind not in (await self.letter(letter_id)).get("clocks", {}):
            assert asyncio.get_running_loop().time() < deadline, f"{kind} clock not applied"
            await asyncio.sleep(0.05)

    async def accept_with_clock(self, *, due_in: timedelta = timedelta(days=14)) -> str:
        """A new letter accepted for LEAD whose handling clock (due NOW + due_in) routing knows."""
        letter_id = await self.register()
        await self.accept_direct(letter_id)
        await self.stack.probe.publish(clock_scheduled(letter_id, due=NOW + due_in))
        await self.eventually_clock(letter_id, "handling")
        return letter_id

    async def handle_to_submission(
        self, letter_id: str, *, reply: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """From `assigned` (or `returned`) to the office's re-check."""
        await self.handle_to_unit_approval(letter_id, reply=reply)
        return await self.submit(letter_id)

    async def handle_to_unit_approval(
        self, letter_id: str, *, reply: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """From `assigned` (or `returned`) to `unit_approved`, ready to submit."""
        letter = await self.letter(letter_id)
        if letter["state"] == "assigned":
            await enrol_handler(self.client)
            await self.call(
                letter_id, "/handler", Role.unit_head, {"user_id": HANDLER, "name": "李华"}
            )
        if not letter["contact_attempts"] and not letter["contact_invalid"]:
            await self.call(
                letter_id,
                "/contact-attempts",
                Role.unit_handler,
                {"at": NOW.isoformat(), "channel": "phone", "outcome": "reached"},
            )
        await self.call(letter_id, "/reply", Role.unit_handler, reply or REPLY, method="PUT")
        await self.call(letter_id, "/reply/send-for-review", Role.unit_handler)
        await self.call(letter_id, "/reply/unit-approve", Role.unit_head)
        return await self.call(letter_id, "/reply/unit-approve", Role.unit_leader)

    async def submit(self, letter_id: str, *, expect: int = 200) -> dict[str, Any]:
        """The handler submits, saying how the writer was told (not if unreachable)."""
        letter = await self.letter(letter_id)
        body = {} if letter["contact_invalid"] else {"writer_informed": WRITER_INFORMED}
        return await self.call(letter_id, "/reply/submit", Role.unit_handler, body, expect=expect)

    async def office_chain(self, letter_id: str, *, major: bool = False) -> dict[str, Any]:
        """Re-check, office head, office leader (and the principal leader) approve."""
        await self.call(letter_id, "/reply/review/approve", Role.office_clerk)
        await self.call(letter_id, "/reply/review/approve", Role.office_head)
        result = await self.call(letter_id, "/reply/review/approve", Role.office_leader)
        if major:
            result = await self.call(letter_id, "/reply/review/approve", Role.principal_leader)
        return result
