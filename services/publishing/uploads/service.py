"""The publishing domain: publications planned from events, operators' retries and call-backs.

Every change is one aggregate write with its audit entries and events. Creating a
publication never talks to a platform: it stores an upload in state `pending` (or
`refused` when the leak scan still finds personal data) and wakes the uploader. The
answer to a letter taken by hand (Art. 31) waits in `awaiting_callback` instead, until
the office records telling the writer (`record_callback`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from services.publishing.letters.models import (
    MANUAL_PLATFORM,
    ApprovedReply,
    LetterCopy,
    Notice,
    ReplyParts,
)
from services.publishing.letters.service import (
    LetterCopies,
    actor_of,
    audit_entry,
    dump,
    letter_id_of,
    once_event,
)
from services.publishing.redaction.service import RedactionConfig
from services.publishing.uploads.delivery import AWAITING_CALLBACK_NOTE, sent_change
from services.publishing.uploads.models import (
    Callback,
    CallbackChannel,
    Downgrade,
    EmailRecord,
    EmailState,
    UploadDoc,
    UploadKind,
    UploadState,
    upload_key,
)
from services.publishing.uploads.publication import (
    Plan,
    describe_findings,
    plan_notice,
    plan_reply,
    private_reply,
)
from services.publishing.uploads.repository import UploadRepository
from shared.aggregate import Change
from shared.audit import AuditEntry
from shared.auth import Principal
from shared.clock import Clock, ensure_aware
from shared.errors import Conflict, Invalid, NotFound
from shared.events import Event
from shared.events.catalog import UploadParked
from shared.events.vocabulary import PublicationMode
from shared.logging import get_logger
from shared.mongo import Document

log = get_logger(__name__)

# A call-back's instant may run ahead of the service clock by a client's clock skew.
CLOCK_SKEW = timedelta(minutes=5)
MANUAL_NOT_ONLINE = (
    "letter taken by hand (Art. 31): there is no platform to publish it on; the answer is"
    " given to the writer privately by call-back"
)


def _to_millisecond(at: datetime) -> datetime:
    """As the database keeps it, so that a repeated call-back compares equal."""
    return at.replace(microsecond=at.microsecond // 1000 * 1000)


def _public(callback: Document | None) -> dict[str, Any] | None:
    """A recorded call-back for an error's details (JSON-safe)."""
    if callback is None:
        return None
    return Callback.model_validate(callback).model_dump(mode="json")


