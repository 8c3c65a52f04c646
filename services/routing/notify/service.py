"""Telling a unit that something concerns it: assignments, returns, reminders, decisions.

A change that concerns a unit writes a `Notice` into the letter's `notices_outbox` in the
same update as the state (so it cannot be lost); `NoticeRelay` then hands each notice to
the `Notifier` and removes it. Delivery is at least once, so a notifier is idempotent on
`notice_id`.

The default notifier keeps every notice in the per-unit `inbox` collection, so a unit
misses nothing. Webhooks are added by wrapping it: a notifier that records into the inbox
and then posts (signed) to the unit's webhook satisfies the same protocol.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from pymongo.errors import DuplicateKeyError

from shared.aio import cancel_and_wait
from shared.locks import KeyedLocks
from shared.logging import get_logger
from shared.mongo import Collection, Document, IndexSpec

log = get_logger(__name__)

NOTICE_PENDING_INDEXES = [IndexSpec(keys=[("has_notices", 1)])]


class Notifier(Protocol):
    """Delivers one notice to a unit (inbox, webhook, …); idempotent on `notice_id`."""

    async def notify(
        self,
        unit_id: str,
        kind: str,
        payload: Mapping[str, Any],
        *,
        notice_id: str,
        letter_id: str | None,
        at: datetime,
    ) -> None: ...


class InboxNotifier:
    """Records notices in the `inbox` collection, one document per notice."""

    def __init__(self, inbox: Collection) -> None:
        self.inbox = inbox

    async def notify(
        self,
        unit_id: str,
        kind: str,
        payload: Mapping[str, Any],
        *,
        notice_id: str,
        letter_id: str | None,
        at: datetime,
    ) -> None:
        """Store the notice (a redelivery finds it there already)."""
        with contextlib.suppress(DuplicateKeyError):
            await self.inbox.insert_one(
                {
                    "_id": notice_id,
                    "unit_id": unit_id,
                    "kind": kind,
                    "letter_id": letter_id,
                    "payload": dict(payload),
                    "at": at,
                }
            )


class NoticeRelay:
    """Delivers the notices letters carry in their `notices_outbox`, then removes them."""

    def __init__(
        self,
        letters: Collection,
        *,
        notifier: Notifier,
        locks: KeyedLocks,
        interval_s: float,
    ) -> None:
        self._letters = letters
        self._notifier = notifier
        self._locks = locks
        self._interval_s = interval_s
        self._task: asyncio.Task[None] | None = None

    async def deliver(self, doc: Document) -> None:
        """Deliver what `doc` carries (the document as the write left it)."""
        notices: list[dict[str, Any]] = doc.get("notices_outbox") or []
        if not notices:
            return
        for notice in notices:
            await self._notifier.notify(
                notice["unit_id"],
                notice["kind"],
                notice.get("payload") or {},
                notice_id=notice["id"],
                letter_id=str(doc["_id"]),
                at=notice["at"],
            )
        async with self._locks.hold(str(doc["_id"])):
            # Exact-element removal: a notice pushed meanwhile stays for the next delivery.
            await self._letters.update_one(
                {"_id": doc["_id"]}, {"$pullAll": {"notices_outbox": notices}}
            )
            await self._letters.update_one(
                {"_id": doc["_id"], "notices_outbox": []}, {"$set": {"has_notices": False}}
            )

    async def sweep(self) -> int:
        """Deliver whatever a crash or a failed delivery left behind; the number that failed."""
        failed = 0
        cursor = self._letters.find({"has_notices": True}, {"_id": 1, "notices_outbox": 1})
        async for doc in cursor.limit(1000):
            try:
                await self.deliver(doc)
            except Exception as exc:
                # One unit's unreachable webhook must not hold back the others' notices.
                failed += 1
                log.warning("notice delivery failed", letter_id=doc["_id"], error=str(exc))
        return failed

    def start(self) -> None:
        """Sweep now and then in the background."""
        self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        """Stop sweeping; the next start finds what is left."""
        if self._task is not None:
            await cancel_and_wait([self._task])
            self._task = None

    async def _loop(self) -> None:
        while True:
            try:
                await self.sweep()
            except Exception as exc:
                log.warning("notice sweep failed", error=str(exc))
            await asyncio.sleep(self._interval_s)
