"""`mailbox bench deadlines`: one function per measurement, merged into one JSON object."""

from __future__ import annotations

import random
import statistics
import time
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING

from services.deadlines.calendar.working_days import WorkingCalendar

if TYPE_CHECKING:
    from aio_pika.abc import AbstractExchange

# Starts spread over the years the service will hold, including one not yet confirmed.
BENCH_FIRST_START = datetime(2019, 1, 1, tzinfo=UTC)
BENCH_LAST_START = datetime(2027, 12, 31, 23, 59, 59, tzinfo=UTC)
BENCH_MAX_WORKING_DAYS = 15
# Platforms send instants in UTC or local time; both go through the conversion.
_OFFSETS = (UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-5)))

Figures = dict[str, float | int | str]


def _random_requests(*, count: int, seed: int) -> list[tuple[datetime, int]]:
    rng = random.Random(seed)  # noqa: S311 - reproducible benchmark inputs, not secrets
    span_s = int((BENCH_LAST_START - BENCH_FIRST_START).total_seconds())
    return [
        (
            (BENCH_FIRST_START + timedelta(seconds=rng.randrange(span_s))).astimezone(
                rng.choice(_OFFSETS)
            ),
            rng.randint(1, BENCH_MAX_WORKING_DAYS),
        )
        for _ in range(count)
    ]


def computations(*, count: int, rounds: int, seed: int) -> Figures:
    """Deadline computations per second on one core, from a calendar built once."""
    build_started = time.perf_counter()
    calendar = WorkingCalendar.build()
    build_ms = (time.perf_counter() - build_started) * 1000
    requests = _random_requests(count=count, seed=seed)
    due = calendar.due
    rates: list[float] = []
    provisional = 0
    for _ in range(rounds):
        started = time.perf_counter()
        provisional = 0
        for start, working_days in requests:
            provisional += due(start, working_days=working_days).provisional
        rates.append(count / (time.perf_counter() - started))
    median = statistics.median(rates)
    return {
        "computations_per_s": round(median),
        "computations_per_s_min": round(min(rates)),
        "computations_per_s_max": round(max(rates)),
        "computation_us": round(1e6 / median, 3),
        "computations_per_round": count,
        "rounds": rounds,
        "provisional_share": round(provisional / count, 4),
        "calendar_build_ms": round(build_ms, 2),
    }


def deadlines_figures(*, count: int, rounds: int, seed: int, clocks: int = 0) -> Figures:
    """Every figure of `mailbox bench deadlines`: each measurement adds its own keys."""
    figures: Figures = {}
    figures.update(computations(count=count, rounds=rounds, seed=seed))
    if clocks > 0:
        figures.update(clocks_end_to_end(count=clocks, seed=seed))
        figures.update(bare_clocks(count=clocks))
        floor = figures.get("floor_clocks_per_s")
        if isinstance(floor, float) and floor > 0 and "clocks_per_s" in figures:
            figures["clocks_share_of_floor"] = round(float(figures["clocks_per_s"]) / floor, 3)
    return figures


# -- clocks opened per second, end to end ----------------------------------------------------

BENCH_RECEIVED_AT = datetime(2026, 10, 12, 2, 0, tzinfo=UTC)
BENCH_HANDED_OVER_AT = datetime(2026, 10, 13, 1, 0, tzinfo=UTC)
# Bounded waits: a benchmark stops by itself even if the service never answers.
_WAIT_S = 300.0


def clocks_end_to_end(*, count: int, seed: int, prefetch: int = 32) -> Figures:
    """Handling clocks opened per second: `letter.accepted` published → `clock.scheduled` seen."""
    import asyncio

    try:
        return asyncio.run(_clocks_end_to_end(count=count, seed=seed, prefetch=prefetch))
    except TimeoutError:  # before OSError, of which it is a subclass
        return {"clocks_opened": 0, "clocks_error": f"not all {count} clocks within {_WAIT_S} s"}
    except OSError as error:  # the local stack is not running
        return {"clocks_opened": 0, "clocks_error": f"local stack unreachable: {error}"}


