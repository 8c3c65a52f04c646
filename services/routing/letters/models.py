"""What the routing service stores about a letter, part by part.

A letter is one aggregate document (`letters` collection, `_id` = the intake's letter id):
its text and writer, the suggestion, the handling slip, the lead unit's work, the reply with
its revisions and reviews, extensions, sensitivity and referral, and the facts other
services report (clocks, reminders, publication, archive). The same models describe the
API's responses, so what is stored is what is documented.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.audit import Actor
from shared.events.vocabulary import (
    LABELS_ZH,
    ClockKind,
    ClockState,
    Nature,
    NotAcceptedReason,
    PublicationMode,
    ReturnReason,
    Route,
    Sensitivity,
)


class _Part(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Agency(StrEnum):
    """Art. 23: who is asked to help investigate (公安, 国安)."""

    public_security = "public_security"
    state_security = "state_security"


AGENCY_ZH = {Agency.public_security: "公安机关", Agency.state_security: "国家安全机关"}


class ContactChannel(StrEnum):
    phone = "phone"
    sms = "sms"
    email = "email"
    visit = "visit"
    other = "other"


class ContactOutcome(StrEnum):
    reached = "reached"
    no_answer = "no_answer"
    wrong_number = "wrong_number"  # 空号或错误信息 (Art. 14 ¶3)
    refused = "refused"
    other = "other"


class SlipReview(_Part):
    """The office head's decision on the slip (办公室负责人审核意见)."""

    decision: Literal["approved", "sent_back"]
    comment: str | None = None
    by: Actor
    at: datetime


class Slip(_Part):
    """市商务委公开信箱（电话）处理单."""

    id: str
    status: Literal["draft", "submitted", "sent_back", "approved"]
    summary: str = Field(description="内容摘要")
    opinion: str = Field(description="受理意见 (the clerk's acceptance opinion)")
    nature: Nature
    accepted: bool
    not_accepted_reason: NotAcceptedReason | None = None
    route: Route | None = None
    lead_unit_id: str | None = None
    lead_unit_name: str | None = None
    assisting_unit_ids: list[str] = Field(default_factory=list)
    assisting_unit_names: list[str] = Field(default_factory=list)
    recipient_id: str | None = None
    recipient_name: str | None = None
    notes: str = ""
    major: bool = False
    reply_text: str | None = Field(default=None, description="不受理答复 to the writer")
    notice_text: str | None = Field(default=None, description="转阅/呈办 notice to the writer")
    drafted_by: Actor
    drafted_at: datetime
    submitted_at: datetime | None = None
    reviews: list[SlipReview] = Field(default_factory=list)


class Decision(_Part):
    """What the approved slip decided (Art. 13)."""

    outcome: str = Field(description="assigned, not_accepted, forwarded or escalated")
    slip_id: str
    at: datetime
    by: Actor


class Handler(_Part):
    """经办人员 named by the lead unit (Art. 14)."""

    user_id: str
    name: str
    phone: str | None = None
    named_by: Actor
    named_at: datetime


class ContactAttempt(_Part):
    id: str
    at: datetime
    channel: ContactChannel
    outcome: ContactOutcome
    note: str = ""
    recorded_by: Actor
    recorded_at: datetime


class ContactInvalid(_Part):
    """Art. 14 ¶3: the writer's contact details are void; the reply rests on the letter."""

    reason: str
    by: Actor
    at: datetime


class AssistRequest(_Part):
    """The lead unit asks an assisting unit for its part (Art. 14 ¶2)."""

    id: str
    unit_id: str
    unit_name: str
    question: str
    requested_by: Actor
    requested_at: datetime
    answer: str | None = None
    answered_by: Actor | None = None
    answered_at: datetime | None = None


class ReplyParts(_Part):
    """The five elements every reply has (Art. 29)."""

    unit: str = Field(description="承办单位")
    handler: str = Field(description="经办人员")
    investigation: str = Field(description="调查经过")
    policy_basis: str = Field(description="政策依据")
    result: str = Field(description="处理结果")


class WriterInformed(_Part):
    """Art. 14 ¶1: how the unit told the writer the result (将有关办理情况回复来信人)."""

    channel: ContactChannel
    at: datetime
    note: str | None = None
    recorded_by: Actor
    recorded_at: datetime


