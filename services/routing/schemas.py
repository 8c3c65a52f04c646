"""Requests: bounded models; every mutating request carries the `version` the client read.

A bad value answers 422 naming the field and the reason (pydantic for shape and bounds;
the service, with the same error format, for what needs the directory or the letter).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)

from services.routing.models import ContactChannel, ContactOutcome, TransferChannel
from shared.events.vocabulary import (
    Nature,
    NotAcceptedReason,
    PublicationMode,
    Route,
)

EntryId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$", examples=["market-order"])]
UserId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:@-]{1,64}$", examples=["u_zhangsan"])]

# What people type when they do not want to write the part (Art. 29 wants it written).
PLACEHOLDERS = frozenset(
    "无 略 见附件 详见附件 同上 暂无 待定 待补充 待查 无意见 不详 空 无内容 见上 见前 如上"
    " 同前 某某 测试 na n/a none null tbd todo xx xxx test".split()
)
_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)


def meaningful(text: str) -> str:
    return _NOT_WORD.sub("", unicodedata.normalize("NFKC", text)).lower()


def substantive(min_chars: int) -> AfterValidator:
    """A text part that says something: not a placeholder and at least `min_chars` letters."""

    def check(value: str) -> str:
        value = value.strip()
        core = meaningful(value)
        if core in PLACEHOLDERS or meaningful(value.replace("无", "")) == "":
            raise ValueError(f"placeholder text ({value!r}) is not an answer; write this part")
        if len(core) < min_chars:
            raise ValueError(f"too short: at least {min_chars} characters of substance")
        if len(set(core)) < min(3, min_chars):
            raise ValueError("meaningless text: write this part")
        return value

    return AfterValidator(check)


def _stripped(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("must not be blank")
    return value


Stripped = AfterValidator(_stripped)


class Versioned(BaseModel):
    """The letter's `version` as the caller read it: a stale one answers 409."""

    model_config = ConfigDict(extra="forbid")

    version: int = Field(ge=1, le=1_000_000, description="the letter's version you acted on")


class VersionOnly(Versioned):
    model_config = ConfigDict(json_schema_extra={"examples": [{"version": 3}]})


class SlipUpdate(Versioned):
    """The clerk's handling slip (处理单); consistency is checked against the directory."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "version": 1,
                    "opinion": "反映预付卡商家跑路，属我委职责，建议由市场秩序处牵头直办。",
                    "nature": "complaint",
                    "accepted": True,
                    "route": "direct",
                    "lead_unit_id": "market-order",
                    "assisting_unit_ids": ["consumption"],
                    "notes": "",
                    "major": False,
                },
                {
                    "version": 1,
                    "opinion": "来信为推销广告，建议不予受理。",
                    "nature": "other",
                    "accepted": False,
                    "not_accepted_reason": "advertising",
                },
                {
                    "version": 1,
                    "opinion": "来信反映医保报销问题，属市医保局职责，建议转阅。",
                    "nature": "help",
                    "accepted": True,
                    "route": "forward",
                    "recipient_id": "medical-insurance",
                },
            ]
        }
    )

    opinion: Annotated[str, Stripped] = Field(max_length=2000, description="受理意见")
    summary: Annotated[str, Stripped] | None = Field(
        default=None, max_length=1000, description="内容摘要; default: the letter's opening"
    )
    nature: Nature
    accepted: bool
    not_accepted_reason: NotAcceptedReason | None = None
    route: Route | None = None
    lead_unit_id: EntryId | None = None
    assisting_unit_ids: list[EntryId] = Field(default_factory=list, max_length=10)
    recipient_id: EntryId | None = Field(
        default=None, description="forward: the department or district; escalate: the city office"
    )
    notes: str = Field(default="", max_length=2000, description="备注")
    major: bool = Field(default=False, description="重大事项: the principal leader approves too")
    reply_text: Annotated[str, Stripped] | None = Field(
        default=None, max_length=4000, description="不受理答复; default: a polite template"
    )
    notice_text: Annotated[str, Stripped] | None = Field(
        default=None, max_length=4000, description="转阅/呈办 notice; default: a template"
    )


class SlipApprove(Versioned):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"version": 3, "comment": "同意直办。"}]}
    )

    comment: Annotated[str, Stripped] | None = Field(
        default=None, max_length=1000, description="办公室负责人审核意见"
    )


class TransferSent(Versioned):
    """How and when the office passed the letter's content on (Art. 13 转阅/呈办)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "version": 6,
                    "channel": "document_exchange",
                    "reference": "渝商务办转〔2026〕15号",
                    "note": "已通过公文交换系统转市市场监管局。",
                }
            ]
        }
    )

    channel: TransferChannel
    reference: Annotated[str, Stripped] = Field(
        min_length=1, max_length=200, description="文号, or the channel's receipt or tracking no."
    )
    note: Annotated[str, Stripped] | None = Field(default=None, max_length=1000)
    sent_at: AwareDatetime | None = Field(
        default=None, description="when it was sent, if not now (not in the future)"
    )


