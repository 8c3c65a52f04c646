"""What a fault test checks after its run, and the figures it reports.

- every letter in its plan's final state (routing's API);
- exactly one upload per letter that was answered or noticed (the simulator's record);
- every event of every letter's life on the exchange exactly once, by a probe whose
  durable queue was bound before the first letter arrived (so a broker restart loses
  none of its copies either);
- nothing parked in a dead-letter queue but what the test put there, and every
  service's queue drained.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aio_pika

from devkit.actors.people import Json
from devkit.actors.script import Case
from shared.dead_letters import DeadLetter, list_dead_letters
from shared.events.envelope import Event
from shared.events.topology import SUBSCRIPTIONS, queue_name, retry_queue_name
from tests.e2e.test_lifecycle import expected_events
from tests.faults.harness import REPO_ROOT

FIGURES_PATH = REPO_ROOT / "var" / "log" / "faults-figures.jsonl"
PROBE_SUFFIX = "faults-probe"


class DurableProbe:
    """Every event on an exchange, through a durable queue of its own.

    The e2e tests' probe uses an exclusive queue, which a broker restart deletes: events
    published while it is gone would look lost. This one survives the restart; its robust
    connection reconnects and consumes what waited. Copies are counted by event id.
    """

    def __init__(self, url: str, *, exchange: str) -> None:
        self.url = url
        self.exchange = exchange
        self.queue = f"{exchange}.{PROBE_SUFFIX}"
        self.by_id: dict[str, Event] = {}
        self.deliveries = 0
        self._connection: aio_pika.abc.AbstractRobustConnection | None = None

    async def start(self) -> None:
        """Declare the exchange and the probe's queue bound to everything; consume."""
        self._connection = await aio_pika.connect_robust(self.url)
        channel = await self._connection.channel()
        exchange = await channel.declare_exchange(
            self.exchange, aio_pika.ExchangeType.TOPIC, durable=True
        )
        queue = await channel.declare_queue(self.queue, durable=True)
        await queue.bind(exchange, routing_key="#")

        async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            async with message.process():
                self.deliveries += 1
                try:
                    event = Event.from_json(message.body)
                except ValueError:
                    return  # a poison message a test published: the dead letters show it
                self.by_id.setdefault(event.id, event)

        await queue.consume(on_message)

    async def close(self) -> None:
        """Delete the probe's queue and disconnect."""
        if self._connection is None:
            return
        channel = await self._connection.channel()
        await channel.queue_delete(self.queue)
        await self._connection.close()
        self._connection = None

    def of_letter(self, letter_id: str) -> list[Event]:
        """The distinct events of one letter."""
        return [e for e in self.by_id.values() if e.letter_id == letter_id]


@dataclass
class Verdict:
    """What went wrong, letter by letter (empty lists: nothing)."""

    letters: int
    stuck: list[str] = field(default_factory=list)
    missing_uploads: list[str] = field(default_factory=list)
    duplicate_uploads: list[str] = field(default_factory=list)
    lost_events: list[str] = field(default_factory=list)
    duplicate_events: list[str] = field(default_factory=list)
    parked: list[str] = field(default_factory=list)
    undrained: dict[str, int] = field(default_factory=dict)
    upload_conflicts: int = 0
    upload_repeats: int = 0
    redeliveries: int = 0

    @property
    def lost(self) -> int:
        """Letters short of their final state, uploads and events that never came, parked events."""
        return (
            len(self.stuck) + len(self.missing_uploads) + len(self.lost_events) + len(self.parked)
        )

    @property
    def duplicated(self) -> int:
        """Uploads of one letter beyond the first (or another body under one idempotency key),
        events of one fact beyond the first."""
        return len(self.duplicate_uploads) + self.upload_conflicts + len(self.duplicate_events)

    def assert_clean(self) -> None:
        """Nothing lost, nothing duplicated, nothing left in a queue."""
        assert (self.lost, self.duplicated, self.undrained) == (0, 0, {}), self.problems()

    def problems(self) -> dict[str, Any]:
        """Everything that must be empty, for the assertion message."""
        return {
            "stuck": self.stuck,
            "missing_uploads": self.missing_uploads,
            "duplicate_uploads": self.duplicate_uploads,
            "upload_conflicts": self.upload_conflicts,
            "lost_events": self.lost_events,
            "duplicate_events": self.duplicate_events,
            "parked": self.parked,
            "undrained": self.undrained,
        }


