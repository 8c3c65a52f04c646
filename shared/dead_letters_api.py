"""`/operations/dead-letters`: a service's parked events over HTTP, for the admin.

Each service's composition root includes `router`; it reads the broker through the
service's own `Runtime` (its AMQP URL, exchange and name). An event's payload may carry a
writer's data, so the list shows what an operator acts on — the event's type, its ids,
how often it failed and why (the first line of the error, values cut out), when — never
the body. Requeueing is `shared.dead_letters.requeue_dead_letters`, as `mailbox dlq
requeue` does it; consumers are idempotent, so an event that had partly applied is safe
to send again.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

import aio_pika
import orjson
from aio_pika.exceptions import AMQPError
from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from shared.auth import Principal, Role, require_roles
from shared.dead_letters import DeadLetter, list_dead_letters, requeue_dead_letters
from shared.errors import NotFound, Unavailable
from shared.events.topology import dead_queue_name
from shared.runtime import Runtime
from shared.web import error_doc

router = APIRouter(prefix="/operations/dead-letters", tags=["operations"])

AdminOnly = Annotated[Principal, Depends(require_roles(Role.admin))]
REASON_CHARS = 300
# What an error may echo of the input: a validation error's `input_value=…`, quoted values
# longer than a field's name, and long runs of digits (telephone and identity numbers).
_VALUES = re.compile(r"input_value=.*?(?=, input_type=|\]|$)|'[^']{8,}'|\"[^\"]{8,}\"|\d{7,}")
ERRORS: dict[int | str, dict[str, Any]] = {
    401: error_doc("no valid bearer token"),
    403: error_doc("only the admin reads and requeues dead letters"),
    # 503 (the broker does not answer): the services' common description.
}


class DeadLetterItem(BaseModel):
    """A parked event without its payload."""

    message_id: str | None
    type: str | None
    letter_id: str | None = Field(description="the letter the event is about, if any")
    attempts: int
    reason: str = Field(description="why it was parked: the error's first line, values cut")
    parked_at: datetime | None


class DeadLetterQueue(BaseModel):
    """This service's dead-letter queue: how many wait, and the first of them."""

    service: str
    queue: str
    count: int
    items: list[DeadLetterItem]


class ReplayIn(BaseModel):
    """One parked event by its message id, or (none given) every one of this service."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"message_id": None}]}
    )

    message_id: str | None = Field(default=None, min_length=1, max_length=128)


class ReplayOut(BaseModel):
    service: str
    requeued: int


def reason_of(error: str) -> str:
    """The error's first line without the values it quotes (they may be a writer's)."""
    first = error.strip().splitlines()[0] if error.strip() else ""
    return _VALUES.sub("…", first)[:REASON_CHARS]


def _letter_id(body: str) -> str | None:
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    letter = value.get("letter_id") if isinstance(value, dict) else None
    return letter if isinstance(letter, str) and len(letter) <= 64 else None


def _parked_at(value: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


def item_of(letter: DeadLetter) -> DeadLetterItem:
    """A parked message as listed: its body is read for the letter id only."""
    return DeadLetterItem(
        message_id=letter.message_id,
        type=letter.type,
        letter_id=_letter_id(letter.body),
        attempts=letter.attempts,
        reason=reason_of(letter.error),
        parked_at=_parked_at(letter.parked_at),
    )


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def _count(url: str, queue: str) -> int:
    connection = await aio_pika.connect(url)
    try:
        channel = await connection.channel()
        declared = await channel.declare_queue(queue, passive=True)
        count = declared.declaration_result.message_count or 0
        await channel.close()
    finally:
        await connection.close()
    return int(count)


@router.get(
    "",
    summary="This service's parked events: type, ids, attempts, reason (no payload).",
    responses=ERRORS,
)
async def list_parked(
    request: Request,
    _: AdminOnly,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> DeadLetterQueue:
    """The events left in this service's dead-letter queue (they stay there)."""
    runtime = _runtime(request)
    settings, service = runtime.settings, runtime.service
    queue = dead_queue_name(settings.exchange_name, service)
    try:
        count = await _count(settings.amqp_url, queue)
        letters = await list_dead_letters(
            settings.amqp_url, exchange=settings.exchange_name, services=[service], limit=limit
        )
    except (AMQPError, OSError) as exc:
        raise Unavailable(f"the broker does not answer: {type(exc).__name__}") from exc
    items = [item_of(letter) for letter in letters]
    return DeadLetterQueue(service=service, queue=queue, count=max(count, len(items)), items=items)


@router.post(
    "/replay",
    summary="Send one parked event (or all of them) back to this service's queue.",
    responses={**ERRORS, 404: error_doc("no parked event has that message id")},
)
async def replay(request: Request, _: AdminOnly, body: ReplayIn) -> ReplayOut:
    """After the cause is fixed: the consumer handles the events again (idempotently)."""
    runtime = _runtime(request)
    settings = runtime.settings
    try:
        moved = await requeue_dead_letters(
            settings.amqp_url,
            exchange=settings.exchange_name,
            service=runtime.service,
            message_id=body.message_id,
        )
    except (AMQPError, OSError) as exc:
        raise Unavailable(f"the broker does not answer: {type(exc).__name__}") from exc
    if body.message_id is not None and moved == 0:
        raise NotFound(
            f"no parked event {body.message_id} in {runtime.service}'s dead-letter queue",
            details={"field": "message_id"},
        )
    return ReplayOut(service=runtime.service, requeued=moved)
