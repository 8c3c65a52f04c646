"""The pipeline benchmark's moving parts: the event log it reads, and the office and units.

`EventLog` listens to every event on the deployment's exchange from its own queue and keeps,
per letter, when each event of interest occurred (the producer's `occurred_at`) and when
`letter.published` reached the log. `Desk` is the scripted office and units working a
letter along the main path through routing's public API, as the demo's actors do, but
acting with the version the last answer showed instead of reading the letter before every
step (a stale version is read again and retried, as a person would): the benchmark
measures the services, not the actors' extra reads.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import aio_pika
import orjson

from devkit.actors.office import Office
from devkit.actors.people import ActorError, Api, ApiError, Cast, Json, Urls
from devkit.actors.script import Plan, slip_for
from shared.aio import wait_event
from shared.events.vocabulary import NotAcceptedReason, PublicationMode, Route

# Stages measured per letter: (name, the event that starts it, the event that ends it).
STAGES = (
    ("received_to_suggested", "letter.received", "letter.classified"),
    ("accepted_to_clock_opened", "letter.accepted", "clock.handling_opened"),
    ("approved_to_uploaded", "reply.approved", "letter.published"),
    ("not_accepted_to_uploaded", "letter.not_accepted", "letter.published"),
)
TRACKED = {"letter.received", "letter.classified", "letter.accepted", "letter.not_accepted"}
TRACKED |= {"reply.approved", "letter.published"}
# A person who keeps reading a stale version gives up after this many fresh reads.
MAX_STALE_RETRIES = 12

ACCEPTED = Plan("bench-direct", "accepted, answered by the lead unit", route=Route.direct)
NOT_ACCEPTED = Plan(
    "bench-not-accepted",
    "not accepted (Art. 9)",
    accepted=False,
    not_accepted_reason=NotAcceptedReason.outside_duties,
    route=None,
)
NOT_PUBLIC_REASON = "涉及企业经营信息，不宜公开。"


@dataclass
class Trace:
    """One letter's life as the exchange carried it."""

    external_id: str = ""
    occurred: dict[str, datetime] = field(default_factory=dict)
    published_seen_s: float | None = None  # perf_counter when letter.published reached the log


class EventLog:
    """Every event of one exchange, read from an exclusive queue of its own."""

    def __init__(self, amqp_url: str, *, exchange: str) -> None:
        self._amqp_url = amqp_url
        self._exchange = exchange
        self._connection: aio_pika.abc.AbstractRobustConnection | None = None
        self.traces: dict[str, Trace] = {}
        self.events_seen = 0
        self.on_classified: Callable[[str, Trace], None] | None = None
        self._changed = asyncio.Event()

    async def start(self) -> None:
        """Declare the exchange (as the services do) and listen to everything on it."""
        self._connection = await aio_pika.connect_robust(self._amqp_url)
        channel = await self._connection.channel()
        await channel.set_qos(prefetch_count=512)
        exchange = await channel.declare_exchange(
            self._exchange, aio_pika.ExchangeType.TOPIC, durable=True
        )
        queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        await queue.bind(exchange, routing_key="#")
        await queue.consume(self._on_message)

    async def close(self) -> None:
        """Drop the connection (the queue goes with it)."""
        if self._connection is not None:
            await self._connection.close()

    async def _on_message(self, message: aio_pika.abc.AbstractIncomingMessage) -> None:
        await message.ack()
        self.events_seen += 1
        # Read as plain JSON: the services checked their events; this log only times them.
        event = orjson.loads(message.body)
        letter_id, kind, data = event.get("letter_id"), event.get("type"), event.get("data") or {}
        if not letter_id:
            return
        if kind == "clock.scheduled":
            if data.get("kind") != "handling" or data.get("change") != "opened":
                return
            kind = "clock.handling_opened"
        elif kind not in TRACKED:
            return
        trace = self.traces.setdefault(letter_id, Trace())
        if kind in trace.occurred:
            return  # delivery is at least once: a repeated event changes nothing
        trace.occurred[kind] = datetime.fromisoformat(event["occurred_at"])
        if kind == "letter.received":
            trace.external_id = str(data.get("external_id", ""))
        elif kind == "letter.classified" and self.on_classified is not None:
            self.on_classified(letter_id, trace)
        if kind == "letter.published" and trace.published_seen_s is None:
            trace.published_seen_s = time.perf_counter()
            self._changed.set()

    def published(self, external_ids: set[str]) -> list[Trace]:
        """Traces of these letters whose publication was seen."""
        return [
            t
            for t in self.traces.values()
            if t.external_id in external_ids and t.published_seen_s is not None
        ]

    async def wait_stages(self, traces: list[Trace], *, timeout_s: float) -> None:
        """Wait until every stage these letters began has ended, or the time is up.

        Another service's events (a clock opened) can trail the letter's publication.
        """
        deadline = time.monotonic() + timeout_s
        while any(unfinished_stages(t) for t in traces) and time.monotonic() < deadline:  # noqa: ASYNC110 - traces the listener fills
            await asyncio.sleep(0.5)

    def poke(self) -> None:
        """Something a waiter counts changed (a letter failed)."""
        self._changed.set()

    async def wait_published(
        self, external_ids: set[str], *, failed: set[str], timeout_s: float
    ) -> list[Trace]:
        """Wait until every letter named was published or `failed` (or the time is up)."""
        deadline = time.monotonic() + timeout_s
        while True:
            done = self.published(external_ids)
            settled = {t.external_id for t in done} | (failed & external_ids)
            left = deadline - time.monotonic()
            if len(settled) >= len(external_ids) or left <= 0:
                return done
            self._changed.clear()
            await wait_event(self._changed, min(left, 1.0))


