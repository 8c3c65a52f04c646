"""An upload delivered: the one change every way of delivering it ends in.

Pure, no I/O. The uploader delivers a platform upload or the e-mail of a letter taken by
hand; the office delivers the answer to a letter taken by hand by recording a call-back
(`PublishingService.record_callback`). Both mark the upload `sent` through `sent_change`,
with `letter.published` in the same write. Until its call-back, such an answer waits in
`awaiting_callback`, for the reason `AWAITING_CALLBACK_NOTE` gives.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from services.publishing.letters.service import SYSTEM, dump, once_event
from services.publishing.uploads.models import (
    Callback,
    EmailState,
    Receipt,
    UploadDoc,
    UploadState,
)
from shared.aggregate import Change
from shared.audit import Actor, AuditEntry
from shared.clock import Clock
from shared.events.catalog import LetterPublished
from shared.mongo import Document

AWAITING_CALLBACK_NOTE = (
    "letter taken by hand (Art. 31): no platform to send the answer to; it counts as"
    " delivered once the office records telling the writer (POST /uploads/{id}/delivered)"
)


def sent_change(
    doc: Document,
    *,
    at: datetime,
    action: Literal["uploaded", "answer_emailed", "answer_delivered"],
    clock: Clock,
    receipt: Receipt | None = None,
    callback: Callback | None = None,
    actor: Actor = SYSTEM,
) -> Change | None:
    """A pending (or, for a call-back, awaiting) upload delivered at `at`: state `sent` and
    `letter.published` in one write, which closes the upload clock (deadlines) and moves
    the letter on (routing). Platform uploads and e-mails are the system's act; a call-back
    is the office person's who records it, and `at` is when the writer was told."""
    waiting = {UploadState.pending} | ({UploadState.awaiting_callback} if callback else set())
    if doc["state"] not in waiting:
        return None
    upload = UploadDoc.of(doc)
    emailed = upload.email is not None and upload.email.state == EmailState.sent
    event = once_event(
        LetterPublished(
            upload_id=upload.id,
            platform=upload.platform,
            kind=upload.kind,
            visibility=upload.visibility,
            mode=upload.mode,
            emailed=emailed,
            published_at=at,
        ),
        key=upload.id,
        occurred_at=clock.now(),
        letter_id=upload.letter_id,
    )
    after: dict[str, Any] = {"visibility": upload.visibility, "emailed": emailed}
    if receipt is not None:
        after |= {"platform_upload_id": receipt.upload_id, "duplicate": receipt.duplicate}
    if callback is not None:
        after |= {"channel": callback.channel.value, "at": callback.at, "mode": upload.mode}
    return Change(
        set={
            "state": UploadState.sent,
            "attempts": upload.attempts + (0 if callback else 1),
            "receipt": dump(receipt) if receipt is not None else None,
            "callback": dump(callback) if callback is not None else None,
            "sent_at": at,
            "claimed_by": None,
            "claim_until": None,
        },
        events=[event],
        audit=[
            AuditEntry(
                at=clock.now(),
                actor=actor,
                action=action,
                target_type="upload",
                target_id=upload.id,
                letter_id=upload.letter_id,
                before={"state": doc["state"]},
                after=after,
                note=callback.note if callback is not None else None,
            )
        ],
    )
