"""The event bus on RabbitMQ (aio-pika).

One durable topic exchange; routing key = event type. Messages are persistent and
published with confirms. A consumer acks only after its handler returned, i.e.
after the effect is stored. A failing message is re-published to a delay queue
(TTL, dead-lettered back to the main queue) with its attempt count, and after
`max_attempts` parked in the service's dead-letter queue with its last error —
never lost, never blocking the queue.

Every queue is a quorum queue: durable and replicated across a cluster's nodes (on a
single node it is just durable). A handler that raises is the application's retry
above; a process that dies holding a message (a poison message that crashes it each
time, or the machine lost) returns it to the queue, and the broker counts those
returns: after `delivery_limit` of them it dead-letters the message into the same
parking queue, so it cannot loop forever. Dead-lettering (the delay queues' way back
and that parking) is at-least-once: the broker keeps the message until the target
queue has it, which needs `x-overflow: reject-publish` (RabbitMQ ≥ 3.10).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import aio_pika
from aio_pika.abc import (
    AbstractChannel,
    AbstractExchange,
    AbstractIncomingMessage,
    AbstractRobustConnection,
)
from prometheus_client import Counter

from shared.events.envelope import Event
from shared.events.topology import (
    SUBSCRIPTIONS,
    dead_queue_name,
    queue_name,
    retry_queue_name,
)
from shared.locks import KeyedLocks
from shared.logging import get_logger

log = get_logger(__name__)

Handler = Callable[[Event], Awaitable[None]]

EVENTS_PUBLISHED = Counter("mailbox_events_published_total", "Events published", ["type"])
EVENTS_HANDLED = Counter(
    "mailbox_events_handled_total", "Events consumed", ["queue", "type", "outcome"]
)

# Replicated queues. At-least-once dead-lettering keeps a message in its queue until the
# target confirms it (the default, at-most-once, drops it should that fail, as when the
# target's leader is on a node being lost); RabbitMQ accepts it only with `reject-publish`
# overflow, which matters only for a queue with a length limit (none here).
_QUORUM: dict[str, Any] = {
    "x-queue-type": "quorum",
    "x-dead-letter-strategy": "at-least-once",
    "x-overflow": "reject-publish",
}


class EventBus:
    """Publishes events and runs this service's consumer."""

    def __init__(
        self,
        url: str,
        *,
        exchange_name: str,
        service: str,
        retry_delays_s: Sequence[float] = (0.5, 2.0, 10.0, 30.0, 120.0),
        max_attempts: int = 6,
        prefetch: int = 32,
        delivery_limit: int = 10,
    ) -> None:
        if not retry_delays_s:
            raise ValueError("at least one retry delay")
        self._url = url
        self._exchange_name = exchange_name
        self._service = service
        self._retry_delays_s = tuple(retry_delays_s)
        self._max_attempts = max_attempts
        self._prefetch = prefetch
        self._delivery_limit = delivery_limit
        self._connection: AbstractRobustConnection | None = None
        self._publish_channel: AbstractChannel | None = None
        self._exchange: AbstractExchange | None = None
        self._publish_lock = asyncio.Lock()
        self._letter_locks = KeyedLocks()
        self._consumer_tags: list[tuple[AbstractChannel, str, str]] = []

    @property
    def connected(self) -> bool:
        """Whether the broker connection is up (not closed, not reconnecting)."""
        connection = self._connection
        # `is_closed` of a robust connection turns true only when we close it: while the
        # broker is down it stays false and the connection reconnects in the background.
        return (
            connection is not None
            and not connection.is_closed
            and connection.connected.is_set()
            and connection.transport is not None
        )

    async def ready(self, *, timeout_s: float) -> bool:
        """Whether the broker answers now: a channel opened and closed within `timeout_s`.

        The connection's state is not enough: a hung broker keeps it open until missed
        heartbeats close it, a minute later. The channel is the connection's own, not a
        robust one, so nothing tries to restore it.
        """
        connection = self._connection
        if connection is None or not self.connected or connection.transport is None:
            return False
        amqp = connection.transport.connection
        try:
            async with asyncio.timeout(timeout_s):
                channel = await amqp.channel(publisher_confirms=False, timeout=timeout_s)
                await channel.close()
        except Exception as exc:  # a timeout, or the connection lost meanwhile
            log.warning("broker not ready", error=f"{type(exc).__name__}: {exc}"[:300])
            return False
        return True

    async def start(self) -> None:
        """Connect and declare the whole topology (idempotent)."""
        self._connection = await aio_pika.connect_robust(self._url, timeout=10)
        self._publish_channel = await self._connection.channel(publisher_confirms=True)
        self._exchange = await self._publish_channel.declare_exchange(
            self._exchange_name, aio_pika.ExchangeType.TOPIC, durable=True
        )
        await self._declare_topology(self._publish_channel, self._exchange)

    def _main_arguments(self, service: str) -> dict[str, Any]:
        """A service's queue: quorum, and parked by the broker after `delivery_limit` returns.

        Every declaration of it must carry exactly these, or the broker refuses it
        (PRECONDITION_FAILED: inequivalent arguments).
        """
        return {
            **_QUORUM,
            "x-delivery-limit": self._delivery_limit,
            "x-dead-letter-exchange": "",
            "x-dead-letter-routing-key": dead_queue_name(self._exchange_name, service),
        }

    async def _declare_topology(self, channel: AbstractChannel, exchange: AbstractExchange) -> None:
        for service, event_types in SUBSCRIPTIONS.items():
            main = queue_name(self._exchange_name, service)
            # The parking queue first: the main queue dead-letters into it.
            await channel.declare_queue(
                dead_queue_name(self._exchange_name, service),
                durable=True,
                arguments={"x-queue-type": "quorum"},
            )
            queue = await channel.declare_queue(
                main, durable=True, arguments=self._main_arguments(service)
            )
            for event_type in event_types:
                await queue.bind(exchange, routing_key=event_type)
            for step, delay_s in enumerate(self._retry_delays_s):
                await channel.declare_queue(
                    retry_queue_name(self._exchange_name, service, step=step),
                    durable=True,
                    arguments={
                        **_QUORUM,
                        # One TTL for the whole queue: a quorum queue expires messages
                        # only at its head, which is then always the oldest.
                        "x-message-ttl": int(delay_s * 1000),
                        "x-dead-letter-exchange": "",
                        "x-dead-letter-routing-key": main,
                    },
                )

    async def delete_topology(self) -> None:
        """Delete the exchange and every queue of it (tests clean up with this)."""
        if self._publish_channel is None:
            raise RuntimeError("bus not started")
        channel = self._publish_channel
        for service in SUBSCRIPTIONS:
            names = [
                queue_name(self._exchange_name, service),
                dead_queue_name(self._exchange_name, service),
            ]
            names += [
                retry_queue_name(self._exchange_name, service, step=step)
                for step in range(len(self._retry_delays_s))
            ]
            for name in names:
                await channel.queue_delete(name)
        await channel.exchange_delete(self._exchange_name)

    async def close(self) -> None:
        """Stop consuming and close the connection."""
        for channel, queue, tag in self._consumer_tags:
            try:
                q = await channel.get_queue(queue, ensure=False)
                await q.cancel(tag)
            except Exception as exc:
                log.warning("cancel consumer failed", queue=queue, error=str(exc))
        self._consumer_tags.clear()
        if self._connection is not None:
            await self._connection.close()
            self._connection = None

    async def publish(self, event: Event) -> None:
        """Publish one event persistently and wait for the broker's confirm."""
        if self._exchange is None:
            raise RuntimeError("bus not started")
        message = aio_pika.Message(
            body=event.to_json(),
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            content_type="application/json",
            message_id=event.id,
            type=event.type,
            correlation_id=event.correlation_id,
            timestamp=event.occurred_at,
            app_id=event.producer,
        )
        # With confirms on, publish() returns once the broker has the message.
        await self._exchange.publish(message, routing_key=event.type, timeout=30)
        EVENTS_PUBLISHED.labels(event.type).inc()

    @property
    def letter_locks(self) -> KeyedLocks:
        """The turns the consumer takes per letter (events of one letter, one at a time, in
        delivery order): other work on a letter can queue behind the events delivered."""
        return self._letter_locks

    async def consume(self, handler: Handler) -> None:
        """Deliver this service's queue to `handler`, one letter at a time."""
        if self._connection is None:
            raise RuntimeError("bus not started")
        channel = await self._connection.channel(publisher_confirms=True)
        await channel.set_qos(prefetch_count=self._prefetch)
        name = queue_name(self._exchange_name, self._service)
        queue = await channel.declare_queue(
            name, durable=True, arguments=self._main_arguments(self._service)
        )

        async def on_message(message: AbstractIncomingMessage) -> None:
            await self._handle(channel, name, message, handler)

        tag = await queue.consume(on_message)
        self._consumer_tags.append((channel, name, tag))

    async def _handle(
        self,
        channel: AbstractChannel,
        queue: str,
        message: AbstractIncomingMessage,
        handler: Handler,
    ) -> None:
        headers: dict[str, Any] = dict(message.headers or {})
        attempts = int(headers.get("x-attempts", 0) or 0) + 1
        try:
            event = Event.from_json(message.body)
        except Exception as exc:
            await self._park(channel, queue, message, error=f"malformed event: {exc}", attempts=1)
            EVENTS_HANDLED.labels(queue, message.type or "?", "poison").inc()
            await message.ack()
            return
        try:
            # Events of one letter are applied one at a time in this process, so a
            # handler sees the letter's state settle before the next event.
            async with self._letter_locks.hold(event.letter_id or event.id):
                await handler(event)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            if attempts >= self._max_attempts:
                log.error("event parked", queue=queue, event_id=event.id, error=error)
                await self._park(channel, queue, message, error=error, attempts=attempts)
                EVENTS_HANDLED.labels(queue, event.type, "parked").inc()
            else:
                log.warning(
                    "event failed, will retry",
                    queue=queue,
                    event_id=event.id,
                    error=error,
                    attempt=attempts,
                )
                await self._retry(channel, message, attempts=attempts, error=error)
                EVENTS_HANDLED.labels(queue, event.type, "retried").inc()
            await message.ack()
            return
        EVENTS_HANDLED.labels(queue, event.type, "ok").inc()
        await message.ack()

    async def _retry(
        self,
        channel: AbstractChannel,
        message: AbstractIncomingMessage,
        *,
        attempts: int,
        error: str,
    ) -> None:
        step = min(attempts - 1, len(self._retry_delays_s) - 1)
        copy = _copy(message, {"x-attempts": attempts, "x-last-error": error[:2000]})
        await channel.default_exchange.publish(
            copy,
            routing_key=retry_queue_name(self._exchange_name, self._service, step=step),
            timeout=30,
        )

    async def _park(
        self,
        channel: AbstractChannel,
        queue: str,
        message: AbstractIncomingMessage,
        *,
        error: str,
        attempts: int,
    ) -> None:
        copy = _copy(
            message,
            {
                "x-attempts": attempts,
                "x-last-error": error[:4000],
                "x-parked-at": datetime.now(UTC).isoformat(),
                "x-original-queue": queue,
                "x-original-routing-key": message.routing_key or "",
            },
        )
        await channel.default_exchange.publish(
            copy, routing_key=dead_queue_name(self._exchange_name, self._service), timeout=30
        )


def _copy(message: AbstractIncomingMessage, extra_headers: dict[str, Any]) -> aio_pika.Message:
    headers: dict[str, Any] = dict(message.headers or {})
    headers.update(extra_headers)
    return aio_pika.Message(
        body=message.body,
        headers=headers,
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        content_type=message.content_type,
        message_id=message.message_id,
        type=message.type,
        correlation_id=message.correlation_id,
        timestamp=message.timestamp,
        app_id=message.app_id,
    )
