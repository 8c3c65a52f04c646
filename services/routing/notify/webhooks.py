"""Unit webhooks: every notice a unit gets is also POSTed to its URL, signed and retried.

`WebhookNotifier` keeps every notice in the inbox first (so a unit without a webhook, or
with a broken one, misses nothing), then writes a delivery document for the unit's webhook.
A background task (`dispatcher.WebhookDispatcher`) sends due deliveries: the raw JSON body signed as
`X-Mailbox-Signature: sha256=<hex HMAC-SHA256 of the body with the unit's secret>`, with
`X-Mailbox-Delivery` (the id; a receiver drops repeats by it) and `X-Mailbox-Event` (the
kind). A failure is retried with exponential back-off and jitter up to a bounded number of
attempts; the state (pending/delivered/failed) lives in the document, so a restart resumes.

Delivery times are read from the wall clock, not the service's domain clock: back-off is
real waiting, and the domain clock may stand still (tests) or run ahead (the demo).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Protocol

import orjson
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from services.routing.notify.service import InboxNotifier
from shared.clock import Clock, SystemClock
from shared.errors import Conflict, NotFound, VersionConflict
from shared.logging import get_logger
from shared.mongo import Collection, Document, IndexSpec
from shared.paging import and_after

log = get_logger(__name__)

SIGNATURE_HEADER = "X-Mailbox-Signature"
DELIVERY_HEADER = "X-Mailbox-Delivery"
EVENT_HEADER = "X-Mailbox-Event"
DELIVERY_SORT = [("created_at", -1), ("_id", -1)]
DELIVERY_INDEXES = [
    IndexSpec(keys=[("state", 1), ("next_attempt_at", 1)]),
    IndexSpec(keys=[("unit_id", 1), ("created_at", -1), ("_id", -1)]),
    IndexSpec(keys=[("unit_id", 1), ("state", 1), ("created_at", -1), ("_id", -1)]),
]
# An attempt's record keeps this much of an error or a response body.
ERROR_CHARS = 500


def sign(body: bytes, secret: str) -> str:
    """The signature header's value for a body."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(body: bytes, secret: str, signature: str) -> bool:
    """Whether a signature header matches the body (what a receiver checks)."""
    return hmac.compare_digest(sign(body, secret), signature)


class Waker(Protocol):
    """Told that a delivery was queued (the dispatcher, so it sends at once)."""

    def wake(self) -> None: ...


class WebhookStore:
    """One webhook per unit (`webhooks`, keyed by unit id); the secret is never read back."""

    def __init__(self, webhooks: Collection) -> None:
        self._c = webhooks

    async def get(self, unit_id: str) -> Document | None:
        """The unit's webhook, or None."""
        return await self._c.find_one({"_id": unit_id})

    async def active_for(self, unit_id: str) -> Document | None:
        """The unit's webhook if it is on."""
        return await self._c.find_one({"_id": unit_id, "active": True})

    async def put(
        self,
        unit_id: str,
        *,
        url: str,
        secret: str,
        events: list[str],
        by: str,
        at: datetime,
        version: int | None,
    ) -> Document:
        """Register or replace the unit's webhook (409 when `version` is stale)."""
        fields = {
            "url": url,
            "secret": secret,
            "events": events,
            "active": True,
            "updated_at": at,
            "updated_by": by,
        }
        current = await self.get(unit_id)
        if current is None:
            if version not in (None, 0):
                raise Conflict(f"unit {unit_id} has no webhook (version {version} is stale)")
            try:
                await self._c.insert_one({"_id": unit_id, **fields, "version": 1})
            except DuplicateKeyError as exc:
                raise Conflict(f"unit {unit_id}'s webhook was registered meanwhile") from exc
            return await self._must(unit_id)
        if version is not None and version != current["version"]:
            raise VersionConflict(expected=version, actual=current["version"])
        updated = await self._c.find_one_and_update(
            {"_id": unit_id, "version": current["version"]},
            {"$set": fields, "$inc": {"version": 1}},
            return_document=ReturnDocument.AFTER,
        )
        if updated is None:
            raise Conflict(f"unit {unit_id}'s webhook changed meanwhile; read it again")
        return updated

    async def remove(self, unit_id: str, *, by: str, at: datetime) -> Document:
        """Switch the unit's webhook off (pending deliveries then fail); 404 if none."""
        updated = await self._c.find_one_and_update(
            {"_id": unit_id},
            {"$set": {"active": False, "updated_at": at, "updated_by": by}, "$inc": {"version": 1}},
            return_document=ReturnDocument.AFTER,
        )
        if updated is None:
            raise NotFound(f"unit {unit_id} has no webhook")
        return updated

    async def _must(self, unit_id: str) -> Document:
        doc = await self.get(unit_id)
        if doc is None:
            raise NotFound(f"unit {unit_id} has no webhook")
        return doc