class Comment(Versioned):
    """A decision that must say why (send back, refuse)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"version": 3, "comment": "请补充调查经过。"}]}
    )

    comment: Annotated[str, Stripped] = Field(min_length=2, max_length=2000)


class OptionalComment(Versioned):
    model_config = ConfigDict(json_schema_extra={"examples": [{"version": 5, "comment": "同意。"}]})

    comment: Annotated[str, Stripped] | None = Field(default=None, max_length=2000)


class HandlerCreate(Versioned):
    """Name the handler (经办人员) of the lead unit."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"version": 4, "user_id": "u_lihua", "name": "李华", "phone": "023-6366xxxx"}
            ]
        }
    )

    user_id: UserId
    name: Annotated[str, Stripped] = Field(max_length=64)
    phone: Annotated[str, Stripped] | None = Field(default=None, max_length=32)


class ContactAttemptCreate(Versioned):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "version": 5,
                    "at": "2026-10-12T10:30:00+08:00",
                    "channel": "phone",
                    "outcome": "reached",
                    "note": "与来信人电话沟通，了解到预付卡余额约2000元。",
                }
            ]
        }
    )

    at: AwareDatetime = Field(description="when the writer was contacted")
    channel: ContactChannel
    outcome: ContactOutcome
    note: str = Field(default="", max_length=2000)


class ContactInvalidCreate(Versioned):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"version": 6, "reason": "来信人所留电话为空号。"}]}
    )

    reason: Annotated[str, Stripped] = Field(min_length=2, max_length=1000)


class AssistRequestCreate(Versioned):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"version": 6, "unit_id": "consumption", "question": "请提供预付卡备案情况。"}
            ]
        }
    )

    unit_id: EntryId
    question: Annotated[str, Stripped] = Field(min_length=4, max_length=2000)


class AssistAnswerCreate(Versioned):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"version": 7, "text": "经查，该商家已于2026年备案，备案号……"}]
        }
    )

    text: Annotated[str, Stripped] = Field(min_length=4, max_length=8000)


class ReplyDraft(Versioned):
    """The reply with the five elements of Art. 29 and the proposed publication mode."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "version": 7,
                    "unit": "市商务委市场秩序处",
                    "handler": "李华，联系电话023-6366xxxx",
                    "investigation": "我处与来信人电话联系，并会同区商务委实地核查该门店。",
                    "policy_basis": "《单用途商业预付卡管理办法（试行）》第二十条",
                    "result": "已责令该商家限期退还预付卡余额，来信人已收到退款。",
                    "proposed_mode": "online",
                }
            ]
        }
    )

    unit: Annotated[str, substantive(2)] = Field(max_length=100, description="承办单位")
    handler: Annotated[str, substantive(2)] = Field(max_length=100, description="经办人员")
    investigation: Annotated[str, substantive(15)] = Field(max_length=8000, description="调查经过")
    policy_basis: Annotated[str, substantive(6)] = Field(max_length=4000, description="政策依据")
    result: Annotated[str, substantive(10)] = Field(max_length=8000, description="处理结果")
    proposed_mode: PublicationMode = Field(description="公开方式意见")
    not_public_reason: str | None = Field(
        default=None,
        max_length=1000,
        validate_default=True,
        description="required when the mode is not_public (Art. 22)",
    )

    @field_validator("not_public_reason")
    @classmethod
    def _reason_when_not_public(cls, value: str | None, info: ValidationInfo) -> str | None:
        return reason_for_mode(info.data.get("proposed_mode"), value)


def reason_for_mode(mode: Any, reason: str | None) -> str | None:
    reason = reason.strip() if reason else None
    if mode == PublicationMode.not_public and not reason:
        raise ValueError("a reply that is not public needs its reason (Art. 22)")
    if mode is not None and mode != PublicationMode.not_public:
        return None
    return reason


class WriterInformedCreate(BaseModel):
    """Art. 14 ¶1: how and when the unit told the writer how the letter was handled."""

    model_config = ConfigDict(extra="forbid")

    channel: ContactChannel
    at: AwareDatetime = Field(
        description="when the writer was told: not in the future, not before the hand-over"
    )
    note: Annotated[str, Stripped] | None = Field(default=None, max_length=2000)


class ReplySubmit(Versioned):
    """The unit's approved reply goes to the office, with how the writer was told (Art. 14)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "version": 11,
                    "writer_informed": {
                        "channel": "phone",
                        "at": "2026-10-15T16:00:00+08:00",
                        "note": "已电话告知来信人退款处理结果，来信人表示认可。",
                    },
                },
                {"version": 11},
            ]
        }
    )

    writer_informed: WriterInformedCreate | None = Field(
        default=None,
        description=(
            "required (Art. 14 ¶1 同时将有关办理情况回复来信人), unless the letter's contact"
            " details are marked invalid (Art. 14 ¶3): then refused"
        ),
    )