class PublishingService:
    """Plans publications from events and lets the office retry them and record call-backs."""

    def __init__(
        self,
        *,
        copies: LetterCopies,
        uploads: UploadRepository,
        clock: Clock,
        wall: Clock,
        redaction: RedactionConfig,
        wake_uploader: Callable[[], None] = lambda: None,
    ) -> None:
        self.copies = copies
        self.letters = copies.letters
        self.uploads = uploads
        self.clock = clock
        # Back-off is real elapsed time towards a real platform, whatever the service
        # clock says (a test's fixed clock, the demo's shifted one).
        self.wall = wall
        self.redaction = redaction
        self.wake_uploader = wake_uploader

    def _audit(self, action: str, **fields: Any) -> AuditEntry:
        return audit_entry(self.clock, action, **fields)

    async def letter(self, letter_id: str) -> LetterCopy:
        """A known letter's copy; NotFound before its `letter.received`."""
        return await self.copies.letter(letter_id)

    # ---- publications ----------------------------------------------------------------

    async def publish_reply(self, event: Event, reply: ApprovedReply) -> None:
        """Plan the publication of an approved reply and queue its upload."""
        letter_id = letter_id_of(event)
        await self.copies.known(letter_id, event)

        def record(doc: Document) -> Change:
            kept = [r for r in doc.get("replies") or [] if r.get("revision") != reply.revision]
            return Change(set={"replies": [*kept, dump(reply)]})

        doc = await self.letters.mutate(letter_id, record, event_id=event.id)
        letter = LetterCopy.of(doc)
        plan = self._plan_reply(letter, reply)
        email = None
        if reply.mode == PublicationMode.email:
            address = letter.person.email
            email = EmailRecord(
                state=EmailState.pending if address else EmailState.no_address, to=address
            )
        await self._create_upload(
            letter,
            kind="reply",
            edition=str(reply.revision),
            plan=plan,
            mode=reply.mode,
            parts=reply.parts,
            email=email,
        )

    def _plan_reply(self, letter: LetterCopy, reply: ApprovedReply) -> Plan:
        """The reply's plan; an `online` answer to a letter taken by hand cannot be published
        on a platform it did not come from, so it is the writer's private answer, given by
        call-back, and the upload says why (its mode stays `online`, as approved)."""
        if letter.platform != MANUAL_PLATFORM or reply.mode != PublicationMode.online:
            return plan_reply(letter, reply, config=self.redaction)
        title, text = private_reply(letter, reply)
        downgrade = Downgrade(requested=PublicationMode.online, reasons=[MANUAL_NOT_ONLINE])
        return Plan(visibility="private", title=title, text=text, downgrade=downgrade)

    async def publish_notice(self, event: Event, notice: Notice) -> None:
        """Queue the notice of a decision (not accepted, forwarded, escalated)."""
        letter_id = letter_id_of(event)
        await self.copies.known(letter_id, event)

        def record(doc: Document) -> Change:
            kept = [n for n in doc.get("notices") or [] if n.get("slip_id") != notice.slip_id]
            return Change(set={"notices": [*kept, dump(notice)]})

        doc = await self.letters.mutate(letter_id, record, event_id=event.id)
        letter = LetterCopy.of(doc)
        await self._create_upload(
            letter,
            kind=notice.upload_kind,
            edition=notice.slip_id,
            plan=plan_notice(letter, notice),
        )

    async def _create_upload(
        self,
        letter: LetterCopy,
        *,
        kind: UploadKind,
        edition: str,
        plan: Plan,
        mode: PublicationMode | None = None,
        parts: ReplyParts | None = None,
        email: EmailRecord | None = None,
    ) -> None:
        key = upload_key(letter.id, kind=kind, edition=edition)
        state = UploadState.refused if plan.refused else UploadState.pending
        emailing = email is not None and email.state == EmailState.pending
        if letter.platform == MANUAL_PLATFORM and not plan.refused and not emailing:
            # Art. 31: nothing to upload; the office tells the writer and records it.
            state = UploadState.awaiting_callback
        doc: Document = {
            "_id": key,
            "letter_id": letter.id,
            "platform": letter.platform,
            "external_id": letter.external_id,
            "kind": kind,
            "edition": edition,
            "visibility": plan.visibility,
            "mode": mode,
            "title": plan.title,
            "text": plan.text,
            "parts": dump(parts) if parts is not None else None,
            "state": state,
            "attempts": 0,
            "retries": 0,
            "last_error": None,
            "errors": [],
            "next_attempt_at": self.wall.now(),
            "claimed_by": None,
            "claim_until": None,
            "email": dump(email) if email is not None else None,
            "receipt": None,
            "sent_at": None,
            "downgrade": dump(plan.downgrade) if plan.downgrade is not None else None,
            "findings": [dump(f) for f in plan.findings],
            "redacted": plan.redacted,
            "archived": False,
            "archive_checked_at": None,
        }
        audit = [
            self._audit(
                "publication_planned",
                letter_id=letter.id,
                target_type="upload",
                target_id=key,
                after={
                    "kind": kind,
                    "mode": mode,
                    "visibility": plan.visibility,
                    "state": state,
                    "redacted": plan.redacted,
                },
            )
        ]
        events: list[Event] = []
        if plan.downgrade is not None:
            audit.append(
                self._audit(
                    "publication_made_private",
                    letter_id=letter.id,
                    target_type="upload",
                    target_id=key,
                    before={"mode": plan.downgrade.requested, "visibility": "public"},
                    after={"visibility": "private"},
                    note="; ".join(plan.downgrade.reasons),
                )
            )
        if email is not None and email.state == EmailState.no_address:
            audit.append(
                self._audit(
                    "email_not_possible",
                    letter_id=letter.id,
                    target_type="upload",
                    target_id=key,
                    note="the writer left no e-mail address: the reply is uploaded privately only",
                )
            )
        if plan.refused:
            error = describe_findings(plan.findings)
            audit.append(
                self._audit(
                    "publication_refused",
                    letter_id=letter.id,
                    target_type="upload",
                    target_id=key,
                    after={"findings": [f.model_dump() for f in plan.findings]},
                    note=error,
                )
            )
            events.append(
                once_event(
                    UploadParked(
                        upload_key=key,
                        platform=letter.platform or "",
                        attempts=0,
                        error=error[:2000],
                    ),
                    key=f"{key}|refused",
                    occurred_at=self.clock.now(),
                    letter_id=letter.id,
                )
            )
        if state == UploadState.awaiting_callback:
            audit.append(
                self._audit(
                    "awaiting_callback",
                    letter_id=letter.id,
                    target_type="upload",
                    target_id=key,
                    note=AWAITING_CALLBACK_NOTE,
                )
            )
        created = await self.uploads.create(doc, events=events, audit=audit)
        if created and state == UploadState.pending:
            self.wake_uploader()

    async def flag_public_uploads(self, event: Event, *, reason: str) -> None:
        """A lock or mark that came after an online publication went out: the platform must
        take it down by hand (its API cannot), so flag the upload loudly for the office."""
        letter_id = letter_id_of(event)
        for doc in await self.uploads.for_letter(letter_id):
            if doc["state"] != UploadState.sent or doc["visibility"] != "public":
                continue

            def decide(current: Document) -> Change | None:
                if current.get("takedown_required"):
                    return None
                return Change(
                    set={"takedown_required": True},
                    audit=[
                        self._audit(
                            "takedown_required",
                            letter_id=letter_id,
                            target_type="upload",
                            target_id=str(current["_id"]),
                            note=f"published online before: {reason}; remove it on the platform",
                        )
                    ],
                )

            await self.uploads.mutate(str(doc["_id"]), decide)
            log.error("a public upload must be taken down", upload_id=doc["_id"], reason=reason)

    # ---- operators -------------------------------------------------------------------

    async def upload(self, upload_id: str) -> UploadDoc:
        """One upload; NotFound if there is none."""
        doc = await self.uploads.get(upload_id)
        if doc is None:
            raise NotFound(f"upload {upload_id} not found")
        return UploadDoc.of(doc)

    async def retry(self, upload_id: str, *, principal: Principal) -> UploadDoc:
        """Send a parked upload again, or re-check a refused one with today's redaction."""
        current = await self.upload(upload_id)
        replan: Plan | None = None
        if current.state == UploadState.refused:
            replan = await self._replan(current)
        actor = actor_of(principal)

        def decide(doc: Document) -> Change:
            state = doc["state"]
            before = {"state": state, "attempts": doc.get("attempts", 0)}
            if state == UploadState.parked:
                return Change(
                    set={
                        "state": UploadState.pending,
                        "attempts": 0,
                        "retries": doc.get("retries", 0) + 1,
                        "next_attempt_at": self.wall.now(),
                        "claimed_by": None,
                        "claim_until": None,
                    },
                    audit=[
                        self._audit(
                            "upload_retry",
                            letter_id=doc["letter_id"],
                            target_type="upload",
                            target_id=upload_id,
                            actor=actor,
                            before=before,
                            after={"state": UploadState.pending, "attempts": 0},
                        )
                    ],
                )
            if state == UploadState.refused and replan is not None:
                new_state = UploadState.refused if replan.refused else UploadState.pending
                return Change(
                    set={
                        "state": new_state,
                        "title": replan.title,
                        "text": replan.text,
                        "visibility": replan.visibility,
                        "findings": [dump(f) for f in replan.findings],
                        "retries": doc.get("retries", 0) + 1,
                        "next_attempt_at": self.wall.now(),
                    },
                    audit=[
                        self._audit(
                            "publication_rechecked",
                            letter_id=doc["letter_id"],
                            target_type="upload",
                            target_id=upload_id,
                            actor=actor,
                            before=before,
                            after={"state": new_state, "findings": len(replan.findings)},
                            note=describe_findings(replan.findings) if replan.refused else None,
                        )
                    ],
                )
            raise Conflict(
                f"upload {upload_id} is {state}: only a parked or refused upload is retried",
                details={"state": state, "retryable_states": ["parked", "refused"]},
            )

        doc = await self.uploads.mutate(upload_id, decide)
        if doc["state"] == UploadState.pending:
            self.wake_uploader()
        return UploadDoc.of(doc)

    async def record_callback(
        self,
        upload_id: str,
        *,
        channel: CallbackChannel,
        at: datetime,
        note: str,
        reference: str | None,
        principal: Principal,
    ) -> UploadDoc:
        """The office told the writer of a letter taken by hand their answer (Art. 10, 31):
        the upload is delivered as of `at`, with the person as actor. The same record again
        changes nothing; a different one after delivery is a conflict."""
        current = await self.upload(upload_id)
        now = self.clock.now()
        at = _to_millisecond(ensure_aware(at))
        if at > now + CLOCK_SKEW:
            raise Invalid("a call-back is recorded after it happened", details={"field": "at"})
        created = current.created_at
        if created is not None and at < ensure_aware(created) - CLOCK_SKEW:
            raise Invalid(
                f"the writer cannot be told an answer before it exists ({created.isoformat()})",
                details={"field": "at"},
            )
        callback = Callback(
            channel=channel,
            at=at,
            note=note,
            reference=reference,
            recorded_by=actor_of(principal),
            recorded_at=now,
        )

        def decide(doc: Document) -> Change | None:
            state = doc["state"]
            if doc["platform"] != MANUAL_PLATFORM:
                raise Conflict(
                    f"upload {upload_id} goes to platform '{doc['platform']}': only the answer"
                    " to a letter taken by hand is delivered by call-back",
                    details={"platform": doc["platform"], "state": state},
                )
            if state == UploadState.sent:
                recorded = doc.get("callback")
                if recorded is not None and Callback.model_validate(recorded).same_as(callback):
                    return None
                raise Conflict(
                    f"upload {upload_id} was delivered already"
                    + (" by another call-back" if recorded else " (by e-mail)"),
                    details={"state": state, "callback": _public(recorded)},
                )
            change = sent_change(
                doc,
                at=at,
                action="answer_delivered",
                clock=self.clock,
                callback=callback,
                actor=callback.recorded_by,
            )
            if change is None:
                raise Conflict(
                    f"upload {upload_id} is {state}: only an answer waiting for its call-back"
                    " is delivered",
                    details={"state": state, "deliverable_states": ["awaiting_callback"]},
                )
            return change

        return UploadDoc.of(await self.uploads.mutate(upload_id, decide))

    async def _replan(self, upload: UploadDoc) -> Plan:
        letter = await self.letter(upload.letter_id)
        reply = next((r for r in letter.replies if str(r.revision) == upload.edition), None)
        if upload.kind != "reply" or reply is None:
            raise Conflict(f"upload {upload.id} has no reply to re-check")
        return self._plan_reply(letter, reply)
