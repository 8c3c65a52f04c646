"""Requests of the units' work on a letter (Art. 14, 19 ③, 29): handler, contact, input, reply."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from services.routing.letters.models import ContactChannel, ContactOutcome
from services.routing.letters.schemas import (
    EntryId,
    Stripped,
    UserId,
    Versioned,
    reason_for_mode,
    substantive,
)
from shared.events.vocabulary import PublicationMode
from shared.validation import Instant


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

    at: Instant = Field(description="when the writer was contacted")
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


class WriterInformedCreate(BaseModel):
    """Art. 14 ¶1: how and when the unit told the writer how the letter was handled."""

    model_config = ConfigDict(extra="forbid")

    channel: ContactChannel
    at: Instant = Field(
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
