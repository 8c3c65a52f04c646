"""Every event type and its typed `data`: the contract between the services.

Producers build `data` from these models, consumers parse it with them, and the
AsyncAPI document is generated from them. Changing a field in a way old
consumers cannot read means a new `version`.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.events.vocabulary import (
    ClockKind,
    ClockState,
    LetterSource,
    Nature,
    NotAcceptedReason,
    Person,
    PublicationMode,
    ReturnReason,
    Route,
    Sensitivity,
)


class EventData(BaseModel):
    """Base of every event's `data`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str]
    event_version: ClassVar[int] = 1
    summary: ClassVar[str] = ""


# ---- intake -----------------------------------------------------------------


class LetterReceived(EventData):
    event_type = "letter.received"
    summary = "A letter was registered once (polled from a platform or entered by hand)."

    platform: str = Field(description="platform id, or 'manual' for hotline/other")
    external_id: str
    source: LetterSource
    title: str
    text: str
    person: Person
    submitted_at: datetime = Field(
        description="when the writer sent it (platform time), or called or came (by hand)"
    )
    received_at: datetime = Field(description="when we registered it")
    taken_by: str | None = Field(default=None, description="who took a hotline/in-person letter")
    raw_sha256: str = Field(description="checksum of the raw record as received")


# ---- routing ----------------------------------------------------------------


class LetterClassified(EventData):
    event_type = "letter.classified"
    summary = "The system suggested nature, scope and competence, with reasons."

    nature: Nature
    accepted: bool
    not_accepted_reason: NotAcceptedReason | None = None
    route: Route | None = None
    unit_id: str | None = Field(default=None, description="lead unit or external recipient")
    why: str = ""
    repeated_of: list[str] = Field(default_factory=list)


class SlipSubmitted(EventData):
    event_type = "slip.submitted"
    summary = (
        "The clerk submitted the handling slip with the acceptance opinion to the office head"
        " (Art. 13, 18): the acceptance clock stops at the first submission."
    )

    slip_id: str
    submitted_at: datetime
    submission: int = Field(
        default=1, ge=1, description="1 for the first submission, 2 after one send-back, …"
    )
    accepted: bool = Field(description="the acceptance the clerk proposes")
    route: Route | None = Field(default=None, description="the proposed competence, if accepted")


class LetterAccepted(EventData):
    event_type = "letter.accepted"
    summary = "The office head approved acceptance; the slip goes to the lead unit (直办)."

    slip_id: str
    nature: Nature
    lead_unit_id: str
    assisting_unit_ids: list[str] = Field(default_factory=list)
    major: bool = False
    handed_over_at: datetime
    lead_unit_name: str | None = Field(
        default=None, description="the lead unit's name as users read it (reports, charts)"
    )


class LetterNotAccepted(EventData):
    event_type = "letter.not_accepted"
    summary = "Not accepted (Art. 9): the reason goes back to the writer via the platform."

    slip_id: str
    reason: NotAcceptedReason
    reply_text: str
    decided_at: datetime


class LetterForwarded(EventData):
    event_type = "letter.forwarded"
    summary = "Passed to another municipal department or district/county government (转阅)."

    slip_id: str
    recipient_id: str
    recipient_name: str
    notice_text: str
    decided_at: datetime


class LetterEscalated(EventData):
    event_type = "letter.escalated"
    summary = "Passed to the city government's mailbox office (呈办)."

    slip_id: str
    recipient_id: str
    recipient_name: str
    notice_text: str
    decided_at: datetime


class LetterTransferred(EventData):
    event_type = "letter.transferred"
    summary = (
        "The office sent a forwarded or escalated letter's content on to its recipient"
        " (Art. 13 转阅/呈办), by the channel and reference recorded."
    )

    route: Route
    recipient_id: str
    recipient_name: str
    channel: str
    reference: str
    sent_at: datetime


class ReplySubmitted(EventData):
    event_type = "reply.submitted"
    summary = "The lead unit submitted its approved reply to the office."

    reply_id: str
    revision: int
    unit_id: str
    proposed_mode: PublicationMode
    submitted_at: datetime


class ReplyReturned(EventData):
    event_type = "reply.returned"
    summary = "The office returned the reply to the unit (Art. 26)."

    reply_id: str
    revision: int
    unit_id: str
    reason: ReturnReason
    comment: str
    new_due: datetime | None = Field(
        default=None, description="a new handling due set by the office; else the old due holds"
    )
    returned_at: datetime


class ReplyApproved(EventData):
    event_type = "reply.approved"
    summary = "The office's review chain approved the reply with its final publication mode."

    reply_id: str
    revision: int
    unit_id: str
    unit_name: str
    handler_name: str
    investigation: str
    policy_basis: str
    result: str
    publication_mode: PublicationMode
    not_public_reason: str | None = None
    sensitivities: list[Sensitivity] = Field(default_factory=list)
    locked: bool = Field(default=False, description="Art. 23: never published online")
    approved_at: datetime


