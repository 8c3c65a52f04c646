"""The bus against a real RabbitMQ: delivery, retry with back-off, dead-lettering, the quorum
queues' delivery limit, the move from the classic queues of before."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path

import aio_pika

from shared.bus import EventBus
from shared.dead_letters import DeadLetter
from shared.events import Event, make_event
from shared.events.catalog import TokenRevoked
from shared.events.topology import dead_queue_name, queue_name
from tests.support import AMQP_URL

REPO_ROOT = Path(__file__).resolve().parents[2]


def _event(n: int = 0) -> Event:
    return make_event(
        TokenRevoked(token_id=f"tok_{n}", expires_at=datetime(2030, 1, 1, tzinfo=UTC)),
        producer="test",
        occurred_at=datetime.now(UTC),
        letter_id=f"ltr_{n}",
    )


async def _wait_for(predicate, timeout_s: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)


async def _dead_messages(bus_url: str, queue: str) -> list[aio_pika.abc.AbstractIncomingMessage]:
    connection = await aio_pika.connect(bus_url)
    channel = await connection.channel()
    q = await channel.get_queue(queue)
    out = []
    while (message := await q.get(fail=False, no_ack=True)) is not None:
        out.append(message)
    await connection.close()
    return out


async def test_published_events_reach_the_subscribed_queue_once_each(bus: EventBus) -> None:
    seen: list[str] = []

    async def handler(event: Event) -> None:
        seen.append(event.id)

    await bus.consume(handler)
    events = [_event(n) for n in range(20)]
    for event in events:
        await bus.publish(event)
    await _wait_for(lambda: len(seen) == 20)
    assert sorted(seen) == sorted(e.id for e in events)


async def test_a_failing_handler_is_retried_until_it_succeeds(bus: EventBus) -> None:
    attempts: list[int] = []

    async def handler(event: Event) -> None:
        attempts.append(1)
        if len(attempts) < 3:
            raise RuntimeError("transient")

    await bus.consume(handler)
    await bus.publish(_event())
    await _wait_for(lambda: len(attempts) == 3)
    await asyncio.sleep(0.3)
    assert len(attempts) == 3


async def test_a_message_that_keeps_failing_is_parked_with_its_error(
    bus: EventBus, exchange_name: str
) -> None:
    calls: list[int] = []

    async def handler(event: Event) -> None:
        calls.append(1)
        raise ValueError("cannot apply")

    await bus.consume(handler)
    await bus.publish(_event(7))
    await _wait_for(lambda: len(calls) == 3)
    url = AMQP_URL
    dead: list[aio_pika.abc.AbstractIncomingMessage] = []

    async def collect() -> None:
        dead.extend(await _dead_messages(url, dead_queue_name(exchange_name, "routing")))

    for _ in range(50):
        await collect()
        if dead:
            break
        await asyncio.sleep(0.05)
    assert len(dead) == 1
    headers = dead[0].headers
    assert headers["x-attempts"] == 3
    assert "ValueError: cannot apply" in str(headers["x-last-error"])
    assert Event.from_json(dead[0].body).letter_id == "ltr_7"


async def test_a_poison_message_goes_straight_to_the_dead_letter_queue(
    bus: EventBus, exchange_name: str
) -> None:
    handled: list[Event] = []

    async def handler(event: Event) -> None:
        handled.append(event)

    await bus.consume(handler)
    connection = await aio_pika.connect(AMQP_URL)
    channel = await connection.channel()
    exchange = await channel.get_exchange(exchange_name)
    await exchange.publish(aio_pika.Message(body=b"{not json"), routing_key="letter.received")
    await connection.close()
    dead: list[aio_pika.abc.AbstractIncomingMessage] = []
    for _ in range(100):
        dead = await _dead_messages(AMQP_URL, dead_queue_name(exchange_name, "routing"))
        if dead:
            break
        await asyncio.sleep(0.05)
    assert handled == []
    assert len(dead) == 1
    assert dead[0].body == b"{not json"
    assert "malformed event" in str(dead[0].headers["x-last-error"])


async def test_operators_list_and_requeue_parked_messages(
    bus: EventBus, exchange_name: str
) -> None:
    from shared.dead_letters import list_dead_letters, requeue_dead_letters

    fail = True
    handled: list[Event] = []

    async def handler(event: Event) -> None:
        if fail:
            raise RuntimeError("bug in handler")
        handled.append(event)

    await bus.consume(handler)
    await bus.publish(_event(9))
    url = AMQP_URL
    parked = []
    for _ in range(200):
        parked = await list_dead_letters(url, exchange=exchange_name, services=["routing"])
        if parked:
            break
        await asyncio.sleep(0.05)
    assert len(parked) == 1
    assert parked[0].error == "RuntimeError: bug in handler"
    # Listing leaves it parked.
    again = await list_dead_letters(url, exchange=exchange_name, services=["routing"])
    assert [p.message_id for p in again] == [parked[0].message_id]
    fail = False  # the "fix"
    assert await requeue_dead_letters(url, exchange=exchange_name, service="routing") == 1
    await _wait_for(lambda: len(handled) == 1)
    assert handled[0].letter_id == "ltr_9"
    assert await list_dead_letters(url, exchange=exchange_name, services=["routing"]) == []


# A consumer process that dies (os._exit, as a segfault or the OOM killer would end it)
# in the middle of handling every message: the broker gets each message back unacked.
CRASHING_CONSUMER = """
import asyncio, os, sys
from shared.bus import EventBus

async def main() -> None:
    bus = EventBus(sys.argv[1], exchange_name=sys.argv[2], service="routing",
                   retry_delays_s=(0.05, 0.1), max_attempts=3, delivery_limit=int(sys.argv[3]))
    await bus.start()
    died = asyncio.get_running_loop().create_future()

    async def handler(event: object) -> None:
        os._exit(17)

    await bus.consume(handler)
    await asyncio.wait_for(died, 20)

