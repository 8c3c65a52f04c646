"""The clients and background work every service runs, opened in its lifespan.

`Runtime.open` connects to MongoDB and RabbitMQ, creates the shared indexes,
starts the outbox relay and, once the service is set up, its consumer; closing
stops them in reverse order. Services add their own repositories on top.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from fastapi import FastAPI
from pymongo import AsyncMongoClient

from shared.aggregate import AGGREGATE_INDEXES, AggregateStore
from shared.audit import AUDIT_INDEXES, AuditLog
from shared.auth import REVOKED_INDEXES, Authenticator, RevokedTokens, TokenCodec
from shared.bus import EventBus, Handler
from shared.clock import Clock
from shared.command_counts import CommandCounter
from shared.events.catalog import EventData, TokenRevoked
from shared.events.envelope import Event
from shared.events.topology import SUBSCRIPTIONS
from shared.locks import KeyedLocks
from shared.logging import get_logger
from shared.mongo import Database, Document, ensure_indexes, make_client, ping
from shared.outbox import OutboxRelay
from shared.settings import ServiceSettings

log = get_logger(__name__)

D = TypeVar("D", bound=EventData)


class Dispatcher:
    """Routes each consumed event to the handler registered for its type."""

    def __init__(self) -> None:
        self._handlers: dict[str, Callable[[Event], Awaitable[None]]] = {}

    def on(
        self, data_type: type[D]
    ) -> Callable[[Callable[[Event, D], Awaitable[None]]], Callable[[Event, D], Awaitable[None]]]:
        """Register `handler(event, data)` for one event type."""

        def register(
            handler: Callable[[Event, D], Awaitable[None]],
        ) -> Callable[[Event, D], Awaitable[None]]:
            async def typed(event: Event) -> None:
                await handler(event, event.parse_data(data_type))

            self._handlers[data_type.event_type] = typed
            return handler

        return register

    async def __call__(self, event: Event) -> None:
        handler = self._handlers.get(event.type)
        if handler is not None:
            await handler(event)

    @property
    def event_types(self) -> frozenset[str]:
        """Types with a handler."""
        return frozenset(self._handlers)


def check_handlers(service: str, dispatcher: Dispatcher) -> None:
    """Refuse to consume unless every subscribed type has a handler, and every handler a
    subscription: an event type without one would be acked and dropped in silence."""
    subscribed = frozenset(SUBSCRIPTIONS.get(service, ()))
    unhandled = subscribed - dispatcher.event_types
    unsubscribed = dispatcher.event_types - subscribed
    if unhandled or unsubscribed:
        raise RuntimeError(
            f"{service}: subscribed without a handler {sorted(unhandled)},"
            f" handled without a subscription {sorted(unsubscribed)}"
        )


@dataclass
class Runtime:
    """Connected clients and the relay; one per service process."""

    service: str
    settings: ServiceSettings
    clock: Clock
    mongo: AsyncMongoClient[Document]
    db: Database
    bus: EventBus
    audit: AuditLog
    relay: OutboxRelay
    locks: KeyedLocks
    authenticator: Authenticator

    def store(self, collection: str) -> AggregateStore:
        """An aggregate store on one of this service's outbox collections."""
        return AggregateStore(
            self.db[collection], clock=self.clock, relay=self.relay, locks=self.locks
        )

    async def start_consuming(self, dispatcher: Dispatcher) -> None:
        """Consume this service's queue (token revocations are handled for every service)."""
        if not self.settings.start_consumers:
            return
        revoked = self.authenticator.revoked

        @dispatcher.on(TokenRevoked)
        async def on_token_revoked(_: Event, data: TokenRevoked) -> None:
            await revoked.add(data.token_id, expires_at=data.expires_at)

        check_handlers(self.service, dispatcher)
        handler: Handler = dispatcher
        await self.bus.consume(handler)

    def install(self, app: FastAPI) -> None:
        """Hand the clients to the app's dependencies and readiness checks."""
        app.state.runtime = self
        app.state.authenticator = self.authenticator
        timeout_s = self.settings.readiness_timeout_s
        app.state.readiness_checks["mongo"] = lambda: ping(self.mongo, timeout_s=timeout_s)
        app.state.readiness_checks["rabbitmq"] = lambda: self.bus.ready(timeout_s=timeout_s)

    @classmethod
    @asynccontextmanager
    async def open(
        cls,
        *,
        service: str,
        settings: ServiceSettings,
        clock: Clock,
        outbox_collections: Sequence[str],
    ) -> AsyncIterator[Runtime]:
        """Connect everything; yield; close everything."""
        counter = CommandCounter() if settings.command_counts_dir else None
        mongo = make_client(
            settings.mongo_url,
            event_listeners=[counter] if counter is not None else [],
            socket_timeout_s=settings.mongo_socket_timeout_s,
            connect_timeout_s=settings.mongo_connect_timeout_s,
            server_selection_timeout_s=settings.mongo_server_selection_timeout_s,
            heartbeat_s=settings.mongo_heartbeat_s,
        )
        db = mongo[settings.mongo_db]
        await ensure_indexes(db["audit"], AUDIT_INDEXES)
        await ensure_indexes(db["revoked_tokens"], REVOKED_INDEXES)
        revoked = RevokedTokens(db["revoked_tokens"])
        await revoked.refresh()
        for name in outbox_collections:
            await ensure_indexes(db[name], AGGREGATE_INDEXES)
        bus = EventBus(
            settings.amqp_url,
            exchange_name=settings.exchange_name,
            service=service,
            retry_delays_s=settings.retry_delays_s,
            max_attempts=settings.consumer_max_attempts,
            prefetch=settings.consumer_prefetch,
            delivery_limit=settings.consumer_delivery_limit,
        )
        await bus.start()
        audit = AuditLog(db["audit"])
        locks = KeyedLocks()
        relay = OutboxRelay(
            bus=bus,
            audit=audit,
            collections=[db[name] for name in outbox_collections],
            locks=locks,
            interval_s=settings.relay_interval_s,
        )
        relay.start()
        authenticator = Authenticator(TokenCodec(settings.token_secret.get_secret_value()), revoked)
        runtime = cls(
            service=service,
            settings=settings,
            clock=clock,
            mongo=mongo,
            db=db,
            bus=bus,
            audit=audit,
            relay=relay,
            locks=locks,
            authenticator=authenticator,
        )
        revoked.start()
        try:
            yield runtime
        finally:
            await revoked.stop()
            await relay.stop()
            await bus.close()
            await mongo.close()
            if counter is not None and settings.command_counts_dir:
                counter.write(Path(settings.command_counts_dir), service=service)