class ExtensionRequested(EventData):
    event_type = "extension.requested"
    summary = "A unit asked for more time on its handling clock (Art. 19 ③)."

    extension_id: str
    unit_id: str
    reason: str
    extra_working_days: int | None = None
    new_due: datetime | None = None
    requested_at: datetime


class ExtensionApproved(EventData):
    event_type = "extension.approved"
    summary = "The office granted an extension: the handling clock moves."

    extension_id: str
    unit_id: str
    extra_working_days: int | None = None
    new_due: datetime | None = None
    decided_at: datetime


class ExtensionRefused(EventData):
    event_type = "extension.refused"
    summary = "The office refused an extension."

    extension_id: str
    unit_id: str
    reason: str
    decided_at: datetime


class LetterSensitivityMarked(EventData):
    event_type = "letter.sensitivity_marked"
    summary = "Art. 22: the letter must not be published; the reason is recorded."

    sensitivities: list[Sensitivity]
    reason: str
    marked_at: datetime


class LetterLocked(EventData):
    event_type = "letter.locked"
    summary = "Art. 23: national security / especially sensitive; never published online."

    agency: str
    reason: str
    approved_by: str
    locked_at: datetime


class TokenRevoked(EventData):
    event_type = "token.revoked"
    summary = "An admin revoked a bearer token; every service refuses it from now on."

    token_id: str
    expires_at: datetime


# ---- deadlines --------------------------------------------------------------


class ClockScheduled(EventData):
    event_type = "clock.scheduled"
    summary = "A clock opened or its due moved (extension, new due, calendar change)."

    clock_id: str
    kind: ClockKind
    unit_id: str | None = None
    started_at: datetime
    due: datetime
    provisional: bool
    state: ClockState
    working_days: int | None = Field(
        default=None, description="working days counted, approved extensions included"
    )
    change: Literal["opened", "extended", "due_set", "recomputed", "reopened"] = Field(
        default="opened", description="why this clock.scheduled was sent"
    )


class ClockClosed(EventData):
    event_type = "clock.closed"
    summary = "A clock stopped: met (in time), overdue when closed late, or stopped."

    clock_id: str
    kind: ClockKind
    unit_id: str | None = None
    due: datetime
    closed_at: datetime
    state: ClockState


class ClockDueSoon(EventData):
    event_type = "clock.due_soon"
    summary = "A clock enters its last working day."

    clock_id: str
    kind: ClockKind
    unit_id: str | None = None
    due: datetime


class ClockOverdue(EventData):
    event_type = "clock.overdue"
    summary = "A clock passed its due without being closed."

    clock_id: str
    kind: ClockKind
    unit_id: str | None = None
    due: datetime
    extension_pending: bool = False


class ReminderIssued(EventData):
    event_type = "reminder.issued"
    summary = "催办 (Art. 27): the overdue unit must answer within one working day."

    reminder_id: str
    clock_id: str
    unit_id: str
    answer_due: datetime
    text: str


class ReminderAnswered(EventData):
    event_type = "reminder.answered"
    summary = "The unit answered a reminder."

    reminder_id: str
    unit_id: str
    answered_at: datetime
    text: str


class AssessmentRecorded(EventData):
    event_type = "assessment.recorded"
    summary = "考核扣分 (Art. 27, 28): a deduction item for a unit."

    item_id: str
    unit_id: str
    kind: Literal["reminder_unanswered", "wrong_publication_mode", "manual"]
    points: float
    year: int
    reason: str


# ---- publishing -------------------------------------------------------------


class LetterPublished(EventData):
    event_type = "letter.published"
    summary = "The answer was uploaded to the letter's platform (件件有结果)."

    upload_id: str
    platform: str
    kind: Literal["reply", "not_accepted", "transfer"]
    visibility: Literal["public", "private"]
    mode: PublicationMode | None = None
    emailed: bool = False
    published_at: datetime


class UploadParked(EventData):
    event_type = "upload.parked"
    summary = (
        "An upload kept failing and waits for an operator's retry (`attempts` > 0), or the"
        " leak scan refused an online publication (`attempts` = 0, upload state `refused`)."
    )

    upload_key: str
    platform: str
    attempts: int
    error: str


class LetterArchived(EventData):
    event_type = "letter.archived"
    summary = "An immutable archive record gathers the whole case (Art. 16)."

    archive_id: str
    sha256: str
    archived_at: datetime


EVENT_TYPES: dict[str, type[EventData]] = {
    cls.event_type: cls
    for cls in (
        LetterReceived,
        LetterClassified,
        SlipSubmitted,
        LetterAccepted,
        LetterNotAccepted,
        LetterForwarded,
        LetterEscalated,
        LetterTransferred,
        ReplySubmitted,
        ReplyReturned,
        ReplyApproved,
        ExtensionRequested,
        ExtensionApproved,
        ExtensionRefused,
        LetterSensitivityMarked,
        LetterLocked,
        TokenRevoked,
        ClockScheduled,
        ClockClosed,
        ClockDueSoon,
        ClockOverdue,
        ReminderIssued,
        ReminderAnswered,
        AssessmentRecorded,
        LetterPublished,
        UploadParked,
        LetterArchived,
    )
}
