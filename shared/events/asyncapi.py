"""The AsyncAPI document of every event, generated from the catalog.

`docs/events.asyncapi.json` is this document; a test fails when the code and the
committed file disagree (`mailbox schemas asyncapi --write` refreshes it).
"""

from __future__ import annotations

from typing import Any

from shared.events.catalog import EVENT_TYPES
from shared.events.envelope import Event
from shared.events.topology import SUBSCRIPTIONS

PRODUCERS: dict[str, str] = {
    "letter.received": "intake",
    "letter.classified": "routing",
    "slip.submitted": "routing",
    "letter.accepted": "routing",
    "letter.not_accepted": "routing",
    "letter.forwarded": "routing",
    "letter.escalated": "routing",
    "letter.transferred": "routing",
    "reply.submitted": "routing",
    "reply.returned": "routing",
    "reply.approved": "routing",
    "extension.requested": "routing",
    "extension.approved": "routing",
    "extension.refused": "routing",
    "letter.sensitivity_marked": "routing",
    "letter.locked": "routing",
    "token.revoked": "routing",
    "clock.scheduled": "deadlines",
    "clock.closed": "deadlines",
    "clock.due_soon": "deadlines",
    "clock.overdue": "deadlines",
    "reminder.issued": "deadlines",
    "reminder.answered": "deadlines",
    "assessment.recorded": "deadlines",
    "letter.published": "publishing",
    "upload.parked": "publishing",
    "letter.archived": "publishing",
}


def _message_name(event_type: str) -> str:
    return event_type.replace(".", "_")


def build_asyncapi() -> dict[str, Any]:
    """AsyncAPI 3.0: one channel per event type on the topic exchange."""
    envelope = Event.model_json_schema()
    envelope["properties"].pop("data", None)
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    schemas: dict[str, Any] = {"Envelope": envelope}
    for event_type, model in sorted(EVENT_TYPES.items()):
        name = _message_name(event_type)
        data_schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for def_name, definition in data_schema.pop("$defs", {}).items():
            schemas[def_name] = definition
        schemas[model.__name__] = data_schema
        messages[name] = {
            "name": event_type,
            "title": event_type,
            "summary": model.summary,
            "contentType": "application/json",
            "payload": {
                "allOf": [
                    {"$ref": "#/components/schemas/Envelope"},
                    {
                        "type": "object",
                        "required": ["data"],
                        "properties": {
                            "type": {"const": event_type},
                            "version": {"const": model.event_version},
                            "data": {"$ref": f"#/components/schemas/{model.__name__}"},
                        },
                    },
                ]
            },
        }
        consumers = sorted(s for s, types in SUBSCRIPTIONS.items() if event_type in types)
        channels[name] = {
            "address": event_type,
            "description": f"Routing key `{event_type}` on the topic exchange. "
            f"Published by {PRODUCERS[event_type]}; consumed by {', '.join(consumers) or 'none'}.",
            "messages": {name: {"$ref": f"#/components/messages/{name}"}},
            "bindings": {
                "amqp": {
                    "is": "routingKey",
                    "exchange": {"name": "mailbox.events", "type": "topic", "durable": True},
                }
            },
        }
        operations[f"publish_{name}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{name}"},
            "summary": f"{PRODUCERS[event_type]} publishes {event_type}",
            "bindings": {"amqp": {"deliveryMode": 2}},
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Public mailbox events",
            "version": "1.0.0",
            "description": "Events between the intake, routing, deadlines and publishing "
            "services. Persistent messages with publisher confirms; at-least-once delivery; "
            "consumers are idempotent by event id.",
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }


def _check() -> None:
    missing = set(EVENT_TYPES) - set(PRODUCERS)
    if missing:
        raise RuntimeError(f"event types without a producer: {sorted(missing)}")


_check()