async def _clocks_end_to_end(*, count: int, seed: int, prefetch: int = 32) -> Figures:
    import asyncio
    import contextlib
    import sys

    import aio_pika
    from redis.asyncio import Redis

    from services.deadlines.app import create_app
    from services.deadlines.settings import DeadlinesSettings
    from shared.clock import FixedClock
    from shared.events import Event, make_event
    from shared.events.catalog import LetterAccepted, LetterReceived
    from shared.events.vocabulary import LetterSource, Nature, Person
    from shared.ids import new_id
    from shared.mongo import make_client

    rng = random.Random(seed)  # noqa: S311 - reproducible benchmark inputs, not secrets
    name = f"bench_deadlines_{new_id('b').lower()}"
    settings = DeadlinesSettings(
        mongo_db=name,
        exchange_name=name,
        sweep_interval_s=3600.0,
        log_level="WARNING",
        consumer_prefetch=prefetch,
    )
    # The service's time stays at receipt: no due-soon or due timer fires during the run,
    # so only the opening of clocks is measured.
    app = create_app(settings, clock=FixedClock(BENCH_RECEIVED_AT))
    letters = [new_id("ltr") for _ in range(count)]
    natures = list(Nature)
    seen = {"acceptance": 0, "handling": 0}
    all_seen = {"acceptance": asyncio.Event(), "handling": asyncio.Event()}

    connection = await aio_pika.connect_robust(settings.amqp_url)
    try:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.declare_exchange(name, aio_pika.ExchangeType.TOPIC, durable=True)
        queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        await queue.bind(exchange, routing_key="clock.scheduled")

        async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            await message.ack()
            kind = Event.from_json(message.body).data["kind"]
            if kind in seen:
                seen[kind] += 1
                if seen[kind] >= count:
                    all_seen[kind].set()

        await queue.consume(on_message)

        async def publish(events: list[Event]) -> None:
            await _publish_all(exchange, [(e.type, e.to_json()) for e in events])

        received = [
            make_event(
                LetterReceived(
                    platform="bench",
                    external_id=letter,
                    source=LetterSource.platform,
                    title="bench",
                    text="bench",
                    person=Person(),
                    submitted_at=BENCH_RECEIVED_AT,
                    received_at=BENCH_RECEIVED_AT,
                    raw_sha256="0" * 64,
                ),
                producer="intake",
                occurred_at=BENCH_RECEIVED_AT,
                letter_id=letter,
            )
            for letter in letters
        ]
        accepted = [
            make_event(
                LetterAccepted(
                    slip_id=f"slip-{letter}",
                    nature=rng.choice(natures),
                    lead_unit_id=f"unit_{rng.randrange(12)}",
                    handed_over_at=BENCH_HANDED_OVER_AT,
                ),
                producer="routing",
                occurred_at=BENCH_HANDED_OVER_AT,
                letter_id=letter,
            )
            for letter in letters
        ]
        # The service logs to stdout; the figures own stdout.
        with contextlib.redirect_stdout(sys.stderr):
            async with app.router.lifespan_context(app):
                await publish(received)
                await asyncio.wait_for(all_seen["acceptance"].wait(), _WAIT_S)
                # Let the relay finish clearing the receipts' outboxes: only the
                # acceptances are timed.
                await asyncio.wait_for(app.state.runtime.relay.drain(), _WAIT_S)
                started = time.perf_counter()
                await publish(accepted)
                await asyncio.wait_for(all_seen["handling"].wait(), _WAIT_S)
                elapsed = time.perf_counter() - started
                await app.state.runtime.bus.delete_topology()
    finally:
        await connection.close()
        client = make_client(settings.mongo_url)
        info = await client.admin.command("buildInfo")
        await client.drop_database(name)
        await client.close()
        redis = Redis.from_url(settings.redis_url)
        for member in await redis.zrange(settings.timer_queue_name, 0, -1):
            await redis.delete(b"arq:job:" + member)
        await redis.delete(settings.timer_queue_name)
        await redis.aclose()
    return {
        # FerretDB v1 (the local stack without mongod) rewrites documents far slower than
        # MongoDB: the figure depends on which server answered.
        "mongo_server": "ferretdb" if "ferretdbVersion" in info else "mongod",
        "clocks_opened": count,
        "clocks_per_s": round(count / elapsed, 1),
        "clocks_seconds": round(elapsed, 3),
    }


