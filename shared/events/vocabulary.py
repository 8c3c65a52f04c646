"""The regulation's vocabulary, shared by every service because events carry it.

Values are English identifiers; the Chinese term users see is in `LABELS_ZH`.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Nature(StrEnum):
    """By nature (Art. 12): 建议 求助 投诉 举报 咨询 其他."""

    suggestion = "suggestion"
    help = "help"
    complaint = "complaint"
    report = "report"
    consultation = "consultation"
    other = "other"


class NotAcceptedReason(StrEnum):
    """The grounds of Art. 9 for not accepting a letter."""

    outside_duties = "outside_duties"
    other_authority = "other_authority"
    administrative_document = "administrative_document"
    malicious = "malicious"
    repetitive_or_empty = "repetitive_or_empty"
    advertising = "advertising"


class Route(StrEnum):
    """By competence (Art. 12, 13): 直办 direct, 转阅 forward, 呈办 escalate."""

    direct = "direct"
    forward = "forward"
    escalate = "escalate"


class PublicationMode(StrEnum):
    """Art. 21: 不公开, 邮件答复, 网上发布."""

    not_public = "not_public"
    email = "email"
    online = "online"


class ReturnReason(StrEnum):
    """Art. 26: why the office sends a reply back to the unit."""

    off_topic = "off_topic"
    perfunctory = "perfunctory"
    buck_passing = "buck_passing"


class Sensitivity(StrEnum):
    """Art. 22 grounds that force `not_public`; Art. 23 `national_security` also locks."""

    state_secret = "state_secret"  # noqa: S105 - a category, not a password
    trade_secret = "trade_secret"  # noqa: S105 - a category, not a password
    privacy = "privacy"
    sensitive = "sensitive"
    public_opinion_risk = "public_opinion_risk"
    national_security = "national_security"


class ClockKind(StrEnum):
    """The statutory clocks of Art. 18–20 and 27."""

    acceptance = "acceptance"
    handling = "handling"
    upload = "upload"
    reminder_answer = "reminder_answer"


class ClockState(StrEnum):
    running = "running"
    met = "met"
    overdue = "overdue"
    stopped = "stopped"


class LetterSource(StrEnum):
    """Where a letter came in: a polled platform, or registered by hand (Art. 31)."""

    platform = "platform"
    hotline = "hotline"
    other = "other"


class Person(BaseModel):
    """The writer's personal data as the platform gave it: confidential (Art. 3)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str | None = Field(default=None, max_length=64)
    phone: str | None = Field(default=None, max_length=64)
    id_number: str | None = Field(default=None, max_length=32)
    address: str | None = Field(default=None, max_length=256)
    email: str | None = Field(default=None, max_length=256)


LABELS_ZH: dict[str, str] = {
    Nature.suggestion: "建议",
    Nature.help: "求助",
    Nature.complaint: "投诉",
    Nature.report: "举报",
    Nature.consultation: "咨询",
    Nature.other: "其他",
    NotAcceptedReason.outside_duties: "不属于市商务委职能职责范围",
    NotAcceptedReason.other_authority: "属于党委、人大、政协、部队、法院、检察院等部门工作范畴",
    NotAcceptedReason.administrative_document: "涉及行政公文",
    NotAcceptedReason.malicious: "恶意攻击性邮件",
    NotAcceptedReason.repetitive_or_empty: "内容重复、空泛或无实际意义",
    NotAcceptedReason.advertising: "推销广告",
    Route.direct: "直办",
    Route.forward: "转阅",
    Route.escalate: "呈办",
    PublicationMode.not_public: "不公开",
    PublicationMode.email: "邮件答复",
    PublicationMode.online: "网上发布",
    ReturnReason.off_topic: "答非所问",
    ReturnReason.perfunctory: "敷衍了事",
    ReturnReason.buck_passing: "推诿扯皮",
    Sensitivity.state_secret: "国家秘密",
    Sensitivity.trade_secret: "商业秘密",
    Sensitivity.privacy: "个人隐私",
    Sensitivity.sensitive: "敏感性较强",
    Sensitivity.public_opinion_risk: "可能引发舆论、稳定或区域竞争风险",
    Sensitivity.national_security: "涉及国家安全或特别敏感",
    ClockKind.acceptance: "立项（受理意见）",
    ClockKind.handling: "办理",
    ClockKind.upload: "答复上传",
    ClockKind.reminder_answer: "催办反馈",
}
