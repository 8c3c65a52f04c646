"""MongoDB access helpers (PyMongo's native async API)."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pymongo
from pymongo import AsyncMongoClient, monitoring
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError, WriteError

Document = dict[str, Any]
Collection = AsyncCollection[Document]
Database = AsyncDatabase[Document]


def make_client(
    url: str,
    *,
    socket_timeout_s: float = 10.0,
    connect_timeout_s: float = 2.0,
    server_selection_timeout_s: float = 3.0,
    heartbeat_s: float = 1.0,
    event_listeners: Sequence[monitoring.CommandListener] = (),
) -> AsyncMongoClient[Document]:
    """A client that returns aware UTC datetimes; build it in a lifespan, not at import.

    A hung server (stopped, not down: connections accepted, nothing answered) fails calls
    within seconds instead of hanging them: the monitor's hello, every `heartbeat_s`,
    times out after `connect_timeout_s`; the server is then marked unknown, the calls on
    its connections are interrupted and new ones fail after `server_selection_timeout_s`
    (a `ConnectionFailure`: 503). `socket_timeout_s` bounds any one wait for an answer.
    Not PyMongo's `timeoutMS`: it would bound a whole `to_list` over many batches, select
    the server for that long too (no quick 503), and it adds `maxTimeMS` to every command,
    which FerretDB v1 refuses on some (`distinct`).
    """
    return AsyncMongoClient(
        url,
        tz_aware=True,
        socketTimeoutMS=round(socket_timeout_s * 1000),
        connectTimeoutMS=round(connect_timeout_s * 1000),
        serverSelectionTimeoutMS=round(server_selection_timeout_s * 1000),
        heartbeatFrequencyMS=round(heartbeat_s * 1000),
        retryWrites=False,  # FerretDB v1 has no retryable writes; MongoDB does not need them here
        event_listeners=list(event_listeners),
    )


@dataclass(frozen=True)
class IndexSpec:
    """One index a collection needs, declared next to the code that queries it."""

    keys: Sequence[tuple[str, int]]
    unique: bool = False
    name: str | None = None
    sparse: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


# What each client's server is, asked once: start-up ensures the indexes of twenty
# collections.
_FERRETDB: weakref.WeakKeyDictionary[AsyncMongoClient[Document], bool] = weakref.WeakKeyDictionary()


async def is_ferretdb(database: Database) -> bool:
    """Whether the server is FerretDB (its buildInfo says so), not MongoDB."""
    client = database.client
    if client not in _FERRETDB:
        info = await database.command("buildInfo")
        _FERRETDB[client] = "ferretdbVersion" in info
    return _FERRETDB[client]


async def ensure_indexes(collection: Collection, specs: Sequence[IndexSpec]) -> None:
    """Create the declared indexes (idempotent; run at start-up).

    On FerretDB v1 only the unique ones: its SQLite backend answers every query but one
    by `_id` by scanning the collection and uses no other index, while each index costs
    every insert and update a JSON extraction over the whole document (a routing letter,
    4–20 KB, had ten: a findAndModify took 2.7 ms instead of 1.85). Unique indexes stay,
    for what they guarantee; MongoDB gets every index.
    """
    ferretdb = bool(specs) and await is_ferretdb(collection.database)
    for spec in specs:
        if ferretdb and not spec.unique:
            continue
        name = spec.name or "_".join(f"{k}_{d}" for k, d in spec.keys)
        options: dict[str, Any] = {"name": name, **spec.extra}
        if spec.unique:
            options["unique"] = True
        if spec.sparse:
            options["sparse"] = True
        await collection.create_index(list(spec.keys), **options)


async def ping(client: AsyncMongoClient[Document], *, timeout_s: float) -> bool:
    """Whether the server answers within `timeout_s` (a hung one is not ready)."""
    try:
        # The whole round trip, server selection included.
        with pymongo.timeout(timeout_s):
            await client.admin.command("ping")
    except Exception:
        return False
    return True


# Documents one insert command carries at most (FerretDB inserts them in one transaction).
INSERT_BATCH = 100
_DUPLICATE_KEY = 11000


class InsertBatcher:
    """Inserts made while another is on its way leave together, as one command.

    On FerretDB v1 each command is a SQLite transaction that costs about a
    millisecond of its CPU whatever it carries: concurrent handlers creating
    documents (a clock per letter accepted) pay it once per batch instead of once
    per document. Alone, an insert leaves at once, as `insert_one` would.
    """

    def __init__(self, collection: Collection, *, max_batch: int = INSERT_BATCH) -> None:
        self._collection = collection
        self._max_batch = max_batch
        self._waiting: list[tuple[Document, asyncio.Future[None]]] = []
        self._sender: asyncio.Task[None] | None = None

    async def insert(self, doc: Document) -> None:
        """Insert one document; raises `DuplicateKeyError` as `insert_one` does."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((doc, done))
        if self._sender is None or self._sender.done():
            self._sender = asyncio.create_task(self._send())
        await done

    async def _send(self) -> None:
        while self._waiting:
            batch = self._waiting[: self._max_batch]
            del self._waiting[: len(batch)]
            errors: dict[int, BaseException] = {}
            try:
                await self._collection.insert_many([doc for doc, _ in batch], ordered=False)
            except BulkWriteError as exc:
                for error in exc.details.get("writeErrors", []):
                    kind = DuplicateKeyError if error.get("code") == _DUPLICATE_KEY else WriteError
                    errors[int(error["index"])] = kind(
                        str(error.get("errmsg", "")), error.get("code"), error
                    )
            except Exception as exc:
                errors = dict.fromkeys(range(len(batch)), exc)
            for index, (_, done) in enumerate(batch):
                if done.done():  # the caller went away (cancelled)
                    continue
                if index in errors:
                    done.set_exception(errors[index])
                else:
                    done.set_result(None)
