"""Every event type a service subscribes to has a handler there, and every handler a
subscription: an unhandled type would be acknowledged and dropped without a trace."""

from __future__ import annotations

from typing import Any

import pytest

from services.deadlines import consumers as deadlines_consumers
from services.publishing import consumers as publishing_consumers
from services.routing import consumers as routing_consumers
from shared.events.catalog import LetterReceived, TokenRevoked
from shared.events.envelope import Event
from shared.events.topology import SUBSCRIPTIONS
from shared.runtime import Dispatcher, check_handlers

pytestmark = pytest.mark.unit  # needs no server

# The consumers only register handlers here; nothing calls the domain objects.
_UNUSED: Any = object()


def _dispatcher(service: str) -> Dispatcher:
    dispatcher = Dispatcher()
    if service == "routing":
        routing_consumers.register(dispatcher, service=_UNUSED)
    elif service == "deadlines":
        deadlines_consumers.register(dispatcher, service=_UNUSED, facts=_UNUSED)
    elif service == "publishing":
        publishing_consumers.register(dispatcher, service=_UNUSED)

    # Every service's runtime adds the revocation handler (shared.runtime.start_consuming).
    @dispatcher.on(TokenRevoked)
    async def revoked(_: Event, __: TokenRevoked) -> None:
        return None

    return dispatcher


@pytest.mark.parametrize("service", sorted(SUBSCRIPTIONS))
def test_every_subscribed_type_has_a_handler_and_the_reverse(service: str) -> None:
    dispatcher = _dispatcher(service)
    assert dispatcher.event_types == frozenset(SUBSCRIPTIONS[service])
    check_handlers(service, dispatcher)


def test_a_subscription_without_a_handler_stops_the_start() -> None:
    dispatcher = _dispatcher("routing")
    with pytest.raises(RuntimeError, match=r"subscribed without a handler \['letter.received'\]"):
        check_handlers("routing", _without(dispatcher, "letter.received"))


def test_a_handler_without_a_subscription_stops_the_start() -> None:
    dispatcher = _dispatcher("intake")

    @dispatcher.on(LetterReceived)
    async def received(_: Event, __: LetterReceived) -> None:
        return None

    with pytest.raises(RuntimeError, match=r"handled without a subscription \['letter.received'\]"):
        check_handlers("intake", dispatcher)


def _without(dispatcher: Dispatcher, event_type: str) -> Dispatcher:
    reduced = Dispatcher()
    for kind, handler in dispatcher._handlers.items():
        if kind != event_type:
            reduced._handlers[kind] = handler
    return reduced