class DeliveryStore:
    """One document per notice sent to a webhook, with its attempts."""

    def __init__(self, deliveries: Collection) -> None:
        self._c = deliveries

    async def enqueue(
        self,
        *,
        delivery_id: str,
        unit_id: str,
        kind: str,
        letter_id: str | None,
        body: bytes,
        now: datetime,
    ) -> bool:
        """Write a pending delivery; False if it exists (a notice delivered again)."""
        try:
            await self._c.insert_one(
                {
                    "_id": delivery_id,
                    "unit_id": unit_id,
                    "kind": kind,
                    "letter_id": letter_id,
                    "body": body.decode(),
                    "state": "pending",
                    "attempts": 0,
                    "next_attempt_at": now,
                    "lease_until": now,
                    "created_at": now,
                    "delivered_at": None,
                    "last_error": None,
                    "history": [],
                }
            )
        except DuplicateKeyError:
            return False
        return True

    async def due(self, now: datetime, *, limit: int) -> list[Document]:
        """Pending deliveries whose time has come, earliest first."""
        query = {"state": "pending", "next_attempt_at": {"$lte": now}}
        cursor = self._c.find(query, {"_id": 1}).sort("next_attempt_at", 1).limit(limit)
        return await cursor.to_list(None)

    async def claim(self, delivery_id: str, *, now: datetime, lease: timedelta) -> Document | None:
        """Take a due delivery for one attempt (another replica skips it while leased)."""
        return await self._c.find_one_and_update(
            {"_id": delivery_id, "state": "pending", "lease_until": {"$lte": now}},
            {"$set": {"lease_until": now + lease}},
            return_document=ReturnDocument.AFTER,
        )

    async def record(
        self,
        delivery_id: str,
        *,
        attempt: dict[str, Any],
        state: str,
        next_attempt_at: datetime,
    ) -> None:
        """Store an attempt's outcome and what happens next."""
        fields: dict[str, Any] = {
            "state": state,
            "next_attempt_at": next_attempt_at,
            "lease_until": next_attempt_at,
            "last_error": attempt.get("error"),
        }
        if state == "delivered":
            fields["delivered_at"] = attempt["at"]
        await self._c.update_one(
            {"_id": delivery_id},
            {"$set": fields, "$inc": {"attempts": 1}, "$push": {"history": attempt}},
        )

    async def page(
        self,
        unit_id: str,
        *,
        state: str | None,
        after: tuple[datetime, str] | None,
        limit: int,
    ) -> list[Document]:
        """Up to `limit + 1` deliveries of a unit after the cursor, newest first."""
        query: dict[str, Any] = {"unit_id": unit_id}
        if state is not None:
            query["state"] = state
        query = and_after(query, "created_at", after)
        cursor = self._c.find(query).sort(DELIVERY_SORT).limit(limit + 1)
        return await cursor.to_list(None)

    async def get(self, unit_id: str, delivery_id: str) -> Document:
        """One delivery of this unit, or 404."""
        doc = await self._c.find_one({"_id": delivery_id, "unit_id": unit_id})
        if doc is None:
            raise NotFound(f"delivery {delivery_id} not found")
        return doc

    async def retry(self, unit_id: str, delivery_id: str, *, now: datetime) -> Document:
        """Send a failed delivery again (a fresh round of attempts); 409 unless it failed."""
        doc = await self.get(unit_id, delivery_id)
        if doc["state"] != "failed":
            raise Conflict(f"delivery {delivery_id} is {doc['state']}, not failed")
        updated = await self._c.find_one_and_update(
            {"_id": delivery_id, "state": "failed"},
            {
                "$set": {
                    "state": "pending",
                    "attempts": 0,
                    "next_attempt_at": now,
                    "lease_until": now,
                }
            },
            return_document=ReturnDocument.AFTER,
        )
        return updated if updated is not None else await self.get(unit_id, delivery_id)


def delivery_body(
    *,
    delivery_id: str,
    unit_id: str,
    kind: str,
    payload: Mapping[str, Any],
    notice_id: str,
    letter_id: str | None,
    at: datetime,
) -> bytes:
    """The JSON a webhook receives (stored as sent, so every attempt signs the same bytes)."""
    return orjson.dumps(
        {
            "delivery_id": delivery_id,
            "event": kind,
            "unit_id": unit_id,
            "letter_id": letter_id,
            "notice_id": notice_id,
            "at": at,
            "payload": dict(payload),
        },
        default=str,
    )


class WebhookNotifier:
    """The inbox notifier, plus a signed delivery to the unit's webhook when it has one."""

    def __init__(
        self,
        inbox: InboxNotifier,
        *,
        webhooks: WebhookStore,
        deliveries: DeliveryStore,
        dispatcher: Waker | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.inbox = inbox
        self._webhooks = webhooks
        self._deliveries = deliveries
        self._clock = clock or SystemClock()
        self.dispatcher = dispatcher

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
        """Keep the notice in the inbox, then queue it for the unit's webhook (once)."""
        await self.inbox.notify(
            unit_id, kind, payload, notice_id=notice_id, letter_id=letter_id, at=at
        )
        hook = await self._webhooks.active_for(unit_id)
        if hook is None or (hook.get("events") and kind not in hook["events"]):
            return
        delivery_id = f"dlv_{notice_id.split('_', 1)[-1]}"
        body = delivery_body(
            delivery_id=delivery_id,
            unit_id=unit_id,
            kind=kind,
            payload=payload,
            notice_id=notice_id,
            letter_id=letter_id,
            at=at,
        )
        queued = await self._deliveries.enqueue(
            delivery_id=delivery_id,
            unit_id=unit_id,
            kind=kind,
            letter_id=letter_id,
            body=body,
            now=self._clock.now(),
        )
        if queued and self.dispatcher is not None:
            self.dispatcher.wake()
