"""Poller leases: one document per platform saying which intake instance polls it, until when.

A lease is taken by creating the document (unique `_id`) or, when it exists, by a
conditional update that matches only if it is ours or has expired; the holder
renews it while polling, and a crashed holder's lease is taken over once expired.

MongoDB applies the conditional update atomically, so two instances never both
hold a lease. FerretDB v1 applies it as read-then-rewrite, so two instances
racing at the same instant can both believe they hold it: the lease is a best
effort against double work, never the guarantee. Registration is exactly-once
regardless, through the unique (platform, external id) index on letters.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from shared.clock import Clock
from shared.mongo import Collection, Document, IndexSpec

LEASE_INDEXES = [IndexSpec(keys=[("owner", 1)])]


@dataclass(frozen=True)
class Lease:
    """Who holds a platform's lease, and until when."""

    platform_id: str
    owner: str
    expires_at: datetime


class Leases:
    """Takes, renews and releases the leases of one intake instance (`owner`)."""

    def __init__(self, collection: Collection, *, owner: str, clock: Clock, lease_s: float) -> None:
        self.collection = collection
        self.owner = owner
        self._clock = clock
        self._lease = timedelta(seconds=lease_s)

    async def acquire(self, platform_id: str) -> bool:
        """Take (or renew) the lease; False if another instance holds it unexpired."""
        now = self._clock.now()
        fields = {"owner": self.owner, "expires_at": now + self._lease, "renewed_at": now}
        try:
            await self.collection.insert_one({"_id": platform_id, "acquired_at": now, **fields})
            return True
        except DuplicateKeyError:
            pass
        taken = await self.collection.find_one_and_update(
            {
                "_id": platform_id,
                "$or": [{"owner": self.owner}, {"expires_at": {"$lte": now}}],
            },
            {"$set": {**fields, "acquired_at": now}, "$inc": {"takeovers": 1}},
            return_document=ReturnDocument.AFTER,
        )
        return taken is not None and taken.get("owner") == self.owner

    async def renew(self, platform_id: str) -> bool:
        """Extend our lease; False if it is no longer ours (taken over after expiry)."""
        now = self._clock.now()
        result = await self.collection.update_one(
            {"_id": platform_id, "owner": self.owner},
            {"$set": {"expires_at": now + self._lease, "renewed_at": now}},
        )
        return result.matched_count == 1

    async def release(self, platform_id: str) -> None:
        """Give the lease up now (any instance may take it)."""
        await self.collection.update_one(
            {"_id": platform_id, "owner": self.owner},
            {"$set": {"expires_at": self._clock.now()}},
        )

    async def release_all(self) -> None:
        """Give up every lease of this instance (shutdown)."""
        await self.collection.update_many(
            {"owner": self.owner}, {"$set": {"expires_at": self._clock.now()}}
        )

    async def holder(self, platform_id: str) -> Lease | None:
        """The current lease of a platform, if unexpired."""
        doc: Document | None = await self.collection.find_one({"_id": platform_id})
        if doc is None or doc["expires_at"] <= self._clock.now():
            return None
        return Lease(platform_id=platform_id, owner=doc["owner"], expires_at=doc["expires_at"])


class Heartbeats:
    """Which intake instances are alive: each one writes `seen_at` on every outbox sweep.

    A letter's outbox names the instance that relays it (`relay_owner`); another
    instance's sweep leaves it alone while that instance is alive, however long its
    clearing takes, and takes it over once the heartbeat is older than `stale_s`.
    """

    def __init__(self, collection: Collection, *, owner: str, clock: Clock, stale_s: float) -> None:
        self.collection = collection
        self.owner = owner
        self._clock = clock
        self._stale = timedelta(seconds=stale_s)

    async def beat(self) -> None:
        """Say this instance is alive."""
        await self.collection.update_one(
            {"_id": self.owner}, {"$set": {"seen_at": self._clock.now()}}, upsert=True
        )

    async def live(self) -> set[str]:
        """Instances seen within `stale_s` (this one included once it has beaten)."""
        since = self._clock.now() - self._stale
        cursor = self.collection.find({"seen_at": {"$gt": since}}, {"_id": 1})
        return {str(doc["_id"]) async for doc in cursor}

    async def forget(self) -> None:
        """This instance stops (its outboxes are relayed or left to the others)."""
        await self.collection.delete_one({"_id": self.owner})
