"""The envelope every event travels in."""

from __future__ import annotations

import builtins
from datetime import datetime
from typing import Any, TypeVar

import orjson
from pydantic import BaseModel, ConfigDict, Field

from shared.clock import ensure_aware
from shared.events.catalog import EVENT_TYPES, EventData
from shared.ids import new_id

D = TypeVar("D", bound=EventData)


class UnknownEventType(ValueError):
    """The envelope names a type this code does not know."""


class Event(BaseModel):
    """An event: what happened, to which letter, by whom, with typed `data`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1, max_length=64)
    type: str = Field(min_length=1, max_length=64)
    version: int = Field(ge=1)
    occurred_at: datetime
    letter_id: str | None = Field(default=None, max_length=64)
    producer: str = Field(min_length=1, max_length=32)
    correlation_id: str | None = Field(default=None, max_length=64)
    data: dict[str, Any]

    def parse_data(self, expected: builtins.type[D]) -> D:
        """The typed `data`, checked against the model this consumer expects."""
        if expected.event_type != self.type:
            raise UnknownEventType(f"expected {expected.event_type}, got {self.type}")
        return expected.model_validate(self.data)

    def to_json(self) -> bytes:
        """Wire form."""
        return orjson.dumps(self.model_dump(mode="json"))

    @classmethod
    def from_json(cls, body: bytes) -> Event:
        """Parse and check the wire form, including the typed `data`."""
        event = cls.model_validate_json(body)
        data_model = EVENT_TYPES.get(event.type)
        if data_model is None:
            raise UnknownEventType(f"unknown event type {event.type!r}")
        data_model.model_validate(event.data)
        return event


def make_event(
    data: EventData,
    *,
    producer: str,
    occurred_at: datetime,
    letter_id: str | None,
    correlation_id: str | None = None,
) -> Event:
    """Wrap typed data in a new envelope with a fresh id."""
    return Event(
        id=new_id("evt"),
        type=data.event_type,
        version=data.event_version,
        occurred_at=ensure_aware(occurred_at),
        letter_id=letter_id,
        producer=producer,
        correlation_id=correlation_id or letter_id,
        data=data.model_dump(mode="json"),
    )
