"""存档 (Art. 16): one immutable archive record per letter, once it is done.

A letter is done when its answer is on the platform (every upload delivered, none
waiting) and the other services confirm: deadlines has no clock of it still running
and has recorded the deduction of every reminder answered late or never, routing's
dossier has recorded the publication (and, for a letter forwarded or escalated, that
the office sent its content on), and intake gives the letter as received. The record
gathers the original (the platform's record verbatim, its sha256, the attachments),
the letter, slip, approvals, replies, publications, clocks, the supervision (reminders
with the units' answers, deduction items) and the audit trails of routing and
publishing; its canonical JSON (sorted keys, UTF-8) is stored as is, with its sha256,
in a collection that is only ever inserted into. `letter.archived` leaves with the
letter copy's change that points at the record.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from services.publishing.archive.record import (
    RECORD_SCHEMA,
    CaseParts,
    build_record,
    canonical_json,
    sha256_hex,
)
from services.publishing.archive.repository import ArchiveRepository
from services.publishing.archive.sources import CaseSources, SourceUnavailable
from services.publishing.letters.models import ArchiveRef, LetterCopy
from services.publishing.letters.service import SYSTEM, dump, once_event
from services.publishing.uploads.models import UploadState
from shared.aggregate import Change, Decide
from shared.aio import cancel_and_wait, wait_event
from shared.audit import AuditEntry, AuditLog
from shared.clock import Clock
from shared.events.catalog import LetterArchived
from shared.ids import new_id
from shared.logging import get_logger
from shared.mongo import Document

log = get_logger(__name__)

# Letters archived at once in a pass: each waits mostly on routing and deadlines.
PASS_CONCURRENCY = 8


@dataclass(frozen=True)
class ArchiveOutcome:
    """What an archiving attempt did."""

    letter_id: str
    status: Literal["archived", "already", "not_ready"]
    reason: str = ""
    archive_id: str | None = None
    sha256: str | None = None


class LetterCopyStore(Protocol):
    """What the archiver reads and changes of publishing's letter copies."""

    async def get(self, letter_id: str) -> Document | None:
        """One letter's copy, or None."""
        ...

    async def mutate(self, letter_id: str, decide: Decide) -> Document:
        """Change one copy."""
        ...


class UploadStore(Protocol):
    """What the archiver reads and marks of the uploads."""

    async def for_letter(self, letter_id: str, *, with_outbox: bool = False) -> list[Document]:
        """Every upload of one letter, oldest first."""
        ...

    async def archive_candidates(self, *, limit: int, now: datetime) -> list[str]:
        """Letters with a delivered upload and no archive yet."""
        ...

    async def mark_checked(self, letter_id: str, *, at: datetime) -> None:
        """Remember when the archiver last looked at a letter."""
        ...

    async def mark_archived(self, letter_id: str) -> None:
        """Take a letter's uploads off the archiver's list."""
        ...