class MajorMark(_Part):
    """Art. 15 ¶2: who marked the matter major at the office's review, and why.

    A slip marked major at acceptance has no mark: the slip records who drafted it.
    """

    step: str
    reason: str
    by: Actor
    at: datetime


class Review(_Part):
    """One approver's decision on a reply revision, inside the unit or the office."""

    step: str
    decision: Literal["approved", "sent_back", "returned"]
    comment: str | None = None
    mode_before: PublicationMode | None = None
    mode_after: PublicationMode | None = None
    by: Actor
    at: datetime


class ReturnRecord(_Part):
    """Art. 26: the office returned a revision to the unit."""

    reply_id: str
    revision: int
    reason: ReturnReason
    comment: str
    new_due: datetime | None = None
    by: Actor
    at: datetime


class Reply(_Part):
    """The lead unit's reply; `revision` counts submissions (a returned one stays in history)."""

    id: str
    revision: int = Field(ge=1)
    unit_id: str
    parts: ReplyParts
    proposed_mode: PublicationMode = Field(description="what the unit proposed")
    proposed_reason: str | None = None
    mode: PublicationMode = Field(description="the mode as the chain has it now")
    mode_reason: str | None = Field(default=None, description="why not public (Art. 22)")
    from_letter_alone: bool = Field(
        default=False, description="Art. 14 ¶3: made from the letter, the writer unreachable"
    )
    drafted_by: Actor
    drafted_at: datetime
    submitted_at: datetime | None = None
    writer_informed: WriterInformed | None = Field(
        default=None,
        description="Art. 14 ¶1: how the writer was told, given on submission (none when the"
        " contact details are void, Art. 14 ¶3)",
    )
    approved_at: datetime | None = None
    reviews: list[Review] = Field(default_factory=list)
    returned: ReturnRecord | None = None


class Extension(_Part):
    """Art. 19 ③: the lead unit asks for more time; the office head decides."""

    id: str
    unit_id: str
    reason: str
    extra_working_days: int | None = None
    new_due: datetime | None = None
    requested_by: Actor
    requested_at: datetime
    due_at_request: datetime | None = None
    status: Literal["pending", "approved", "refused"] = "pending"
    granted_extra_working_days: int | None = None
    granted_new_due: datetime | None = None
    decision_reason: str | None = None
    decided_by: Actor | None = None
    decided_at: datetime | None = None


class SensitivityMark(_Part):
    """Art. 22: grounds that keep the answer not public."""

    sensitivities: list[Sensitivity]
    reason: str
    by: Actor
    at: datetime


class Referral(_Part):
    """Art. 23: referral to public / state security, approved by the office leader."""

    id: str
    agency: Agency
    reason: str
    proposed_by: Actor
    proposed_at: datetime
    status: Literal["pending", "approved", "refused"] = "pending"
    comment: str | None = None
    decided_by: Actor | None = None
    decided_at: datetime | None = None


class TransferChannel(StrEnum):
    """How the office passed a letter's content on (Art. 13 转阅/呈办)."""

    document_exchange = "document_exchange"  # 公文交换系统
    platform = "platform"  # the mailbox platform's own transfer
    email = "email"
    fax = "fax"
    post = "post"
    by_hand = "by_hand"


TRANSFER_CHANNEL_ZH = {
    TransferChannel.document_exchange: "公文交换",
    TransferChannel.platform: "平台转办",
    TransferChannel.email: "电子邮件",
    TransferChannel.fax: "传真",
    TransferChannel.post: "邮寄",
    TransferChannel.by_hand: "专人送达",
}


class Transfer(_Part):
    """Art. 13: the letter's content passed to the department (转阅) or the city office (呈办).

    Created `to_send` when the office head approves a forward or escalate slip; the office
    records how and when it sent the transfer letter (`sent`). Archiving waits for it.
    """

    route: Route
    recipient_id: str
    recipient_name: str
    status: Literal["to_send", "sent"] = "to_send"
    decided_at: datetime
    channel: TransferChannel | None = None
    reference: str | None = Field(default=None, description="文号 or the channel's receipt")
    note: str | None = None
    sent_by: Actor | None = None
    sent_at: datetime | None = None


