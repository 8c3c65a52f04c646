"""Baselines for the pipeline benchmark: the bare cost of the broker and the database.

The pipeline's figures mean little alone; beside these they say how much of the
time is our own work. Both run against the same servers as the pipeline.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aio_pika

from shared.ids import new_id
from shared.mongo import make_client


async def broker_round_trips(
    amqp_url: str, *, messages: int = 2000, concurrency: int = 32
) -> dict[str, Any]:
    """Persistent publish with confirms → consume → ack, as our bus does, with nothing else."""
    exchange_name = f"baseline-{new_id('x').lower()}"
    connection = await aio_pika.connect_robust(amqp_url)
    try:
        publish_channel = await connection.channel(publisher_confirms=True)
        exchange = await publish_channel.declare_exchange(
            exchange_name, aio_pika.ExchangeType.TOPIC, durable=True
        )
        consume_channel = await connection.channel()
        await consume_channel.set_qos(prefetch_count=concurrency)
        queue = await consume_channel.declare_queue(f"{exchange_name}.q", durable=True)
        await queue.bind(exchange, routing_key="#")
        done = asyncio.Event()
        received = 0
        latencies: list[float] = []

        async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            nonlocal received
            latencies.append(time.perf_counter() - float(message.body.decode()))
            await message.ack()
            received += 1
            if received == messages:
                done.set()

        await queue.consume(on_message)
        semaphore = asyncio.Semaphore(concurrency)

        async def publish_one() -> None:
            async with semaphore:
                body = str(time.perf_counter()).encode()
                await exchange.publish(
                    aio_pika.Message(body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                    routing_key="baseline",
                )

        started = time.perf_counter()
        await asyncio.gather(*(publish_one() for _ in range(messages)))
        await asyncio.wait_for(done.wait(), timeout=300)
        elapsed = time.perf_counter() - started
        await queue.delete(if_unused=False, if_empty=False)
        await exchange.delete()
    finally:
        await connection.close()
    latencies.sort()
    return {
        "messages": messages,
        "messages_per_s": round(messages / elapsed, 1),
        "p50_ms": round(latencies[len(latencies) // 2] * 1000, 2),
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 2),
    }


async def database_round_trips(
    mongo_url: str, *, documents: int = 2000, concurrency: int = 32
) -> dict[str, Any]:
    """Insert a document, then one conditional update of it, as an aggregate's life begins."""
    client = make_client(mongo_url)
    db_name = f"baseline_{new_id('d').lower()}"
    collection = client[db_name]["docs"]
    semaphore = asyncio.Semaphore(concurrency)

    async def one(n: int) -> None:
        async with semaphore:
            doc_id = f"d{n}"
            await collection.insert_one({"_id": doc_id, "version": 1, "state": "new", "outbox": []})
            await collection.update_one(
                {"_id": doc_id, "version": 1}, {"$set": {"state": "done"}, "$inc": {"version": 1}}
            )

    try:
        started = time.perf_counter()
        await asyncio.gather(*(one(n) for n in range(documents)))
        elapsed = time.perf_counter() - started
    finally:
        await client.drop_database(db_name)
        await client.close()
    return {"documents": documents, "insert_and_update_per_s": round(documents / elapsed, 1)}
