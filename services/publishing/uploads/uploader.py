"""The uploader: drives every pending upload to its platform, with back-off, and parks failures.

An upload is a document (`pending` → `sent` | `parked` | `refused`) so nothing is lost
and a restart resumes where it stopped: the loop picks up every pending upload whose
next attempt is due. One attempt is: claim the upload (a lease, so two replicas never
work it at once), check once more that it may go out as it is (lock, sensitivity,
leak scan), send the e-mail of an `email` reply, then upload under the idempotency
key. The platform stores one upload per key, so an attempt whose answer was lost is
repeated safely. `letter.published` leaves in the same write as state `sent`;
`upload.parked` in the same write as state `parked`.

A letter taken by hand (Art. 31, platform `manual`) has no platform: its answer is
delivered only by the e-mail of an `email` reply, else it goes to `awaiting_callback`
and the office records telling the writer (`PublishingService.record_callback`), which
marks it `sent` through the same `sent_change`. Nothing here claims it was delivered.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Mapping
from datetime import timedelta
from typing import Any, Protocol

from services.publishing.letters.models import MANUAL_PLATFORM, LetterCopy
from services.publishing.letters.service import SYSTEM, dump, once_event
from services.publishing.uploads.compose import email_text
from services.publishing.uploads.delivery import AWAITING_CALLBACK_NOTE, sent_change
from services.publishing.uploads.mailer import EmailFailed, Mailer
from services.publishing.uploads.models import (
    Downgrade,
    EmailState,
    Receipt,
    UploadDoc,
    UploadState,
)
from services.publishing.uploads.publication import describe_findings, private_reply, scan
from services.publishing.uploads.repository import UploadRepository
from shared.aggregate import Change
from shared.aio import cancel_and_wait, wait_event
from shared.audit import AuditEntry
from shared.clock import Clock
from shared.events import Event
from shared.events.catalog import UploadParked
from shared.events.vocabulary import PublicationMode
from shared.logging import get_logger
from shared.mongo import Document
from shared.platforms import (
    PlatformClient,
    PlatformRejected,
    Upload,
    UploadConflict,
)

log = get_logger(__name__)

KEPT_ERRORS = 20
# How often the uploader queues again every pending upload from a scan of `uploads` (the
# safety net of `upload_queue`; also at start).
REQUEUE_EVERY_S = 600.0


class AttemptFailed(Exception):
    """One attempt did not deliver; `permanent` when repeating it cannot help."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class LetterReader(Protocol):
    """What the uploader reads of publishing's letter copies (its last gate checks them)."""

    async def get(self, letter_id: str) -> Document | None:
        """One letter's copy, or None."""
        ...