def check_letters(verdict: Verdict, *, cases: list[Case], letters: dict[str, Json]) -> None:
    """Each case ran without an actor error and its letter is where its plan ends."""
    for case in cases:
        if case.error:
            verdict.stuck.append(f"{case.key}: {case.error[:300]}")
            continue
        letter = letters.get(case.letter_id or "")
        state = None if letter is None else letter["state"]
        if state != case.plan.final_state:
            verdict.stuck.append(f"{case.key} {case.letter_id}: {state} ≠ {case.plan.final_state}")


def check_uploads(verdict: Verdict, *, cases: list[Case], uploads: Json) -> None:
    """One upload per letter that ends archived, none for the others."""
    received = Counter((u["platform_id"], u["external_id"]) for u in uploads["uploads"])
    verdict.upload_repeats = int(uploads.get("duplicate_attempts", 0))
    verdict.upload_conflicts = int(uploads.get("conflicts", 0))
    for case in cases:
        expected = 1 if case.plan.final_state == "archived" else 0
        got = received[(case.letter.platform, case.letter.external_id)]
        if got < expected:
            verdict.missing_uploads.append(f"{case.key} {case.letter_id}")
        verdict.duplicate_uploads += [f"{case.key} {case.letter_id}"] * max(0, got - expected)


def check_events(verdict: Verdict, *, cases: list[Case], probe: DurableProbe) -> None:
    """Each letter's life published each of its events once (distinct ids, by type)."""
    verdict.redeliveries = probe.deliveries - len(probe.by_id)
    for case in cases:
        if case.letter_id is None:
            continue
        seen = Counter(e.type for e in probe.of_letter(case.letter_id))
        for event_type, count in expected_events(case.plan).items():
            name = f"{case.key} {case.letter_id} {event_type}"
            verdict.lost_events += [name] * max(0, count - seen[event_type])
            verdict.duplicate_events += [name] * max(0, seen[event_type] - count)


def check_parked(
    verdict: Verdict, *, parked: list[DeadLetter], poison_ids: frozenset[str] = frozenset()
) -> None:
    """Anything in a dead-letter queue the test did not put there counts as lost."""
    verdict.parked += [
        f"{d.service}: {d.type} {d.message_id}: {d.error[:200]}"
        for d in parked
        if d.message_id not in poison_ids
    ]


async def parked_messages(url: str, *, exchange: str) -> list[DeadLetter]:
    """Every message parked in any service's dead-letter queue."""
    return await list_dead_letters(url, exchange=exchange, limit=1000)


async def undrained_queues(
    url: str, *, exchange: str, retry_steps: int, timeout_s: float = 30.0
) -> dict[str, int]:
    """Messages still waiting in the services' queues (and retry queues) after `timeout_s`."""
    names = [queue_name(exchange, service) for service in SUBSCRIPTIONS]
    names += [
        retry_queue_name(exchange, service, step=step)
        for service in SUBSCRIPTIONS
        for step in range(retry_steps)
    ]
    connection = await aio_pika.connect(url)
    try:
        channel = await connection.channel()
        deadline = time.monotonic() + timeout_s
        while True:
            left: dict[str, int] = {}
            for name in names:
                queue = await channel.declare_queue(name, passive=True)
                count = queue.declaration_result.message_count or 0
                if count:
                    left[name] = count
            if not left or time.monotonic() > deadline:
                return left
            await asyncio.sleep(0.5)
    finally:
        await connection.close()


def report(figures: dict[str, Any], *, path: Path = FIGURES_PATH) -> None:
    """Print the figures as one JSON line (`pytest -s` shows it) and append them to the log."""
    line = json.dumps(figures, ensure_ascii=False, sort_keys=False)
    print(f"\nfault figures: {line}")
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as out:
        out.write(line + "\n")