# -- the floor: the least a clock can cost on this machine -----------------------------------


def bare_clocks(*, count: int, prefetch: int = 32) -> Figures:
    """Clocks/s of a bare loop doing only the writes and messages a clock cannot do without."""
    import asyncio

    try:
        return asyncio.run(_bare_clocks(count=count, prefetch=prefetch))
    except TimeoutError:  # before OSError, of which it is a subclass
        return {"floor_error": f"not all {count} messages within {_WAIT_S} s"}
    except OSError as error:
        return {"floor_error": f"local stack unreachable: {error}"}


async def _bare_clocks(*, count: int, prefetch: int) -> Figures:
    """Per `letter.accepted`: insert the handling clock, close the acceptance clock with a
    conditional update, publish one persistent message with confirms, ack — on the same
    broker and database server, with no service, validation, audit, facts or timers. The
    service cannot open clocks faster than this loop; its figure is the ceiling."""
    import asyncio

    import aio_pika
    import orjson

    from services.deadlines.settings import DeadlinesSettings
    from shared.ids import new_id
    from shared.mongo import make_client

    settings = DeadlinesSettings()
    name = f"bench_floor_{new_id('b').lower()}"
    client = make_client(settings.mongo_url)
    clocks = client[name]["clocks"]
    letters = [new_id("ltr") for _ in range(count)]
    await clocks.insert_many(
        [{"_id": f"{letter}:acceptance", "state": "running", "version": 1} for letter in letters]
    )
    done = asyncio.Event()
    seen = 0
    connection = await aio_pika.connect_robust(settings.amqp_url)
    try:
        channel = await connection.channel(publisher_confirms=True)
        await channel.set_qos(prefetch_count=prefetch)
        exchange = await channel.declare_exchange(
            name, aio_pika.ExchangeType.TOPIC, auto_delete=True
        )
        work = await channel.declare_queue(exclusive=True, auto_delete=True)
        await work.bind(exchange, routing_key="letter.accepted")
        out = await channel.declare_queue(exclusive=True, auto_delete=True)
        await out.bind(exchange, routing_key="clock.scheduled")

        async def open_clock(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            letter = orjson.loads(message.body)["letter_id"]
            await clocks.insert_one({"_id": f"{letter}:handling", "state": "running", "version": 1})
            await clocks.update_one(
                {"_id": f"{letter}:acceptance", "version": 1},
                {"$set": {"state": "met"}, "$inc": {"version": 1}},
            )
            await exchange.publish(
                aio_pika.Message(
                    orjson.dumps({"clock_id": f"{letter}:handling"}),
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                ),
                routing_key="clock.scheduled",
            )
            await message.ack()

        async def count_scheduled(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            nonlocal seen
            await message.ack()
            seen += 1
            if seen >= count:
                done.set()

        await work.consume(open_clock)
        await out.consume(count_scheduled)
        started = time.perf_counter()
        await _publish_all(
            exchange,
            [("letter.accepted", orjson.dumps({"letter_id": letter})) for letter in letters],
        )
        await asyncio.wait_for(done.wait(), _WAIT_S)
        elapsed = time.perf_counter() - started
    finally:
        await connection.close()
        await client.drop_database(name)
        await client.close()
    return {"floor_clocks_per_s": round(count / elapsed, 1), "floor_clocks": count}


async def _publish_all(exchange: AbstractExchange, messages: list[tuple[str, bytes]]) -> None:
    """Persistent messages (routing key, body), 200 confirmed at a time."""
    import asyncio

    import aio_pika

    for start in range(0, len(messages), 200):
        await asyncio.gather(
            *(
                exchange.publish(
                    aio_pika.Message(body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                    routing_key=key,
                )
                for key, body in messages[start : start + 200]
            )
        )
