"""Requests of the handling slip (处理单) and the transfer letter (Art. 9, 12, 13)."""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field

from services.routing.letters.models import TransferChannel
from services.routing.letters.schemas import EntryId, Stripped, Versioned
from shared.events.vocabulary import Nature, NotAcceptedReason, Route
from shared.validation import Instant


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
    sent_at: Instant | None = Field(
        default=None, description="when it was sent, if not now (not in the future)"
    )
