"""`mailbox dlq list|requeue`: the dead-letter queues for operators; `mailbox bus migrate`."""

from __future__ import annotations

import asyncio
import os

import orjson
import typer

dlq_app = typer.Typer(
    help="Dead-letter queues: parked events and their errors.", no_args_is_help=True
)

_URL = typer.Option(
    os.environ.get("MAILBOX_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/"), "--amqp-url"
)
_EXCHANGE = typer.Option("mailbox.events", "--exchange")


@dlq_app.command("list")
def list_(
    service: list[str] = typer.Option([], "--service", help="only these services"),
    limit: int = typer.Option(100, min=1, max=10_000),
    amqp_url: str = _URL,
    exchange: str = _EXCHANGE,
) -> None:
    """Print parked messages as JSON lines (they stay parked)."""
    from shared.dead_letters import list_dead_letters

    letters = asyncio.run(
        list_dead_letters(amqp_url, exchange=exchange, services=service or None, limit=limit)
    )
    for letter in letters:
        typer.echo(orjson.dumps(letter.model_dump()).decode())


@dlq_app.command()
def requeue(
    service: str = typer.Argument(..., help="intake | routing | deadlines | publishing"),
    message_id: str | None = typer.Option(None, "--message-id", help="only this message"),
    amqp_url: str = _URL,
    exchange: str = _EXCHANGE,
) -> None:
    """Send a service's parked messages back to its queue after the cause is fixed."""
    from shared.dead_letters import requeue_dead_letters

    moved = asyncio.run(
        requeue_dead_letters(amqp_url, exchange=exchange, service=service, message_id=message_id)
    )
    typer.echo(orjson.dumps({"requeued": moved}).decode())


bus_app = typer.Typer(help="The event bus's queues.", no_args_is_help=True)


@bus_app.command()
def migrate(amqp_url: str = _URL, exchange: str = _EXCHANGE) -> None:
    """Move the classic queues of before into the quorum queues (every service stopped)."""
    from shared.bus_migration import migrate_classic_queues
    from shared.settings import ServiceSettings

    # The services' own values (MAILBOX_RETRY_DELAYS_S, MAILBOX_CONSUMER_DELIVERY_LIMIT):
    # the queues are declared with them.
    settings = ServiceSettings()
    moved = asyncio.run(
        migrate_classic_queues(
            amqp_url,
            exchange=exchange,
            retry_delays_s=settings.retry_delays_s,
            delivery_limit=settings.consumer_delivery_limit,
        )
    )
    typer.echo(orjson.dumps({"moved": moved}).decode())


def register(app: typer.Typer) -> None:
    """Add the `dlq` and `bus` command groups."""
    app.add_typer(dlq_app, name="dlq")
    app.add_typer(bus_app, name="bus")