def unfinished_stages(trace: Trace) -> bool:
    """Whether a stage of the letter began but its end was not seen yet."""
    return any(start in trace.occurred and end not in trace.occurred for _, start, end in STAGES)


def stage_figures(traces: list[Trace]) -> dict[str, dict[str, Any]]:
    """p50/p95/p99/max milliseconds of every stage, from the events' `occurred_at`."""
    figures: dict[str, dict[str, Any]] = {}
    for name, start, end in STAGES:
        spans = sorted(
            (t.occurred[end] - t.occurred[start]).total_seconds() * 1000
            for t in traces
            if start in t.occurred and end in t.occurred
        )
        figures[name] = percentiles(spans)
    return figures


def percentiles(values: list[float]) -> dict[str, Any]:
    """Nearest-rank p50/p95/p99 and the maximum of sorted values, in ms."""
    if not values:
        return {"n": 0}

    def rank(p: float) -> float:
        return round(values[max(0, math.ceil(p * len(values)) - 1)], 1)

    return {
        "n": len(values),
        "p50_ms": rank(0.50),
        "p95_ms": rank(0.95),
        "p99_ms": rank(0.99),
        "max_ms": round(values[-1], 1),
    }


@dataclass
class DeskStats:
    """What the actors did, for the figures."""

    letters_driven: int = 0
    requests: int = 0
    stale_retries: int = 0
    errors: list[str] = field(default_factory=list)


class Desk:
    """The office and the units working letters along the main path through routing."""

    def __init__(self, cast: Cast, *, client: Any, urls: Urls) -> None:
        self.office = Office(cast, client=client, urls=urls)
        self.staff = {
            unit: tuple(cast.api(p, client=client, urls=urls) for p in trio)
            for unit, trio in cast.staff.items()
        }
        self.handler_people = {unit: trio[0] for unit, trio in cast.staff.items()}
        self.stats = DeskStats()

    async def _act(
        self,
        api: Api,
        letter: Json,
        *,
        method: str,
        path: str,
        body: Mapping[str, Any] | None = None,
    ) -> Json:
        """Act with the version last seen; on a stale version read again and retry."""
        letter_id = letter["id"]
        version = letter["version"]
        for _ in range(MAX_STALE_RETRIES):
            self.stats.requests += 1
            try:
                updated: Json = await api.request(
                    method,
                    service="routing",
                    path=f"/letters/{letter_id}{path}",
                    json={**(body or {}), "version": version},
                )
                return updated
            except ApiError as exc:
                if exc.status != 409 or exc.code != "stale_version":
                    raise
            self.stats.stale_retries += 1
            self.stats.requests += 1
            version = (await api.letter(letter_id))["version"]
        raise ActorError(f"letter {letter_id}: {api.person} kept reading a stale version")

    async def work(self, letter_id: str, *, accept: bool, mode: PublicationMode) -> None:
        """Slip, decision and (accepted) the unit's reply through every review."""
        office = self.office
        self.stats.requests += 1
        letter = await office.clerk.letter(letter_id)
        slip = slip_for(ACCEPTED if accept else NOT_ACCEPTED, letter=letter)
        letter = await self._act(office.clerk, letter, method="PUT", path="/slip", body=slip)
        letter = await self._act(office.clerk, letter, method="POST", path="/slip/submit")
        letter = await self._act(
            office.head, letter, method="POST", path="/slip/approve", body={"comment": "同意。"}
        )
        if accept:
            await self._reply(letter, mode=mode)
        self.stats.letters_driven += 1

    async def _reply(self, letter: Json, *, mode: PublicationMode) -> None:
        unit = letter["lead_unit_id"]
        handler, head, leader = self.staff[unit]
        person = self.handler_people[unit]
        handler_body = {"user_id": person.user_id, "name": person.name, "phone": "023-63660000"}
        letter = await self._act(head, letter, method="POST", path="/handler", body=handler_body)
        contact = {
            "at": (datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
            "channel": "phone",
            "outcome": "reached",
            "note": "与来信人电话沟通，进一步了解了来信反映的情况和诉求。",
        }
        letter = await self._act(
            handler, letter, method="POST", path="/contact-attempts", body=contact
        )
        reply = {
            "unit": f"重庆市商务委员会{unit}",
            "handler": f"{person.name}，联系电话023-63660000",
            "investigation": "收到来信后，我们与来信人电话沟通，并组织工作人员到现场进行了核查。",
            "policy_basis": "《重庆市商务委员会公开电子信箱办理工作制度》及相关法律法规的规定",
            "result": "经核查，已责令相关经营主体限期整改，并将持续跟踪整改落实情况。",
            "proposed_mode": mode.value,
            "not_public_reason": NOT_PUBLIC_REASON if mode is PublicationMode.not_public else None,
        }
        letter = await self._act(handler, letter, method="PUT", path="/reply", body=reply)
        letter = await self._act(handler, letter, method="POST", path="/reply/send-for-review")
        for approver in (head, leader):
            letter = await self._act(
                approver,
                letter,
                method="POST",
                path="/reply/unit-approve",
                body={"comment": "同意报送。"},
            )
        told = {"channel": "phone", "at": datetime.now(UTC).isoformat()}
        letter = await self._act(
            handler,
            letter,
            method="POST",
            path="/reply/submit",
            body={"writer_informed": told},
        )
        office = self.office
        for reviewer in (office.clerk, office.head, office.leader):
            letter = await self._act(
                reviewer,
                letter,
                method="POST",
                path="/reply/review/approve",
                body={"comment": "同意。"},
            )
        if letter["state"] != "approved":
            raise ActorError(f"letter {letter['id']}: '{letter['state']}' after the review chain")
