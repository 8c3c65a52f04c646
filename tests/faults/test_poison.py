"""Poison messages on the exchange in the middle of a run: parked with their error, and
nothing else held up."""

from __future__ import annotations

import asyncio
import sys

import aio_pika
import orjson
import pytest

from shared.events.topology import SUBSCRIPTIONS
from shared.ids import new_id
from tests.faults.harness import REPO_ROOT, PrivateStack
from tests.faults.load import DECIDED, FaultRun, fault_cases, fault_run
from tests.faults.verdict import report

pytestmark = pytest.mark.timeout(300)

LETTERS = 15
EVENT_TYPE = "letter.received"


def poison_bodies() -> dict[str, bytes]:
    """By message id: a body that is not JSON, and an envelope whose data is not the type's."""
    broken_json = b'{"id": "evt_poison", "type": "letter.received", "data": {'
    bad_data = orjson.dumps(
        {
            "id": new_id("evt"),
            "type": EVENT_TYPE,
            "version": 1,
            "occurred_at": "2026-10-12T02:00:00Z",
            "letter_id": new_id("ltr"),
            "producer": "intake",
            "data": {"platform": 12, "external_id": None},
        }
    )
    return {new_id("poison"): broken_json, new_id("poison"): bad_data}


async def publish(run: FaultRun, bodies: dict[str, bytes]) -> None:
    """Put the messages on the exchange as a misbehaving producer would (persistent)."""
    connection = await aio_pika.connect(run.stack.amqp_url)
    try:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(run.exchange)
        for message_id, body in bodies.items():
            message = aio_pika.Message(
                body,
                message_id=message_id,
                type=EVENT_TYPE,
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            )
            await exchange.publish(message, routing_key=EVENT_TYPE)
    finally:
        await connection.close()


async def dlq_list(run: FaultRun) -> list[dict[str, object]]:
    """What an operator sees: `mailbox dlq list` against this deployment's exchange."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.cli",
        "dlq",
        "list",
        "--amqp-url",
        run.stack.amqp_url,
        "--exchange",
        run.exchange,
        cwd=REPO_ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    return [orjson.loads(line) for line in out.splitlines() if line.strip()]


async def test_poison_messages_are_parked_with_their_error(fault_stack: PrivateStack) -> None:
    bodies = poison_bodies()
    consumers = sorted(s for s, types in SUBSCRIPTIONS.items() if EVENT_TYPE in types)
    async with fault_run(fault_stack, name="poison-message", cases=fault_cases(LETTERS)) as run:

        async def inject() -> None:
            await run.progress.until(
                lambda p: p.passed(*DECIDED) >= LETTERS // 3, what="a third decided"
            )
            await run.strike("poison messages", publish(run, bodies))

        await run.drive(inject())
        verdict, parked = await run.verdict(poison_ids=frozenset(bodies))
        listed = await dlq_list(run)
        report(run.figures(verdict, faults=len(bodies), parked=len(parked)))
    assert sorted((d.service, d.message_id) for d in parked) == sorted(
        (service, message_id) for service in consumers for message_id in bodies
    )
    for dead in parked:
        assert dead.error.startswith("malformed event:"), dead.error
        assert dead.attempts == 1
        assert dead.body.encode() == bodies[str(dead.message_id)]
    assert sorted((str(d["service"]), str(d["error"])) for d in listed) == sorted(
        (d.service, d.error) for d in parked
    )
    verdict.assert_clean()
