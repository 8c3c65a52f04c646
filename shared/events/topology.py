"""Which service's queue receives which event types.

Every service declares the whole topology when it starts, not only its own
queue: an event published before its consumer ever ran still lands in a
durable queue and waits there, instead of being dropped by the exchange.
"""

from __future__ import annotations

from shared.events.catalog import EVENT_TYPES

SUBSCRIPTIONS: dict[str, tuple[str, ...]] = {
    "intake": ("token.revoked",),
    "routing": (
        "letter.received",
        "clock.scheduled",
        "clock.closed",
        "clock.due_soon",
        "clock.overdue",
        "reminder.issued",
        "reminder.answered",
        "assessment.recorded",
        "letter.published",
        "upload.parked",
        "letter.archived",
        "token.revoked",
    ),
    "deadlines": (
        "letter.received",
        "letter.classified",
        "slip.submitted",
        "letter.accepted",
        "letter.not_accepted",
        "letter.forwarded",
        "letter.escalated",
        "reply.submitted",
        "reply.returned",
        "reply.approved",
        "extension.requested",
        "extension.approved",
        "extension.refused",
        "letter.published",
        "token.revoked",
    ),
    "publishing": (
        "letter.received",
        "letter.not_accepted",
        "letter.forwarded",
        "letter.escalated",
        "letter.transferred",
        "reply.approved",
        "letter.sensitivity_marked",
        "letter.locked",
        "clock.closed",
        "token.revoked",
    ),
}


# The queues are quorum queues since `v2`. RabbitMQ refuses to redeclare a queue with
# another type (PRECONDITION_FAILED), so they carry a new name instead of the classic
# queues `{exchange}.{service}` of before; `mailbox bus migrate` moves what those still
# hold (docs/runbook.md, "Moving to quorum queues").
QUEUE_VERSION = "v2"


def queue_name(exchange: str, service: str) -> str:
    """The durable queue a service consumes from (named after the exchange it serves)."""
    return f"{exchange}.{service}.{QUEUE_VERSION}"


def classic_queue_names(exchange: str, service: str, *, retry_steps: int) -> list[str]:
    """A service's classic queues of before `v2`: its delay queues, its queue, its dead one."""
    main = f"{exchange}.{service}"
    return [*(f"{main}.retry.{step}" for step in range(retry_steps)), main, f"{main}.dead"]


def retry_queue_name(exchange: str, service: str, *, step: int) -> str:
    """The delay queue for a failed message's `step`-th retry."""
    return f"{queue_name(exchange, service)}.retry.{step}"


def dead_queue_name(exchange: str, service: str) -> str:
    """Where a message that keeps failing is parked with its error."""
    return f"{queue_name(exchange, service)}.dead"


def _check() -> None:
    for service, types in SUBSCRIPTIONS.items():
        unknown = set(types) - set(EVENT_TYPES)
        if unknown:
            raise RuntimeError(f"{service} subscribes to unknown event types {sorted(unknown)}")


_check()
