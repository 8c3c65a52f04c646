"""Operators' view of the dead-letter queues: look at parked messages, send them back.

A message is parked after its handler failed `max_attempts` times, or at once if it
is not a valid event (the consumer parks it, with `x-last-error`); or by the broker, when
it came back to its queue unacknowledged `delivery_limit` times (a consumer died holding
it each time: `x-death` says so). After fixing the cause, an operator requeues it; the
consumer is idempotent, so requeueing one that had partly applied is safe.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import aio_pika
from pydantic import BaseModel

from shared.events.topology import SUBSCRIPTIONS, dead_queue_name, queue_name


class DeadLetter(BaseModel):
    """One parked message."""

    service: str
    message_id: str | None
    type: str | None
    attempts: int
    error: str
    parked_at: str | None
    body: str


# What the broker adds when it dead-letters a message; a requeued message starts clean.
_BROKER_HEADERS = (
    "x-death",
    "x-first-death-exchange",
    "x-first-death-queue",
    "x-first-death-reason",
    "x-last-death-exchange",
    "x-last-death-queue",
    "x-last-death-reason",
    "x-delivery-count",
)


def _broker_parking(headers: dict[str, Any]) -> dict[str, Any] | None:
    """The broker's record of parking a message at its delivery limit, if it did."""
    deaths = headers.get("x-death")
    if not isinstance(deaths, list):
        return None
    # Newest first: the delay queues' expiries come before it in the message's history.
    for death in deaths:
        if isinstance(death, dict) and death.get("reason") == "delivery_limit":
            return death
    return None


def _dead_letter(service: str, message: aio_pika.abc.AbstractIncomingMessage) -> DeadLetter:
    headers: dict[str, Any] = dict(message.headers or {})
    error = str(headers.get("x-last-error", ""))
    parked_at = str(headers["x-parked-at"]) if "x-parked-at" in headers else None
    parking = _broker_parking(headers) if "x-parked-at" not in headers else None
    if parking is not None:
        error = (
            f"delivery limit: returned unacknowledged to {parking.get('queue')} too often "
            f"(a consumer died holding it each time); last handler error: {error or 'none'}"
        )
        when = parking.get("time")
        parked_at = when.isoformat() if isinstance(when, datetime) else None
    return DeadLetter(
        service=service,
        message_id=message.message_id,
        type=message.type,
        attempts=int(headers.get("x-attempts", 0) or 0),
        error=error,
        parked_at=parked_at,
        body=message.body.decode("utf-8", errors="replace")[:4000],
    )


async def list_dead_letters(
    url: str, *, exchange: str, services: list[str] | None = None, limit: int = 100
) -> list[DeadLetter]:
    """Parked messages, left in their queues (read, then returned unacknowledged)."""
    out: list[DeadLetter] = []
    connection = await aio_pika.connect(url)
    try:
        channel = await connection.channel()
        for service in services or list(SUBSCRIPTIONS):
            queue = await channel.get_queue(dead_queue_name(exchange, service), ensure=True)
            held = []
            while len(out) < limit:
                message = await queue.get(no_ack=False, fail=False)
                if message is None:
                    break
                held.append(message)
                out.append(_dead_letter(service, message))
            # Closing the channel returns every unacknowledged message to its queue.
        await channel.close()
    finally:
        await connection.close()
    return out


async def requeue_dead_letters(
    url: str, *, exchange: str, service: str, message_id: str | None = None
) -> int:
    """Send parked messages of one service (or one message) back to its queue.

    Only the messages parked when it starts: one that fails again at once is parked
    anew behind them, and is not sent round a second time.
    """
    moved = 0
    connection = await aio_pika.connect(url)
    try:
        channel = await connection.channel(publisher_confirms=True)
        dead = await channel.declare_queue(dead_queue_name(exchange, service), passive=True)
        keep = []
        for _ in range(dead.declaration_result.message_count or 0):
            message = await dead.get(no_ack=False, fail=False)
            if message is None:
                break
            if message_id is not None and message.message_id != message_id:
                keep.append(message)
                continue
            headers = dict(message.headers or {})
            for key in ("x-attempts", "x-last-error", "x-parked-at", *_BROKER_HEADERS):
                headers.pop(key, None)
            await channel.default_exchange.publish(
                aio_pika.Message(
                    body=message.body,
                    headers=headers,
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                    content_type=message.content_type,
                    message_id=message.message_id,
                    type=message.type,
                ),
                routing_key=queue_name(exchange, service),
            )
            await message.ack()
            moved += 1
        for message in keep:
            await message.nack(requeue=True)
        await channel.close()
    finally:
        await connection.close()
    return moved
