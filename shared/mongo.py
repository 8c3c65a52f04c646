"""MongoDB access helpers (PyMongo's native async API)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

Document = dict[str, Any]
Collection = AsyncCollection[Document]
Database = AsyncDatabase[Document]


def make_client(url: str, *, timeout_ms: int = 10_000) -> AsyncMongoClient[Document]:
    """A client that returns aware UTC datetimes; build it in a lifespan, not at import."""
    return AsyncMongoClient(
        url,
        tz_aware=True,
        serverSelectionTimeoutMS=timeout_ms,
        connectTimeoutMS=timeout_ms,
        retryWrites=False,  # FerretDB v1 has no retryable writes; MongoDB does not need them here
    )


@dataclass(frozen=True)
class IndexSpec:
    """One index a collection needs, declared next to the code that queries it."""

    keys: Sequence[tuple[str, int]]
    unique: bool = False
    name: str | None = None
    sparse: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


async def ensure_indexes(collection: Collection, specs: Sequence[IndexSpec]) -> None:
    """Create the declared indexes (idempotent; run at start-up)."""
    for spec in specs:
        name = spec.name or "_".join(f"{k}_{d}" for k, d in spec.keys)
        options: dict[str, Any] = {"name": name, **spec.extra}
        if spec.unique:
            options["unique"] = True
        if spec.sparse:
            options["sparse"] = True
        await collection.create_index(list(spec.keys), **options)


async def ping(client: AsyncMongoClient[Document]) -> bool:
    """Whether the server answers."""
    try:
        await client.admin.command("ping")
    except Exception:
        return False
    return True
