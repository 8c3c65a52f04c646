"""A database or broker that stops answering fails calls and readiness within seconds, and
recovers by itself (the fault tests do the same with SIGSTOP on their private stack).

A relay in front of the shared servers plays the hung server: connections are accepted
and requests taken, nothing is answered until it thaws; the servers other tests use are
never stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from urllib.parse import urlsplit

import httpx
import pytest
from pymongo import AsyncMongoClient
from pymongo.errors import ConnectionFailure, ExecutionTimeout

from shared.bus import EventBus
from shared.mongo import Document, make_client, ping
from shared.web import READINESS_BACKSTOP_S
from tests.support import AMQP_URL, MONGO_URL, bare_service_app, unique_name

READINESS_TIMEOUT_S = 1.0
# make_client's defaults: the monitor finds a silent server within a heartbeat and a
# connect timeout (1 + 2 s), then a call fails after the server selection (3 s).
NOTICED_S = 3.0
SELECTION_S = 3.0
SLACK_S = 2.0


class HangingRelay:
    """A TCP relay to a real server that can hang (take requests, answer none) or go away."""

    def __init__(self, *, upstream: str) -> None:
        parts = urlsplit(upstream)
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port or 0
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self.port = 0

    async def listen(self) -> None:
        """Accept connections (on the same port as before, once it had one)."""
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    def hang(self) -> None:
        self._flowing.clear()

    def thaw(self) -> None:
        self._flowing.set()

    async def go_away(self) -> None:
        """Refuse new connections and drop the open ones, as a stopped server does."""
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in self._writers:
            writer.close()
        for pipe in self._pipes:
            pipe.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(self._host, self._port)
        self._writers.update((writer, up_writer))
        for source, sink in ((reader, up_writer), (up_reader, writer)):
            pipe = asyncio.create_task(self._pipe(source, sink, other=(writer, up_writer)))
            self._pipes.add(pipe)
            pipe.add_done_callback(self._pipes.discard)

    async def _pipe(
        self,
        source: asyncio.StreamReader,
        sink: asyncio.StreamWriter,
        *,
        other: tuple[asyncio.StreamWriter, asyncio.StreamWriter],
    ) -> None:
        try:
            while data := await source.read(65536):
                await self._flowing.wait()
                sink.write(data)
                await sink.drain()
        except ConnectionError:
            pass
        finally:
            for writer in other:
                writer.close()
                self._writers.discard(writer)


@pytest.fixture
async def mongo_relay() -> AsyncIterator[HangingRelay]:
    relay = HangingRelay(upstream=MONGO_URL)
    await relay.listen()
    yield relay
    relay.thaw()
    await relay.go_away()


@pytest.fixture
async def mongo(mongo_relay: HangingRelay) -> AsyncIterator[AsyncMongoClient[Document]]:
    client = make_client(f"mongodb://127.0.0.1:{mongo_relay.port}/")
    yield client
    mongo_relay.thaw()
    await client.close()


async def _timed(call: Awaitable[object], *, within_s: float) -> object:
    """What the call returned or raised; it must end within `within_s`."""
    try:
        result: object = await asyncio.wait_for(call, within_s)
    except TimeoutError:
        raise AssertionError(f"still waiting after {within_s} s: it hangs") from None
    except Exception as exc:
        result = exc
    return result


async def _eventually(predicate: Callable[[], Awaitable[bool]], *, within_s: float) -> float:
    started = time.monotonic()
    while not await predicate():
        if time.monotonic() - started > within_s:
            raise AssertionError(f"not within {within_s} s")
        await asyncio.sleep(0.2)
    return time.monotonic() - started


async def test_a_hung_database_fails_calls_and_readiness_quickly_then_recovers(
    mongo_relay: HangingRelay, mongo: AsyncMongoClient[Document]
) -> None:
    db = mongo[unique_name("hang")]
    try:
        await db["letters"].insert_one({"_id": "ltr_1"})
        assert await ping(mongo, timeout_s=READINESS_TIMEOUT_S)
        mongo_relay.hang()
        in_flight = asyncio.create_task(db["letters"].find_one({"_id": "ltr_1"}))

        ready = await _timed(
            ping(mongo, timeout_s=READINESS_TIMEOUT_S), within_s=READINESS_TIMEOUT_S + SLACK_S
        )
        assert ready is False
        # The call already waiting for its answer is interrupted once the monitor finds the
        # server silent, well before the socket timeout (10 s).
        failed = await _timed(in_flight, within_s=NOTICED_S + SLACK_S + 1)
        assert isinstance(failed, ConnectionFailure), failed
        # A call made while it hangs fails after the server selection.
        failed = await _timed(
            db["letters"].find_one({"_id": "ltr_1"}), within_s=SELECTION_S + SLACK_S
        )
        assert isinstance(failed, ConnectionFailure), failed

        mongo_relay.thaw()
        await _eventually(lambda: ping(mongo, timeout_s=READINESS_TIMEOUT_S), within_s=10)
        assert await db["letters"].find_one({"_id": "ltr_1"}) == {"_id": "ltr_1"}
    finally:
        mongo_relay.thaw()
        await mongo.drop_database(db.name)


async def test_an_api_call_while_the_database_hangs_is_a_quick_503(
    mongo_relay: HangingRelay, mongo: AsyncMongoClient[Document]
) -> None:
    app = bare_service_app()
    letters = mongo[unique_name("hang")]["letters"]

    @app.get("/letters/{letter_id}")
    async def read_letter(letter_id: str) -> dict[str, str]:
        found = await letters.find_one({"_id": letter_id})
        return {"found": str(found is not None)}

    @app.get("/over-its-time-limit")
    async def over_its_time_limit() -> None:
        # What PyMongo raises for the server's own limit (maxTimeMS): code 50.
        raise ExecutionTimeout("operation exceeded time limit", 50)

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        assert (await client.get("/letters/ltr_1")).status_code == 200
        mongo_relay.hang()
        answer = await _timed(
            client.get("/letters/ltr_1"), within_s=NOTICED_S + SELECTION_S + SLACK_S
        )
        assert isinstance(answer, httpx.Response)
        assert answer.status_code == 503
        assert answer.json()["error"] == "unavailable"
        assert answer.headers["retry-after"] == "1"
        mongo_relay.thaw()
        timed_out = await client.get("/over-its-time-limit")
    assert timed_out.status_code == 503
    assert timed_out.json()["error"] == "unavailable"


async def test_readyz_answers_503_even_when_a_check_never_answers() -> None:
    app = bare_service_app()

    async def never() -> bool:
        await asyncio.Event().wait()
        return True

    async def fine() -> bool:
        return True

    app.state.readiness_checks.update({"redis": never, "mongo": fine})
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        answer = await _timed(client.get("/readyz"), within_s=READINESS_BACKSTOP_S + SLACK_S)
    assert isinstance(answer, httpx.Response)
    assert answer.status_code == 503
    assert answer.json() == {"status": "not_ready", "checks": {"redis": False, "mongo": True}}


@pytest.fixture
async def amqp_relay() -> AsyncIterator[HangingRelay]:
    relay = HangingRelay(upstream=AMQP_URL)
    await relay.listen()
    yield relay
    relay.thaw()
    await relay.go_away()


@pytest.fixture
async def relayed_bus(amqp_relay: HangingRelay) -> AsyncIterator[EventBus]:
    parts = urlsplit(AMQP_URL)
    url = parts._replace(netloc=f"{parts.username}:{parts.password}@127.0.0.1:{amqp_relay.port}")
    bus = EventBus(url.geturl(), exchange_name=unique_name("hang"), service="routing")
    await bus.start()
    yield bus
    amqp_relay.thaw()
    if amqp_relay.port and bus.connected:
        with contextlib.suppress(Exception):
            await bus.delete_topology()
    await bus.close()


async def test_a_hung_broker_is_not_ready_until_it_answers_again(
    amqp_relay: HangingRelay, relayed_bus: EventBus
) -> None:
    assert await relayed_bus.ready(timeout_s=READINESS_TIMEOUT_S)
    amqp_relay.hang()
    ready = await _timed(
        relayed_bus.ready(timeout_s=READINESS_TIMEOUT_S), within_s=READINESS_TIMEOUT_S + SLACK_S
    )
    assert ready is False
    amqp_relay.thaw()
    await _eventually(lambda: relayed_bus.ready(timeout_s=READINESS_TIMEOUT_S), within_s=10)


async def test_a_stopped_broker_is_not_ready_until_it_is_back(
    amqp_relay: HangingRelay, relayed_bus: EventBus
) -> None:
    assert await relayed_bus.ready(timeout_s=READINESS_TIMEOUT_S)
    await amqp_relay.go_away()
    # The robust connection reconnects in the background: its state alone said ready.
    await _eventually(
        lambda: _not(relayed_bus.ready(timeout_s=READINESS_TIMEOUT_S)), within_s=SLACK_S
    )
    assert not relayed_bus.connected
    await amqp_relay.listen()
    await _eventually(lambda: relayed_bus.ready(timeout_s=READINESS_TIMEOUT_S), within_s=20)


async def _not(check: Awaitable[bool]) -> bool:
    return not await check