asyncio.run(main())
"""


async def test_a_message_that_kills_its_consumer_each_time_is_parked_at_the_delivery_limit(
    exchange_name: str,
) -> None:
    from shared.dead_letters import list_dead_letters

    limit = 2
    bus = EventBus(
        AMQP_URL,
        exchange_name=exchange_name,
        service="routing",
        retry_delays_s=(0.05, 0.1),
        max_attempts=3,
        delivery_limit=limit,
    )
    await bus.start()
    try:
        await bus.publish(_event(11))
        crashes = 0
        parked: list[DeadLetter] = []
        # A classic queue has no delivery limit: the message would kill every consumer.
        for _ in range(limit + 3):
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-c",
                CRASHING_CONSUMER,
                AMQP_URL,
                exchange_name,
                str(limit),
                cwd=REPO_ROOT,
            )
            try:
                code = await asyncio.wait_for(proc.wait(), 20)
            except TimeoutError:
                proc.kill()
                await proc.wait()
                code = None
            parked = await list_dead_letters(AMQP_URL, exchange=exchange_name, services=["routing"])
            if code != 17:  # nothing left to kill it: the message is gone from the queue
                break
            crashes += 1
        # The first delivery and `limit` redeliveries each killed a consumer, then the broker
        # parked it where the operators look.
        assert crashes == limit + 1
        assert [Event.from_json(p.body.encode()).letter_id for p in parked] == ["ltr_11"]
        assert parked[0].error.startswith("delivery limit: returned unacknowledged to ")
        assert parked[0].parked_at is not None
    finally:
        await bus.delete_topology()
        await bus.close()


async def test_a_message_given_back_with_requeue_again_and_again_is_parked(
    bus: EventBus, exchange_name: str
) -> None:
    # A consumer of the queue that keeps handing the message back (basic.reject requeue,
    # which every RabbitMQ counts towards the limit) instead of acknowledging it.
    await bus.publish(_event(12))
    connection = await aio_pika.connect(AMQP_URL)
    try:
        channel = await connection.channel()
        queue = await channel.get_queue(queue_name(exchange_name, "routing"), ensure=False)
        given_back = 0
        for _ in range(50):
            message = await queue.get(no_ack=False, fail=False)
            if message is None:
                break
            await message.reject(requeue=True)
            given_back += 1
    finally:
        await connection.close()
    assert given_back == 11  # the first delivery and the default limit of 10 more
    dead = await _dead_messages(AMQP_URL, dead_queue_name(exchange_name, "routing"))
    assert [Event.from_json(m.body).letter_id for m in dead] == ["ltr_12"]


async def test_migrate_moves_the_classic_queues_into_the_quorum_queues(
    exchange_name: str,
) -> None:
    from shared.bus_migration import migrate_classic_queues

    # The topology of before: classic queues named without the version.
    connection = await aio_pika.connect(AMQP_URL)
    channel = await connection.channel(publisher_confirms=True)
    exchange = await channel.declare_exchange(
        exchange_name, aio_pika.ExchangeType.TOPIC, durable=True
    )
    old = f"{exchange_name}.routing"
    main = await channel.declare_queue(old, durable=True)
    await main.bind(exchange, routing_key="token.revoked")
    await channel.declare_queue(
        f"{old}.retry.0",
        durable=True,
        arguments={
            "x-message-ttl": 600_000,
            "x-dead-letter-exchange": "",
            "x-dead-letter-routing-key": old,
        },
    )
    await channel.declare_queue(f"{old}.dead", durable=True)
    waiting, retrying, parked = _event(21), _event(22), _event(23)
    await exchange.publish(aio_pika.Message(waiting.to_json()), routing_key="token.revoked")
    for event, name in ((retrying, f"{old}.retry.0"), (parked, f"{old}.dead")):
        await channel.default_exchange.publish(
            aio_pika.Message(event.to_json(), headers={"x-attempts": 2}), routing_key=name
        )
    await connection.close()

    try:
        moved = await migrate_classic_queues(
            AMQP_URL, exchange=exchange_name, retry_delays_s=(0.05, 0.1), delivery_limit=10
        )
        assert moved == {f"{old}.retry.0": 1, old: 1, f"{old}.dead": 1}
        # Run again: nothing of before is left.
        assert (
            await migrate_classic_queues(
                AMQP_URL, exchange=exchange_name, retry_delays_s=(0.05, 0.1), delivery_limit=10
            )
            == {}
        )
        new_bus = EventBus(
            AMQP_URL,
            exchange_name=exchange_name,
            service="routing",
            retry_delays_s=(0.05, 0.1),
            max_attempts=3,
        )
        await new_bus.start()
        try:
            seen: list[str] = []

            async def handler(event: Event) -> None:
                seen.append(event.id)

            await new_bus.consume(handler)
            fresh = _event(24)
            await new_bus.publish(fresh)
            await _wait_for(lambda: len(seen) == 3)
            await asyncio.sleep(0.3)  # and no copy left in an old queue
            assert sorted(seen) == sorted([waiting.id, retrying.id, fresh.id])
            dead = await _dead_messages(AMQP_URL, dead_queue_name(exchange_name, "routing"))
            assert [Event.from_json(m.body).id for m in dead] == [parked.id]
            assert dead[0].headers["x-attempts"] == 2
        finally:
            await new_bus.delete_topology()
            await new_bus.close()
    finally:
        connection = await aio_pika.connect(AMQP_URL)
        cleanup = await connection.channel()
        for name in (f"{old}.retry.0", old, f"{old}.dead"):
            await cleanup.queue_delete(name)
        await connection.close()
