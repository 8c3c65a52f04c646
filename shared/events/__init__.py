"""Events: the envelope, the catalog of typed data, and the vocabulary they use."""

from shared.events.catalog import EVENT_TYPES, EventData
from shared.events.envelope import Event, UnknownEventType, make_event

__all__ = ["EVENT_TYPES", "Event", "EventData", "UnknownEventType", "make_event"]
