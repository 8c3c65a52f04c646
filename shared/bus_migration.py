"""Moving a deployment from the classic queues of before to the quorum queues (`v2`).

RabbitMQ refuses to turn a classic queue into a quorum queue of the same name, so the
quorum queues have new names (`shared/events/topology.py`). With every service stopped,
`migrate_classic_queues` declares the new topology, moves what each old queue holds
into its successor (a delay queue's messages straight to the service's queue: they
waited long enough), and deletes the old queue once it is empty, which also removes its
bindings: from then on an event reaches only the new queues. A message is acknowledged
in the old queue only after the broker confirmed its copy, so a crash in between leaves
it twice at worst, and the consumers are idempotent (applied once by event id).
"""

from __future__ import annotations

from collections.abc import Sequence

import aio_pika
from aio_pika.abc import AbstractConnection
from aiormq.exceptions import ChannelNotFoundEntity, ChannelPreconditionFailed

from shared.bus import EventBus
from shared.events.topology import (
    SUBSCRIPTIONS,
    classic_queue_names,
    dead_queue_name,
    queue_name,
)
from shared.logging import get_logger

log = get_logger(__name__)

# The most delay queues a deployment of before could have had (one per retry delay).
OLD_RETRY_STEPS = 10
# An old queue that is not empty when it is to be deleted (a publisher still running) is
# emptied again this many times before the migration gives up.
DELETE_ROUNDS = 5


async def _exists(connection: AbstractConnection, name: str) -> bool:
    # A passive declaration of a missing queue closes its channel: a channel of its own.
    channel = await connection.channel()
    try:
        await channel.declare_queue(name, passive=True)
    except ChannelNotFoundEntity:
        return False
    await channel.close()
    return True


async def _drain(connection: AbstractConnection, source: str, target: str) -> int:
    """Move every message of `source` to `target`, each acked only once its copy is confirmed."""
    channel = await connection.channel(publisher_confirms=True)
    try:
        queue = await channel.declare_queue(source, passive=True)
        moved = 0
        while (message := await queue.get(no_ack=False, fail=False)) is not None:
            copy = aio_pika.Message(
                body=message.body,
                headers=dict(message.headers or {}),
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                content_type=message.content_type,
                message_id=message.message_id,
                type=message.type,
                correlation_id=message.correlation_id,
                timestamp=message.timestamp,
                app_id=message.app_id,
            )
            await channel.default_exchange.publish(copy, routing_key=target, timeout=30)
            await message.ack()
            moved += 1
    finally:
        if not channel.is_closed:
            await channel.close()
    return moved


async def _delete_if_empty(connection: AbstractConnection, name: str) -> bool:
    channel = await connection.channel()
    try:
        # if_unused too: a consumer still attached holds unacknowledged messages the
        # if_empty check does not count.
        await channel.queue_delete(name, if_empty=True, if_unused=True)
    except ChannelPreconditionFailed:
        return False
    await channel.close()
    return True


async def migrate_classic_queues(
    url: str,
    *,
    exchange: str,
    retry_delays_s: Sequence[float],
    delivery_limit: int,
) -> dict[str, int]:
    """Declare the quorum topology and empty the old classic queues into it (services stopped).

    Returns, per old queue found, how many messages it handed on; running it again finds
    none. `retry_delays_s` and `delivery_limit` must be the services' own: they are part
    of the queues' declarations.
    """
    bus = EventBus(
        url,
        exchange_name=exchange,
        service=next(iter(SUBSCRIPTIONS)),
        retry_delays_s=retry_delays_s,
        delivery_limit=delivery_limit,
    )
    await bus.start()  # declares every service's new queues, bound, before the old go
    await bus.close()
    moved: dict[str, int] = {}
    connection = await aio_pika.connect(url)
    try:
        for service in SUBSCRIPTIONS:
            # Delay queues first: their messages would otherwise expire into the old queue.
            for old in classic_queue_names(exchange, service, retry_steps=OLD_RETRY_STEPS):
                if not await _exists(connection, old):
                    continue
                target = (
                    dead_queue_name(exchange, service)
                    if old.endswith(".dead")
                    else queue_name(exchange, service)
                )
                count = 0
                for _ in range(DELETE_ROUNDS):
                    count += await _drain(connection, old, target)
                    if await _delete_if_empty(connection, old):
                        break
                else:
                    raise RuntimeError(
                        f"{old} keeps receiving messages: stop every service before migrating"
                    )
                moved[old] = count
                log.info("classic queue migrated", queue=old, to=target, messages=count)
    finally:
        await connection.close()
    return moved
