"""Event handlers of the publishing service.

Each is idempotent: changes to a letter's copy carry the event id, and an upload is
created once per idempotency key. A handler that needs the letter before its
`letter.received` arrived raises, so the bus delivers the event again later.
"""

from __future__ import annotations

from collections.abc import Callable

from services.publishing.letters.models import (
    ApprovedReply,
    LockInfo,
    Notice,
    ReplyParts,
    SensitivityInfo,
)
from services.publishing.uploads.service import PublishingService
from shared.events import Event
from shared.events.catalog import (
    ClockClosed,
    LetterEscalated,
    LetterForwarded,
    LetterLocked,
    LetterNotAccepted,
    LetterReceived,
    LetterSensitivityMarked,
    LetterTransferred,
    ReplyApproved,
)
from shared.runtime import Dispatcher


def approved_reply(data: ReplyApproved) -> ApprovedReply:
    """The approved reply as publishing keeps it."""
    return ApprovedReply(
        reply_id=data.reply_id,
        revision=data.revision,
        unit_id=data.unit_id,
        parts=ReplyParts(
            unit_name=data.unit_name,
            handler_name=data.handler_name,
            investigation=data.investigation,
            policy_basis=data.policy_basis,
            result=data.result,
        ),
        mode=data.publication_mode,
        not_public_reason=data.not_public_reason,
        sensitivities=list(data.sensitivities),
        locked=data.locked,
        approved_at=data.approved_at,
    )


def register(
    dispatcher: Dispatcher,
    *,
    service: PublishingService,
    nudge_archiver: Callable[[str], None] = lambda _: None,
) -> None:
    """Register every handler; `nudge_archiver(letter_id)` when a clock of a letter closes."""

    @dispatcher.on(LetterReceived)
    async def on_received(event: Event, data: LetterReceived) -> None:
        await service.copies.record_letter(event, data)

    @dispatcher.on(LetterSensitivityMarked)
    async def on_sensitivity(event: Event, data: LetterSensitivityMarked) -> None:
        mark = SensitivityInfo(
            sensitivities=list(data.sensitivities), reason=data.reason, marked_at=data.marked_at
        )
        await service.copies.record_sensitivity(event, mark)
        await service.flag_public_uploads(
            event, reason=f"marked not public (Art. 22): {data.reason}"
        )

    @dispatcher.on(LetterLocked)
    async def on_locked(event: Event, data: LetterLocked) -> None:
        lock = LockInfo(
            agency=data.agency,
            reason=data.reason,
            approved_by=data.approved_by,
            locked_at=data.locked_at,
        )
        await service.copies.record_lock(event, lock)
        await service.flag_public_uploads(event, reason=f"locked (Art. 23): {data.reason}")

    @dispatcher.on(ReplyApproved)
    async def on_reply_approved(event: Event, data: ReplyApproved) -> None:
        await service.publish_reply(event, approved_reply(data))

    @dispatcher.on(LetterNotAccepted)
    async def on_not_accepted(event: Event, data: LetterNotAccepted) -> None:
        notice = Notice(
            kind="not_accepted",
            slip_id=data.slip_id,
            text=data.reply_text,
            reason=data.reason,
            decided_at=data.decided_at,
        )
        await service.publish_notice(event, notice)

    @dispatcher.on(LetterForwarded)
    async def on_forwarded(event: Event, data: LetterForwarded) -> None:
        notice = Notice(
            kind="forwarded",
            slip_id=data.slip_id,
            text=data.notice_text,
            recipient_id=data.recipient_id,
            recipient_name=data.recipient_name,
            decided_at=data.decided_at,
        )
        await service.publish_notice(event, notice)

    @dispatcher.on(LetterEscalated)
    async def on_escalated(event: Event, data: LetterEscalated) -> None:
        notice = Notice(
            kind="escalated",
            slip_id=data.slip_id,
            text=data.notice_text,
            recipient_id=data.recipient_id,
            recipient_name=data.recipient_name,
            decided_at=data.decided_at,
        )
        await service.publish_notice(event, notice)

    @dispatcher.on(LetterTransferred)
    async def on_transferred(event: Event, data: LetterTransferred) -> None:
        # Archiving a forwarded or escalated letter waits for its content to be sent on.
        if event.letter_id:
            nudge_archiver(event.letter_id)

    @dispatcher.on(ClockClosed)
    async def on_clock_closed(event: Event, data: ClockClosed) -> None:
        await service.copies.record_clock_closed(event, data.clock_id)
        if event.letter_id:
            nudge_archiver(event.letter_id)
