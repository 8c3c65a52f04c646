"""Sending queued webhook deliveries: due first, a bounded number at a time, retried.

A failed attempt is retried after an exponentially growing delay with jitter, up to
`RetryPolicy.max_attempts`; then the delivery is `failed` (an admin or the unit may send it
again). Deliveries are claimed with a lease, so a second replica does not send the same one
at the same time, and a crash mid-attempt only delays it until the lease ends.
"""

from __future__ import annotations

import asyncio
import functools
import random
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx

from services.routing.notify.targets import TargetGuard, TargetRefused
from services.routing.notify.webhooks import (
    DELIVERY_HEADER,
    ERROR_CHARS,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    DeliveryStore,
    WebhookStore,
    sign,
)
from shared.aio import cancel_and_wait, wait_event
from shared.clock import Clock, SystemClock
from shared.logging import get_logger
from shared.mongo import Document

log = get_logger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded attempts with exponential back-off and jitter."""

    max_attempts: int
    base_s: float
    max_s: float

    def delay_s(self, failed_attempts: int) -> float:
        """How long to wait after the n-th failed attempt (half to all of the ceiling)."""
        ceiling = min(self.max_s, self.base_s * 2.0 ** (failed_attempts - 1))
        # Jitter spreads retries of many deliveries that failed together (a receiver outage).
        return ceiling * random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not a secret


class WebhookDispatcher:
    """Sends due deliveries in the background, a bounded number at a time."""

    def __init__(
        self,
        *,
        deliveries: DeliveryStore,
        webhooks: WebhookStore,
        policy: RetryPolicy,
        timeout_s: float,
        poll_interval_s: float,
        concurrency: int = 16,
        clock: Clock | None = None,
        guard: TargetGuard | None = None,
    ) -> None:
        self._deliveries = deliveries
        self.guard = guard or TargetGuard()
        self._webhooks = webhooks
        self._clock = clock or SystemClock()
        self._policy = policy
        self._timeout_s = timeout_s
        self._poll_interval_s = poll_interval_s
        self._concurrency = concurrency
        self._wake = asyncio.Event()
        self._in_flight: dict[str, asyncio.Task[None]] = {}
        self._task: asyncio.Task[None] | None = None
        self._client: httpx.AsyncClient | None = None

    def wake(self) -> None:
        """Look for due deliveries now (a new one was queued)."""
        self._wake.set()

    def start(self) -> None:
        """Start sending."""
        # No redirects (a receiver cannot bounce us elsewhere), no proxies from the environment,
        # and no kept connections: each delivery connects to the address just checked for its
        # URL, and a pooled connection to that address would carry another host's TLS name.
        self._client = httpx.AsyncClient(
            timeout=self._timeout_s,
            follow_redirects=False,
            trust_env=False,
            limits=httpx.Limits(max_keepalive_connections=0),
        )
        self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        """Stop; unfinished deliveries stay pending and are sent after the next start."""
        if self._task is not None:
            await cancel_and_wait([self._task])
            self._task = None
        await cancel_and_wait(list(self._in_flight.values()))
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _loop(self) -> None:
        while True:
            self._wake.clear()
            try:
                await self.run_due()
            except Exception as exc:
                log.warning("webhook sweep failed", error=str(exc))
            await wait_event(self._wake, self._poll_interval_s)

    async def run_due(self) -> int:
        """Start an attempt for each due delivery not already under way; how many started."""
        free = self._concurrency - len(self._in_flight)
        if free <= 0:
            return 0
        started = 0
        for doc in await self._deliveries.due(self._clock.now(), limit=free * 2):
            delivery_id = str(doc["_id"])
            if delivery_id in self._in_flight or len(self._in_flight) >= self._concurrency:
                continue
            task = asyncio.create_task(self._attempt(delivery_id))
            self._in_flight[delivery_id] = task
            task.add_done_callback(functools.partial(self._done, delivery_id))
            started += 1
        return started

    def _done(self, delivery_id: str, _: asyncio.Task[None]) -> None:
        self._in_flight.pop(delivery_id, None)
        # A finished attempt frees a slot: more may be due already.
        self._wake.set()

    async def _attempt(self, delivery_id: str) -> None:
        lease = timedelta(seconds=self._timeout_s * 2 + 5)
        doc = await self._deliveries.claim(delivery_id, now=self._clock.now(), lease=lease)
        if doc is None:
            return
        hook = await self._webhooks.active_for(str(doc["unit_id"]))
        attempt_no = int(doc["attempts"]) + 1
        started = self._clock.now()
        attempt: dict[str, Any] = {"n": attempt_no, "at": started}
        if hook is None:
            attempt["error"] = "the unit has no active webhook"
            await self._deliveries.record(
                delivery_id, attempt=attempt, state="failed", next_attempt_at=started
            )
            return
        attempt["url"] = hook["url"]
        ok = await self._post(doc, hook, attempt, attempt_no=attempt_no)
        finished = self._clock.now()
        attempt["duration_ms"] = round((finished - started).total_seconds() * 1000, 1)
        if ok:
            state, next_at = "delivered", finished
        elif attempt_no >= self._policy.max_attempts:
            state, next_at = "failed", finished
        else:
            state = "pending"
            next_at = finished + timedelta(seconds=self._policy.delay_s(attempt_no))
        await self._deliveries.record(
            delivery_id, attempt=attempt, state=state, next_attempt_at=next_at
        )
        if state == "failed":
            log.warning(
                "webhook delivery failed for good",
                delivery_id=delivery_id,
                unit_id=doc["unit_id"],
                error=attempt.get("error"),
            )

    async def _post(
        self, doc: Document, hook: Document, attempt: dict[str, Any], *, attempt_no: int
    ) -> bool:
        assert self._client is not None
        body = str(doc["body"]).encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "public-mailbox-webhooks/1",
            SIGNATURE_HEADER: sign(body, str(hook["secret"])),
            DELIVERY_HEADER: str(doc["_id"]),
            EVENT_HEADER: str(doc["kind"]),
            "X-Mailbox-Attempt": str(attempt_no),
        }
        # Checked again at every attempt: the name may resolve elsewhere since registration.
        try:
            target = await self.guard.check(str(hook["url"]))
        except TargetRefused as exc:
            attempt["error"] = f"refused target: {exc.reason}"[:ERROR_CHARS]
            return False
        url, host, extensions = target.pinned()
        try:
            response = await self._client.post(
                url, content=body, headers={**headers, **host}, extensions=extensions
            )
        except httpx.HTTPError as exc:
            attempt["error"] = f"{type(exc).__name__}: {exc}"[:ERROR_CHARS]
            return False
        attempt["status"] = response.status_code
        if response.is_success:
            return True
        attempt["error"] = f"HTTP {response.status_code}: {response.text[:ERROR_CHARS]}"
        return False