class Archiver:
    """Archives done letters; periodic, nudged by closed clocks, safe to run on replicas."""

    def __init__(
        self,
        *,
        letters: LetterCopyStore,
        uploads: UploadStore,
        archives: ArchiveRepository,
        sources: CaseSources,
        audit: AuditLog,
        clock: Clock,
        interval_s: float,
        batch: int,
    ) -> None:
        self.letters = letters
        self.uploads = uploads
        self.archives = archives
        self.sources = sources
        self.audit = audit
        self.clock = clock
        self.interval_s = interval_s
        self.batch = batch
        self._wake = asyncio.Event()
        self._nudged: set[str] = set()
        self._task: asyncio.Task[None] | None = None

    def nudge(self, letter_id: str) -> None:
        """A clock of this letter closed: it may be done now."""
        self._nudged.add(letter_id)
        self._wake.set()

    def start(self) -> None:
        """Start the periodic pass."""
        if self._task is None:
            self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        """Stop the periodic pass."""
        if self._task is not None:
            await cancel_and_wait([self._task])
            self._task = None

    async def _run(self) -> None:
        while True:
            # Cleared before the pass: a nudge during it (a transfer recorded, a clock
            # closed) leads to another pass at once, not after the interval.
            self._wake.clear()
            nudged, self._nudged = self._nudged, set()
            for letter_id in nudged:
                try:
                    await self.archive_letter(letter_id)
                except Exception as exc:
                    log.warning(
                        "archiving a nudged letter failed", letter_id=letter_id, error=str(exc)
                    )
            try:
                await self.run_once()
            except Exception as exc:
                log.warning("archive pass failed", error=str(exc))
            await wait_event(self._wake, self.interval_s)

    async def run_once(self) -> list[ArchiveOutcome]:
        """Try every published, unarchived letter once (the least recently tried first)."""
        slots = asyncio.Semaphore(PASS_CONCURRENCY)

        async def one(letter_id: str) -> ArchiveOutcome:
            async with slots:
                outcome = await self.archive_letter(letter_id)
                if outcome.status == "not_ready":
                    await self.uploads.mark_checked(letter_id, at=self.clock.now())
                return outcome

        candidates = await self.uploads.archive_candidates(limit=self.batch, now=self.clock.now())
        return list(await asyncio.gather(*(one(letter_id) for letter_id in candidates)))

    async def archive_letter(self, letter_id: str) -> ArchiveOutcome:
        """Archive one letter if it is done; a letter archived before is left as it is."""
        existing = await self.archives.get(letter_id)
        if existing is not None:
            await self._point_to(letter_id, existing)
            return ArchiveOutcome(
                letter_id,
                "already",
                archive_id=existing["archive_id"],
                sha256=existing["sha256"],
            )
        letter_doc = await self.letters.get(letter_id)
        if letter_doc is None or not letter_doc.get("known"):
            return ArchiveOutcome(letter_id, "not_ready", "the letter is not known here")
        uploads = await self.uploads.for_letter(letter_id, with_outbox=True)
        sent = [u for u in uploads if u["state"] == UploadState.sent]
        waiting = [
            u["_id"] for u in uploads if u["state"] in (UploadState.pending, UploadState.parked)
        ]
        if not sent:
            return ArchiveOutcome(letter_id, "not_ready", "no answer delivered yet")
        if waiting:
            return ArchiveOutcome(letter_id, "not_ready", f"uploads still waiting: {waiting}")
        try:
            parts = await self._gather(letter_id, sent=sent)
        except SourceUnavailable as exc:
            return ArchiveOutcome(letter_id, "not_ready", str(exc))
        if isinstance(parts, str):
            return ArchiveOutcome(letter_id, "not_ready", parts)
        return await self._archive(LetterCopy.of(letter_doc), letter_doc, uploads, parts)

    async def _gather(self, letter_id: str, *, sent: list[Document]) -> CaseParts | str:
        """The other services' parts of a done letter, or why it is not done (or not known)."""
        clocks = await self.sources.clocks(letter_id)
        if clocks is None:
            return "deadlines does not know the letter"
        running = [c.get("id") for c in clocks if c.get("state") == "running"]
        if running:
            return f"clocks still running: {running}"
        dossier = await self.sources.dossier(letter_id)
        if dossier is None:
            return "routing does not know the letter"
        case = dossier.get("letter")
        transfer = case.get("transfer") if isinstance(case, dict) else None
        if isinstance(transfer, dict) and transfer.get("status") != "sent":
            return (
                f"the letter's content is not sent to {transfer.get('recipient_name')} yet"
                " (Art. 13)"
            )
        recorded = _recorded_publications(dossier)
        missing = [u["_id"] for u in sent if u["_id"] not in recorded]
        if missing:
            return f"routing has not recorded publications {missing}"
        supervision = await self.sources.supervision(letter_id)
        if supervision is None:
            return "deadlines has no reminders or deductions of the letter"
        unsettled = _unsettled_supervision(clocks, supervision)
        if unsettled:
            return unsettled
        original = await self.sources.original(letter_id)
        if original is None:
            return "intake does not know the letter"
        if not isinstance(original.get("raw_json"), str) or not original.get("raw_sha256"):
            return "intake gives no original of the letter (raw_json, raw_sha256)"
        return CaseParts(original=original, dossier=dossier, clocks=clocks, supervision=supervision)

    async def _archive(
        self, letter: LetterCopy, letter_doc: Document, uploads: list[Document], parts: CaseParts
    ) -> ArchiveOutcome:
        archived_at = self.clock.now()
        archive_id = new_id("arc")
        record = build_record(
            archive_id=archive_id,
            archived_at=archived_at,
            letter=letter,
            uploads=uploads,
            parts=parts,
            trail=await self._trail(letter.id, [letter_doc, *uploads]),
        )
        canonical = canonical_json(record)
        digest = sha256_hex(canonical)
        stored = {
            "_id": letter.id,
            "archive_id": archive_id,
            "letter_id": letter.id,
            "archived_at": archived_at,
            "schema": RECORD_SCHEMA,
            "title": letter.title,
            "platform": letter.platform,
            "external_id": letter.external_id,
            "sha256": digest,
            "bytes": len(canonical),
            "canonical": canonical.decode(),
        }
        if not await self.archives.insert(stored):
            # Another replica archived it first: theirs is the record.
            return await self.archive_letter(letter.id)
        await self._point_to(letter.id, stored)
        return ArchiveOutcome(letter.id, "archived", archive_id=archive_id, sha256=digest)

    async def _point_to(self, letter_id: str, stored: Document) -> None:
        """Point the letter copy at its record, emitting `letter.archived` exactly once."""
        ref = ArchiveRef(
            archive_id=stored["archive_id"],
            sha256=stored["sha256"],
            archived_at=stored["archived_at"],
        )

        def decide(doc: Document) -> Change | None:
            if doc.get("archive"):
                return None
            now = self.clock.now()
            return Change(
                set={"archive": dump(ref)},
                events=[
                    once_event(
                        LetterArchived(
                            archive_id=ref.archive_id,
                            sha256=ref.sha256,
                            archived_at=ref.archived_at,
                        ),
                        key=ref.archive_id,
                        occurred_at=now,
                        letter_id=letter_id,
                    )
                ],
                audit=[
                    AuditEntry(
                        at=now,
                        actor=SYSTEM,
                        action="archived",
                        target_type="archive",
                        target_id=ref.archive_id,
                        letter_id=letter_id,
                        after={"archive_id": ref.archive_id, "sha256": ref.sha256},
                    )
                ],
            )

        await self.letters.mutate(letter_id, decide)
        await self.uploads.mark_archived(letter_id)

    async def _trail(self, letter_id: str, docs: list[Document]) -> list[dict[str, Any]]:
        """Publishing's audit trail of the letter, with entries the relay has not stored yet."""
        # Every entry of the letter came through these documents' outboxes: read by the ids
        # they kept (no scan of the log), unless one was stored before they kept them.
        ids: list[str] | None = None
        if all(doc.get("audit_ids_complete") for doc in docs):
            ids = [i for doc in docs for i in doc.get("audit_ids") or []]
        stored = await self.audit.for_letter(letter_id, ids=ids)
        entries = {e.id: e.model_dump(mode="json") for e in stored}
        for doc in docs:
            for pending in doc.get("audit_outbox") or []:
                fields = {k: v for k, v in pending.items() if k != "_id"}
                entry = AuditEntry.model_validate({**fields, "id": pending["_id"]})
                entries.setdefault(entry.id, entry.model_dump(mode="json"))
        return sorted(entries.values(), key=lambda e: (str(e.get("at")), str(e.get("id"))))


