"""Event handlers: open and close clocks, and keep each letter's facts for the reports.

Every handler is idempotent. Clock ids come from the event (letter, stage, reply
revision), so a redelivered event finds its clock there; clock changes carry
the event id; facts are `$set` / `$addToSet`, which repeat harmlessly. A handler
touching several documents may stop half-way (crash): the redelivery redoes the
rest and what was done stays done.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.deadlines.clocks.models import (
    Adjustment,
    acceptance_clock_id,
    handling_clock_id,
    upload_clock_id,
)
from services.deadlines.clocks.service import DeadlinesService
from services.deadlines.reports.repository import (
    FactsRepository,
)
from shared.clock import ensure_aware, to_shanghai
from shared.events import Event
from shared.events.catalog import (
    ExtensionApproved,
    ExtensionRefused,
    ExtensionRequested,
    LetterAccepted,
    LetterClassified,
    LetterEscalated,
    LetterForwarded,
    LetterNotAccepted,
    LetterPublished,
    LetterReceived,
    ReplyApproved,
    ReplyReturned,
    ReplySubmitted,
    SlipSubmitted,
)
from shared.events.vocabulary import ClockKind, LetterSource, Nature, Route
from shared.logging import get_logger
from shared.runtime import Dispatcher

log = get_logger(__name__)

ACCEPTANCE_WORKING_DAYS = 1
UPLOAD_WORKING_DAYS = 1
CONSULTATION_WORKING_DAYS = 3
HANDLING_WORKING_DAYS = 10


def handling_working_days(nature: Nature) -> int:
    """Art. 19: three working days for a consultation, ten for any other nature."""
    return CONSULTATION_WORKING_DAYS if nature == Nature.consultation else HANDLING_WORKING_DAYS


def acceptance_start(data: LetterReceived) -> datetime:
    """When the office received the letter (Art. 18): the acceptance clock starts there.

    A platform letter reached the office when we registered it (the platform's submission
    time is not the office's receipt); a letter taken by hand (Art. 31: a call, a visit)
    reached it when the writer called or came, which the clerk records as `submitted_at`
    and may register later.
    """
    received_at = ensure_aware(data.received_at)
    if data.source == LetterSource.platform:
        return received_at
    return min(ensure_aware(data.submitted_at), received_at)


def _first_acceptance_act(known: dict[str, Any]) -> tuple[datetime, str] | None:
    """The earliest event already seen that closes the acceptance clock, if any."""
    seen: list[tuple[datetime, str]] = [
        (ensure_aware(at), "slip submitted before the receipt was seen")
        for at in known.get("slip_submissions") or []
    ]
    decided_at: datetime | None = known.get("decided_at")
    if decided_at is not None:
        seen.append((ensure_aware(decided_at), "decision seen before receipt"))
    return min(seen, default=None, key=lambda item: item[0])


def _month(at: datetime) -> str:
    return f"{to_shanghai(at):%Y-%m}"


def _when(at: datetime) -> dict[str, Any]:
    local = to_shanghai(at)
    return {"months": [f"{local:%Y-%m}"], "years": [local.year]}


def register(dispatcher: Dispatcher, *, service: DeadlinesService, facts: FactsRepository) -> None:
    """Register every handler of the deadlines service."""

    def letter_of(event: Event) -> str | None:
        if not event.letter_id:
            log.warning("event without letter id ignored", event_id=event.id, type=event.type)
        return event.letter_id

    @dispatcher.on(LetterReceived)
    async def on_received(event: Event, data: LetterReceived) -> None:
        letter_id = letter_of(event)
        if letter_id is None:
            return
        known = await facts.update_and_get(
            letter_id,
            set_fields={
                "platform": data.platform,
                "source": data.source.value,
                "received_at": ensure_aware(data.received_at),
                "received_month": _month(data.received_at),
            },
            **_when(data.received_at),
        )
        start = acceptance_start(data)
        why = "letter received"
        if start < ensure_aware(data.received_at):
            why = f"taken by hand; the writer called or came {to_shanghai(start):%Y-%m-%d %H:%M}"
        await service.open_clock(
            clock_id=acceptance_clock_id(letter_id),
            letter_id=letter_id,
            kind=ClockKind.acceptance,
            unit_id=None,
            start=start,
            working_days=ACCEPTANCE_WORKING_DAYS,
            why=why,
            event_id=event.id,
            closed=_first_acceptance_act(known),
        )
        if _first_acceptance_act(known) is None:
            # A submission or decision handled at the same time found no clock to close
            # yet, and wrote its fact after this handler read them: read them again now
            # that the clock exists (seen once as a due_soon for an accepted letter).
            late = _first_acceptance_act(await facts.get(letter_id) or {})
            if late is not None:
                await service.close_clock(acceptance_clock_id(letter_id), at=late[0], why=late[1])

    @dispatcher.on(LetterClassified)
    async def on_classified(event: Event, data: LetterClassified) -> None:
        letter_id = letter_of(event)
        if letter_id is None:
            return
        suggestion = {
            "nature": data.nature.value,
            "accepted": data.accepted,
            "reason": data.not_accepted_reason and data.not_accepted_reason.value,
            "route": data.route and data.route.value,
            "at": ensure_aware(event.occurred_at),
        }
        await facts.update(letter_id, set_fields={"suggested": suggestion})

    async def open_upload_clocks(letter_id: str) -> list[str]:
        # By id, from the revisions the facts list: on FerretDB a query by letter scans clocks.
        known = await facts.get(letter_id) or {}
        open_ids: list[str] = []
        for submission in known.get("submissions") or []:
            reply_id, _, revision = str(submission).rpartition(":")
            clock_id = upload_clock_id(letter_id, reply_id=reply_id, revision=int(revision))
            clock = await service.clocks.get(clock_id)
            if clock is not None and clock.get("closed_at") is None:
                open_ids.append(clock_id)
        return open_ids

    @dispatcher.on(SlipSubmitted)
    async def on_slip_submitted(event: Event, data: SlipSubmitted) -> None:
        # Art. 18: the office proposes its acceptance opinion within one working day; it
        # has when the clerk first submits the slip to the office head. A resubmission
        # after a send-back finds the clock closed and changes nothing.
        letter_id = letter_of(event)
        if letter_id is None:
            return
        await facts.update(
            letter_id,
            add={"slip_submissions": [ensure_aware(data.submitted_at)]},
            **_when(data.submitted_at),
        )
        await service.close_clock(
            acceptance_clock_id(letter_id),
            at=data.submitted_at,
            why=f"slip {data.slip_id} submitted to the office head (submission {data.submission})",
            event_id=event.id,
        )

    async def decided(letter_id: str, *, at: datetime, why: str, event_id: str) -> None:
        # The slip's submission closed the clock already; this closes one whose
        # `slip.submitted` never came (lost, or from before that event existed).
        await service.close_clock(acceptance_clock_id(letter_id), at=at, why=why, event_id=event_id)

    @dispatcher.on(LetterAccepted)
    async def on_accepted(event: Event, data: LetterAccepted) -> None:
        letter_id = letter_of(event)
        if letter_id is None:
            return
        known = await facts.update_and_get(
            letter_id,
            set_fields={
                "nature": data.nature.value,
                "accepted": True,
                "route": Route.direct.value,
                "lead_unit_id": data.lead_unit_id,
                "assisting_unit_ids": list(data.assisting_unit_ids),
                "major": data.major,
                "decided_at": ensure_aware(data.handed_over_at),
            },
            **_when(data.handed_over_at),
        )
        if data.lead_unit_name:
            await facts.name_unit(data.lead_unit_id, data.lead_unit_name)
        await decided(letter_id, at=data.handed_over_at, why="accepted (直办)", event_id=event.id)
        submitted_at: datetime | None = known.get("last_submitted_at")
        early = submitted_at is not None and submitted_at >= ensure_aware(data.handed_over_at)
        await service.open_clock(
            clock_id=handling_clock_id(letter_id),
            letter_id=letter_id,
            kind=ClockKind.handling,
            unit_id=data.lead_unit_id,
            start=data.handed_over_at,
            working_days=handling_working_days(data.nature),
            why=f"slip {data.slip_id} handed to the lead unit",
            event_id=event.id,
            closed=(submitted_at, "reply seen before the hand-over")
            if early and submitted_at is not None
            else None,
        )

    @dispatcher.on(LetterNotAccepted)
    async def on_not_accepted(event: Event, data: LetterNotAccepted) -> None:
        letter_id = letter_of(event)
        if letter_id is None:
            return
        await facts.update(
            letter_id,
            set_fields={
                "accepted": False,
                "not_accepted_reason": data.reason.value,
                "decided_at": ensure_aware(data.decided_at),
            },
            **_when(data.decided_at),
        )
        await decided(letter_id, at=data.decided_at, why="not accepted", event_id=event.id)

    async def passed_on(
        event: Event, data: LetterForwarded | LetterEscalated, route: Route
    ) -> None:
        letter_id = letter_of(event)
        if letter_id is None:
            return
        await facts.update(
            letter_id,
            set_fields={
                "accepted": True,
                "route": route.value,
                "recipient_id": data.recipient_id,
                "recipient_name": data.recipient_name,
                "decided_at": ensure_aware(data.decided_at),
            },
            **_when(data.decided_at),
        )
        await decided(letter_id, at=data.decided_at, why=f"{route.value}ed", event_id=event.id)

    @dispatcher.on(LetterForwarded)
    async def on_forwarded(event: Event, data: LetterForwarded) -> None:
        await passed_on(event, data, Route.forward)

    @dispatcher.on(LetterEscalated)
    async def on_escalated(event: Event, data: LetterEscalated) -> None:
        await passed_on(event, data, Route.escalate)

    @dispatcher.on(ReplySubmitted)
    async def on_submitted(event: Event, data: ReplySubmitted) -> None:
        letter_id = letter_of(event)
        if letter_id is None:
            return
        await facts.update(
            letter_id,
            set_fields={"last_submitted_at": ensure_aware(data.submitted_at)},
            add={"submissions": [f"{data.reply_id}:{data.revision}"]},
            **_when(data.submitted_at),
        )
        await service.close_clock(
            handling_clock_id(letter_id),
            at=data.submitted_at,
            why=f"reply {data.reply_id} revision {data.revision} submitted",
            event_id=event.id,
        )
        await service.open_clock(
            clock_id=upload_clock_id(letter_id, reply_id=data.reply_id, revision=data.revision),
            letter_id=letter_id,
            kind=ClockKind.upload,
            unit_id=None,
            start=data.submitted_at,
            working_days=UPLOAD_WORKING_DAYS,
            why=f"office received reply {data.reply_id} revision {data.revision}",
            event_id=event.id,
        )

    @dispatcher.on(ReplyReturned)
    async def on_returned(event: Event, data: ReplyReturned) -> None:
        letter_id = letter_of(event)
        if letter_id is None:
            return
        returned = {
            "id": f"{data.reply_id}:{data.revision}",
            "reason": data.reason.value,
            "unit_id": data.unit_id,
            "at": ensure_aware(data.returned_at),
        }
        await facts.update(letter_id, add={"returns": [returned]}, **_when(data.returned_at))
        for clock_id in await open_upload_clocks(letter_id):
            await service.stop_clock(
                clock_id, at=data.returned_at, why="reply returned to the unit", event_id=event.id
            )
        adjustment = None
        if data.new_due is not None:
            adjustment = Adjustment(
                source=f"return:{data.reply_id}:{data.revision}",
                new_due=ensure_aware(data.new_due),
                at=ensure_aware(data.returned_at),
            )
        await service.reschedule(
            handling_clock_id(letter_id),
            change="reopened",
            why=f"reply returned ({data.reason.value}): {data.comment}"[:500],
            adjustment=adjustment,
            reopen=True,
            event_id=event.id,
        )

    @dispatcher.on(ReplyApproved)
    async def on_approved(event: Event, data: ReplyApproved) -> None:
        letter_id = letter_of(event)
        if letter_id is None:
            return
        await facts.update(
            letter_id,
            set_fields={
                "approved_mode": data.publication_mode.value,
                "reply_unit_id": data.unit_id,
                "approved_at": ensure_aware(data.approved_at),
            },
            **_when(data.approved_at),
        )
        # `unit_name` here is the reply's free-text 承办单位 as the unit typed it, not the
        # directory's name: reports name units only from `letter.accepted` (the directory's).

    @dispatcher.on(ExtensionRequested)
    async def on_extension_requested(event: Event, data: ExtensionRequested) -> None:
        letter_id = letter_of(event)
        if letter_id is None:
            return
        request = {"id": data.extension_id, "unit_id": data.unit_id, "at": data.requested_at}
        await facts.update(
            letter_id, add={"extensions_requested": [request]}, **_when(data.requested_at)
        )
        await service.extension_requested(
            handling_clock_id(letter_id),
            extension_id=data.extension_id,
            requested_at=data.requested_at,
            event_id=event.id,
        )

    @dispatcher.on(ExtensionApproved)
    async def on_extension_approved(event: Event, data: ExtensionApproved) -> None:
        letter_id = letter_of(event)
        if letter_id is None:
            return
        approval = {
            "id": data.extension_id,
            "unit_id": data.unit_id,
            "at": ensure_aware(data.decided_at),
            "extra_working_days": data.extra_working_days,
        }
        await facts.update(
            letter_id, add={"extensions_approved": [approval]}, **_when(data.decided_at)
        )
        if data.extra_working_days is None and data.new_due is None:
            log.warning("extension approved without a new due", extension_id=data.extension_id)
            return
        adjustment = Adjustment(
            source=data.extension_id,
            extra_working_days=data.extra_working_days if data.new_due is None else None,
            new_due=None if data.new_due is None else ensure_aware(data.new_due),
            at=ensure_aware(data.decided_at),
        )
        extra = f"+{data.extra_working_days} working days" if data.new_due is None else "new due"
        await service.reschedule(
            handling_clock_id(letter_id),
            change="due_set" if data.new_due is not None else "extended",
            why=f"extension {data.extension_id} approved ({extra})",
            adjustment=adjustment,
            extension_id=data.extension_id,
            event_id=event.id,
        )

    @dispatcher.on(ExtensionRefused)
    async def on_extension_refused(event: Event, data: ExtensionRefused) -> None:
        letter_id = letter_of(event)
        if letter_id is None:
            return
        refusal = {"id": data.extension_id, "unit_id": data.unit_id, "at": data.decided_at}
        await facts.update(
            letter_id, add={"extensions_refused": [refusal]}, **_when(data.decided_at)
        )
        await service.extension_refused(
            handling_clock_id(letter_id),
            extension_id=data.extension_id,
            why=f"extension {data.extension_id} refused: {data.reason}"[:500],
            event_id=event.id,
        )

    @dispatcher.on(LetterPublished)
    async def on_published(event: Event, data: LetterPublished) -> None:
        letter_id = letter_of(event)
        if letter_id is None:
            return
        publication = {
            "id": data.upload_id,
            "kind": data.kind,
            "mode": data.mode and data.mode.value,
            "visibility": data.visibility,
            "at": ensure_aware(data.published_at),
        }
        await facts.update(
            letter_id,
            set_fields={"published_at": ensure_aware(data.published_at)},
            add={"publications": [publication]},
            **_when(data.published_at),
        )
        for clock_id in await open_upload_clocks(letter_id):
            await service.close_clock(
                clock_id, at=data.published_at, why=f"published ({data.kind})", event_id=event.id
            )
