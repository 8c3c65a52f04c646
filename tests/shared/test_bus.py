"""The bus against a real RabbitMQ: delivery, retry with back-off, dead-lettering."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import aio_pika

from shared.bus import EventBus
from shared.events import Event, make_event
from shared.events.catalog import TokenRevoked
from shared.events.topology import dead_queue_name
from tests.support import AMQP_URL


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
