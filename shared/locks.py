"""Per-key asyncio locks that free themselves when nobody holds or waits."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class KeyedLocks:
    """Serialises work on one key (a letter id) within this process.

    MongoDB makes a conditional single-document update atomic. FerretDB v1.24.2 as
    released applies it as read-then-rewrite, so two writers could both pass the
    condition; the local stack's build holds the database's write turn across both
    (deploy/local/ferretdb/writes.patch). Holding the key's lock around
    read-modify-write keeps one process correct on any server, and makes a document's
    writers in one process queue here instead of failing a version check.
    """

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        """Hold the lock of `key` for the body of the `async with`."""
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)