def _unsettled_supervision(clocks: list[dict[str, Any]], supervision: dict[str, Any]) -> str:
    """Why deadlines' supervision is not final yet ("" if it is).

    A reminder whose answer clock went overdue (answered late, or not at all) costs the unit
    a deduction, which deadlines writes just after the clock: until it is there, the
    record would miss it.
    """
    reminders = {r.get("id") for r in supervision.get("reminders") or [] if isinstance(r, dict)}
    listed = {rid for c in clocks for rid in c.get("reminders") or []}
    if listed - reminders:
        return f"deadlines does not show reminders {sorted(listed - reminders)} yet"
    deducted = {
        i.get("reminder_id")
        for i in supervision.get("assessment_items") or []
        if isinstance(i, dict)
    }
    owed = sorted(
        str(c["reminder_id"])
        for c in clocks
        if c.get("kind") == "reminder_answer"
        and c.get("state") == "overdue"
        and c.get("reminder_id")
        and c["reminder_id"] not in deducted
    )
    if owed:
        return f"the deductions for reminders {owed} are not recorded yet"
    return ""


def _recorded_publications(dossier: dict[str, Any]) -> set[str]:
    letter = dossier.get("letter")
    publications = letter.get("publications") if isinstance(letter, dict) else None
    return {
        str(p.get("upload_id"))
        for p in publications or []
        if isinstance(p, dict) and p.get("upload_id")
    }