class Uploader:
    """Background delivery of uploads (and e-mails) with bounded, jittered retries."""

    def __init__(
        self,
        *,
        uploads: UploadRepository,
        letters: LetterReader,
        clients: Mapping[str, PlatformClient],
        mailer: Mailer,
        clock: Clock,
        wall: Clock,
        instance: str,
        max_attempts: int,
        backoff_base_s: float,
        backoff_max_s: float,
        poll_interval_s: float,
        claim_s: float,
        concurrency: int,
        batch: int,
        rng: random.Random | None = None,
    ) -> None:
        self.uploads = uploads
        self.letters = letters
        self.clients = clients
        self.mailer = mailer
        self.clock = clock
        self.wall = wall
        self.instance = instance
        self.max_attempts = max_attempts
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self.poll_interval_s = poll_interval_s
        self.claim_s = claim_s
        self.batch = batch
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not secrets
        self._slots = asyncio.Semaphore(concurrency)
        self._wake = asyncio.Event()
        self._inflight: dict[str, asyncio.Task[None]] = {}
        self._loop_task: asyncio.Task[None] | None = None
        self._more = False
        self._requeued_at: float | None = None

    # ---- the loop --------------------------------------------------------------------

    def wake(self) -> None:
        """Something became due (a new upload, a retry): look now."""
        self._wake.set()

    def start(self) -> None:
        """Start the loop (resuming every pending upload)."""
        if self._loop_task is None:
            self._loop_task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        """Stop; uploads being worked are released for the next start (or another replica)."""
        if self._loop_task is not None:
            await cancel_and_wait([self._loop_task])
            self._loop_task = None
        tasks = list(self._inflight.items())
        await cancel_and_wait([task for _, task in tasks])
        for upload_id, _ in tasks:
            with contextlib.suppress(Exception):
                await self._release(upload_id)
        self._inflight.clear()

    async def _run(self) -> None:
        while True:
            # Cleared before the pass: a wake-up during it leads to another pass.
            self._wake.clear()
            idle_s = self.poll_interval_s
            try:
                idle_s = await self._pass()
            except Exception as exc:
                log.warning("uploader pass failed", error=str(exc))
            await wait_event(self._wake, idle_s)

    async def run_once(self) -> int:
        """Start an attempt on every due upload not already being worked; how many started."""
        before = len(self._inflight)
        await self._pass()
        return max(0, len(self._inflight) - before)

    async def _pass(self) -> float:
        """Start what is due; seconds until the next upload falls due (the poll at most).

        One query of the pending uploads' queue serves both (`UploadRepository.due`).
        """
        now = self.wall.now()
        if self._requeued_at is None or time.monotonic() - self._requeued_at > REQUEUE_EVERY_S:
            # At start and rarely after: queue any pending upload the queue misses. Marked
            # before: a scan that fails (the database slow) waits for the next turn too.
            self._requeued_at = time.monotonic()
            await self.uploads.requeue_pending()
        horizon = now + _seconds(self.poll_interval_s)
        docs = await self.uploads.due(now=horizon, limit=self.batch)
        # A full batch may hide more due uploads: look again as soon as one attempt ends.
        self._more = len(docs) >= self.batch
        idle_s = self.poll_interval_s
        for doc in docs:
            upload_id = str(doc["_id"])
            if upload_id in self._inflight:
                continue
            due_in_s: float = (doc["next_attempt_at"] - now).total_seconds()
            if due_in_s > 0:
                idle_s = min(idle_s, due_in_s)
                continue
            task = asyncio.create_task(self._guarded(upload_id))
            self._inflight[upload_id] = task
        return max(0.0, idle_s)

    async def _guarded(self, upload_id: str) -> None:
        delivered = False
        try:
            async with self._slots:
                delivered = await self.attempt(upload_id)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("upload attempt crashed", upload_id=upload_id, error=str(exc))
        finally:
            self._inflight.pop(upload_id, None)
            # A failed attempt's retry may fall due before the poll; a full batch left more.
            if not delivered or self._more:
                self._wake.set()

    # ---- one attempt -----------------------------------------------------------------

    async def attempt(self, upload_id: str) -> bool:
        """Claim one due upload and try to deliver it once; False when it failed (retry later)."""
        doc = await self.uploads.get(upload_id)
        if doc is None or doc["state"] != UploadState.pending:
            return True
        letter_doc = await self.letters.get(doc["letter_id"])
        letter = LetterCopy.of(letter_doc) if letter_doc is not None else None
        claimed = await self.uploads.mutate(upload_id, lambda d: self._claim(d, letter))
        if claimed["state"] != UploadState.pending or claimed.get("claimed_by") != self.instance:
            return True
        upload = UploadDoc.of(claimed)
        try:
            await self._send_email(upload)
            if upload.platform == MANUAL_PLATFORM:
                await self.uploads.mutate(upload_id, self._by_hand)
                return True
            receipt = await self._upload(upload)
        except AttemptFailed as exc:
            failure = exc
        else:
            await self.uploads.mutate(upload_id, lambda d: self._sent(d, receipt))
            return True
        await self.uploads.mutate(upload_id, lambda d: self._failed(d, failure))
        return False

    def _claim(self, doc: Document, letter: LetterCopy | None) -> Change | None:
        now = self.wall.now()
        if doc["state"] != UploadState.pending or doc["next_attempt_at"] > now:
            return None
        holder, until = doc.get("claimed_by"), doc.get("claim_until")
        if holder not in (None, self.instance) and until is not None and until > now:
            return None
        lease_end = now + _seconds(self.claim_s)
        # Not due for anyone else while claimed: other instances do not spin on it, and
        # it becomes due again by itself if this instance dies holding it.
        claim: dict[str, Any] = {
            "claimed_by": self.instance,
            "claim_until": lease_end,
            "next_attempt_at": lease_end,
        }
        if doc["visibility"] != "public" or letter is None:
            return Change(set=claim)
        return self._recheck_public(doc, letter, claim)

    def _recheck_public(self, doc: Document, letter: LetterCopy, claim: dict[str, Any]) -> Change:
        """Last gate before the internet: the lock and mark as they are now, and the leak scan."""
        upload = UploadDoc.of(doc)
        reply = next((r for r in letter.replies if str(r.revision) == upload.edition), None)
        blocks = letter.online_blocks(reply)
        if blocks and reply is not None:
            title, text = private_reply(letter, reply)
            downgrade = Downgrade(requested=PublicationMode.online, reasons=blocks)
            return Change(
                set={
                    **claim,
                    "visibility": "private",
                    "title": title,
                    "text": text,
                    "redacted": False,
                    "downgrade": dump(downgrade),
                },
                audit=[
                    self._audit(
                        doc,
                        "publication_made_private",
                        before={"mode": PublicationMode.online, "visibility": "public"},
                        after={"visibility": "private"},
                        note="; ".join(blocks) + " (found before the upload was sent)",
                    )
                ],
            )
        findings = scan(
            {"upload.title": upload.title, "upload.text": upload.text}, person=letter.person_data
        )
        if blocks or findings:
            error = "; ".join(blocks) if blocks else describe_findings(findings)
            return Change(
                set={
                    "state": UploadState.refused,
                    "findings": [dump(f) for f in findings],
                    "last_error": error,
                    "claimed_by": None,
                    "claim_until": None,
                },
                events=[self._parked_event(upload, error)],
                audit=[self._audit(doc, "publication_refused", note=error)],
            )
        return Change(set=claim)

    async def _send_email(self, upload: UploadDoc) -> None:
        email = upload.email
        if email is None or email.state != EmailState.pending or email.to is None:
            return
        if not self.mailer.configured:
            await self._set_email(upload, EmailState.not_configured, error="no SMTP host")
            return
        try:
            await self.mailer.send(
                to=email.to,
                subject=upload.title,
                body=email_text(title=upload.title, body=upload.text),
                message_id=f"<{upload.id.replace(':', '.')}@mailbox.publishing>",
            )
        except EmailFailed as exc:
            if exc.permanent:
                await self._set_email(upload, EmailState.refused, error=str(exc))
                return
            raise AttemptFailed(f"e-mail: {exc}") from exc
        await self._set_email(upload, EmailState.sent)

    async def _set_email(
        self, upload: UploadDoc, state: EmailState, *, error: str | None = None
    ) -> None:
        # Stored at once: a crash before the upload must not send the e-mail again.
        now = self.clock.now()

        def decide(doc: Document) -> Change:
            record = dict(doc.get("email") or {})
            record.update({"state": state, "error": error})
            if state == EmailState.sent:
                record["sent_at"] = now
            return Change(
                set={"email": record},
                audit=[self._audit(doc, f"email_{state.value}", note=error)],
            )

        await self.uploads.mutate(upload.id, decide)

    def _by_hand(self, doc: Document) -> Change | None:
        """Art. 31: a letter taken by telephone or in person has no platform. Its answer is
        delivered once e-mailed (an `email` reply to a writer who left an address), else it
        waits for the office to record telling the writer (`POST /uploads/{id}/delivered`)."""
        if doc["state"] != UploadState.pending:
            return None
        upload = UploadDoc.of(doc)
        if upload.email is not None and upload.email.state == EmailState.sent:
            return sent_change(doc, at=self.clock.now(), action="answer_emailed", clock=self.clock)
        why = AWAITING_CALLBACK_NOTE
        if upload.email is not None:
            why += f" (the e-mail was not sent: {upload.email.error or upload.email.state.value})"
        return Change(
            set={
                "state": UploadState.awaiting_callback,
                "attempts": upload.attempts + 1,
                "claimed_by": None,
                "claim_until": None,
            },
            audit=[
                self._audit(
                    doc,
                    "awaiting_callback",
                    before={"state": UploadState.pending},
                    after={"state": UploadState.awaiting_callback},
                    note=why,
                )
            ],
        )

    async def _upload(self, upload: UploadDoc) -> Receipt:
        client = self.clients.get(upload.platform)
        if client is None:
            raise AttemptFailed(f"platform '{upload.platform}' is not configured", permanent=True)
        try:
            body = Upload(
                external_id=upload.external_id,
                kind=upload.kind,
                visibility=upload.visibility,
                title=upload.title,
                text=upload.text,
                idempotency_key=upload.id,
            )
        except ValueError as exc:
            raise AttemptFailed(
                f"the upload is not valid for the platform: {exc}", permanent=True
            ) from exc
        try:
            receipt = await client.upload(body)
        except UploadConflict as exc:
            raise AttemptFailed(
                f"the platform holds a different upload under key {upload.id}: {exc.reason}",
                permanent=True,
            ) from exc
        except PlatformRejected as exc:
            raise AttemptFailed(str(exc), permanent=True) from exc
        except Exception as exc:
            raise AttemptFailed(f"{type(exc).__name__}: {exc}") from exc
        return Receipt(
            upload_id=receipt.upload_id,
            duplicate=receipt.duplicate,
            received_at=receipt.received_at,
        )

    def _sent(self, doc: Document, receipt: Receipt) -> Change | None:
        return sent_change(
            doc, at=self.clock.now(), action="uploaded", clock=self.clock, receipt=receipt
        )

    def _failed(self, doc: Document, failure: AttemptFailed) -> Change | None:
        if doc["state"] != UploadState.pending:
            return None
        upload = UploadDoc.of(doc)
        attempts = upload.attempts + 1
        error = str(failure)[:2000]
        errors = [*doc.get("errors", []), {"at": self.clock.now(), "error": error}][-KEPT_ERRORS:]
        common = {
            "attempts": attempts,
            "last_error": error,
            "errors": errors,
            "claimed_by": None,
            "claim_until": None,
        }
        if failure.permanent or attempts >= self.max_attempts:
            return Change(
                set={**common, "state": UploadState.parked},
                events=[self._parked_event(upload, error, attempts=attempts)],
                audit=[
                    self._audit(
                        doc,
                        "upload_parked",
                        after={"state": UploadState.parked, "attempts": attempts},
                        note=error,
                    )
                ],
            )
        delay_s = self.backoff_s(attempts)
        log.info(
            "upload failed, will retry",
            upload_id=upload.id,
            attempt=attempts,
            error=error,
            retry_in_s=round(delay_s, 3),
        )
        return Change(set={**common, "next_attempt_at": self.wall.now() + _seconds(delay_s)})

    def backoff_s(self, attempts: int) -> float:
        """Exponential with jitter: half the step fixed, half random, capped at the maximum."""
        step_s = min(self.backoff_max_s, self.backoff_base_s * 2.0 ** (attempts - 1))
        return step_s / 2 + self._rng.uniform(0, step_s / 2)

    async def _release(self, upload_id: str) -> None:
        def decide(doc: Document) -> Change | None:
            if doc.get("claimed_by") != self.instance or doc["state"] != UploadState.pending:
                return None
            return Change(
                set={"claimed_by": None, "claim_until": None, "next_attempt_at": self.wall.now()}
            )

        await self.uploads.mutate(upload_id, decide)

    def _parked_event(self, upload: UploadDoc, error: str, *, attempts: int | None = None) -> Event:
        attempts = upload.attempts if attempts is None else attempts
        return once_event(
            UploadParked(
                upload_key=upload.id,
                platform=upload.platform,
                attempts=attempts,
                error=error[:2000],
            ),
            key=f"{upload.id}|{upload.retries}|{attempts}",
            occurred_at=self.clock.now(),
            letter_id=upload.letter_id,
        )

    def _audit(
        self,
        doc: Document,
        action: str,
        *,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
        note: str | None = None,
    ) -> AuditEntry:
        return AuditEntry(
            at=self.clock.now(),
            actor=SYSTEM,
            action=action,
            target_type="upload",
            target_id=str(doc["_id"]),
            letter_id=doc["letter_id"],
            before=before,
            after=after,
            note=note,
        )


def _seconds(value: float) -> timedelta:
    return timedelta(seconds=value)