class ClockInfo(_Part):
    """A statutory clock as the deadlines service last reported it."""

    clock_id: str
    kind: ClockKind
    unit_id: str | None = None
    due: datetime
    state: ClockState
    provisional: bool = False
    working_days: int | None = None
    change: str | None = None
    due_soon: bool = False
    overdue: bool = False
    closed_at: datetime | None = None


class ReminderInfo(_Part):
    reminder_id: str
    clock_id: str
    unit_id: str
    answer_due: datetime
    text: str
    answered_at: datetime | None = None


class AssessmentInfo(_Part):
    item_id: str
    unit_id: str
    kind: str
    points: float
    year: int
    reason: str


class PublicationInfo(_Part):
    upload_id: str
    platform: str
    kind: str
    visibility: str
    mode: PublicationMode | None = None
    emailed: bool = False
    published_at: datetime


class ArchiveInfo(_Part):
    archive_id: str
    sha256: str
    archived_at: datetime


class Notice(_Part):
    """A message for a unit's inbox, written with the change that caused it."""

    id: str
    unit_id: str
    kind: str
    payload: dict[str, Any]
    at: datetime


def default_not_accepted_text(reason: NotAcceptedReason) -> str:
    """The polite non-acceptance reply naming the Art. 9 reason (the clerk may edit it)."""
    advice = {
        NotAcceptedReason.outside_duties: "建议您向有关主管部门反映。",
        NotAcceptedReason.other_authority: "建议您向相关部门反映。",
        NotAcceptedReason.administrative_document: "",
        NotAcceptedReason.malicious: "",
        NotAcceptedReason.repetitive_or_empty: "如有新的情况，欢迎您具体说明后再次来信。",
        NotAcceptedReason.advertising: "",
    }[reason]
    return (
        f"您好！您的来信已收悉。经审核，您来信反映的内容{LABELS_ZH[reason]}，"
        "根据《重庆市商务委员会公开电子信箱办理工作制度》第九条，不属于本信箱受理范围，"
        f"本信箱不予受理。{advice}感谢您对商务工作的关心和支持！"
    )


def default_forward_text(recipient_name: str) -> str:
    """The notice that the letter was passed on (转阅)."""
    return (
        f"您好！您的来信已收悉。您反映的事项属于{recipient_name}职责范围，"
        f"我委已将来信内容转交{recipient_name}办理，请留意其答复。感谢您的理解与支持！"
    )


def default_escalate_text(office_name: str) -> str:
    """The notice that the letter went to the city government's mailbox office (呈办)."""
    return (
        "您好！您的来信已收悉。您反映的事项涉及多个部门或需统筹协调，"
        f"我委已将来信内容呈交{office_name}协调处理。感谢您的理解与支持！"
    )


def to_document(model: BaseModel) -> dict[str, Any]:
    """The stored form of a part (datetimes stay datetimes, enums become their values)."""
    return model.model_dump(mode="python", exclude_none=False)


@dataclass(frozen=True)
class LetterFilter:
    """What a list of letters is narrowed to (each value already validated).

    One filter for every list over the letters (the desk's list and the word search), so
    that a new filter applies to both.
    """

    state: str | None = None
    nature: str | None = None
    unit_id: str | None = None
    platform: str | None = None
    received_from: datetime | None = None
    received_to: datetime | None = None
    transfer_status: str | None = None

    def query(self) -> dict[str, Any]:
        """The MongoDB filter (only fields with an index that ends with the sort key)."""
        query: dict[str, Any] = {}
        if self.state is not None:
            query["state"] = self.state
        if self.nature is not None:
            query["nature"] = self.nature
        if self.platform is not None:
            query["platform"] = self.platform
        if self.unit_id is not None:
            query["units"] = self.unit_id
        if self.transfer_status is not None:
            query["transfer.status"] = self.transfer_status
        received: dict[str, datetime] = {}
        if self.received_from is not None:
            received["$gte"] = self.received_from
        if self.received_to is not None:
            received["$lt"] = self.received_to
        if received:
            query["received_at"] = received
        return query
