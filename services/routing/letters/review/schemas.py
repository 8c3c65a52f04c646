"""Requests of the office's review (Art. 15, 19 ③, 21–23, 26): approvals, returns,
sensitivity, referrals and extensions. Same rules as `schemas.py`: bounded, versioned.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import (
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from services.routing.letters.models import Agency
from services.routing.letters.schemas import (
    Stripped,
    Versioned,
    meaningful,
    reason_for_mode,
)
from shared.events.vocabulary import PublicationMode, ReturnReason, Sensitivity
from shared.validation import Instant


class ReviewApprove(Versioned):
    """An office reviewer approves; they may change the publication mode (Art. 21).

    The re-checking clerk, the office head and the office leader may mark the matter major
    (Art. 15 ¶2): after the office leader it goes on to the principal leader. A major matter
    stays major.
    """

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"version": 12},
                {
                    "version": 12,
                    "publication_mode": "not_public",
                    "not_public_reason": "涉及来信人个人隐私。",
                    "comment": "改为不公开。",
                },
                {
                    "version": 12,
                    "major": True,
                    "major_reason": "涉及全市预付卡监管政策调整，属重大事项。",
                },
            ]
        }
    )

    publication_mode: PublicationMode | None = Field(
        default=None, description="leave out to keep the mode as it stands"
    )
    not_public_reason: str | None = Field(default=None, max_length=1000, validate_default=True)
    comment: Annotated[str, Stripped] | None = Field(default=None, max_length=2000)
    major: bool | None = Field(
        default=None,
        description=(
            "true marks the matter major (重大事项、难点问题, Art. 15 ¶2): the principal leader"
            " approves after the office leader. Leave out to keep it as it is; a major matter"
            " cannot be unmarked"
        ),
    )
    major_reason: str | None = Field(
        default=None,
        max_length=1000,
        validate_default=True,
        description="why the matter is major: required with `major: true`",
    )

    @field_validator("not_public_reason")
    @classmethod
    def _reason_when_not_public(cls, value: str | None, info: ValidationInfo) -> str | None:
        return reason_for_mode(info.data.get("publication_mode"), value)

    @field_validator("major_reason")
    @classmethod
    def _reason_when_major(cls, value: str | None, info: ValidationInfo) -> str | None:
        value = value.strip() if value else None
        if info.data.get("major") is True:
            if value is None or len(meaningful(value)) < 4:
                raise ValueError("marking the matter major says why (Art. 15 ¶2), 4+ characters")
            return value
        if value is not None:
            raise ValueError("a reason goes with `major: true` only")
        return value


class ReviewReturn(Versioned):
    """Art. 26: return the reply to the unit with the reason and what to do."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "version": 12,
                    "reason": "off_topic",
                    "comment": "答复未回应来信人关于退款的诉求，请重新办理。",
                    "new_due": "2026-10-20T23:59:59+08:00",
                }
            ]
        }
    )

    reason: ReturnReason
    comment: Annotated[str, Stripped] = Field(min_length=4, max_length=2000)
    new_due: Instant | None = Field(
        default=None,
        description=(
            "a new handling due for the redo, after now. Required once the letter's handling"
            " due has passed: reopened on it the unit would be overdue at once and reminded"
            " (Art. 27), though it submitted in time; before that, omitted keeps the running due"
        ),
    )


class SensitivityCreate(Versioned):
    """Art. 22: grounds that keep the answer not public from now on."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"version": 8, "sensitivities": ["privacy"], "reason": "涉及来信人家庭纠纷细节。"}
            ]
        }
    )

    sensitivities: list[Sensitivity] = Field(min_length=1, max_length=5)
    reason: Annotated[str, Stripped] = Field(min_length=4, max_length=1000)

    @field_validator("sensitivities")
    @classmethod
    def _art22_only(cls, value: list[Sensitivity]) -> list[Sensitivity]:
        if Sensitivity.national_security in value:
            raise ValueError("national security is a referral (Art. 23): POST /referral")
        if len(set(value)) != len(value):
            raise ValueError("each ground once")
        return value


class ReferralCreate(Versioned):
    """Art. 23: propose a referral to public or state security."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"version": 8, "agency": "state_security", "reason": "来信涉嫌危害国家安全。"}
            ]
        }
    )

    agency: Agency
    reason: Annotated[str, Stripped] = Field(min_length=4, max_length=1000)


class ReferralDecision(Versioned):
    """The office leader approves the referral (the letter is locked) or refuses it."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"version": 9, "approve": True, "comment": "同意移交。"}]}
    )

    approve: bool
    comment: Annotated[str, Stripped] | None = Field(
        default=None, max_length=1000, validate_default=True
    )

    @field_validator("comment")
    @classmethod
    def _why_refused(cls, value: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("approve") is False and not value:
            raise ValueError("a refusal says why")
        return value


class ExtensionCreate(Versioned):
    """Art. 19 ③: ask for more time before the handling clock is due."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"version": 7, "reason": "需会同区县现场核查，时间较长。", "extra_working_days": 5}
            ]
        }
    )

    reason: Annotated[str, Stripped] = Field(min_length=4, max_length=1000)
    extra_working_days: int | None = Field(default=None, ge=1, le=30)
    new_due: Instant | None = None

    @model_validator(mode="after")
    def _one_of(self) -> ExtensionCreate:
        if (self.extra_working_days is None) == (self.new_due is None):
            raise ValueError("give either extra_working_days or new_due")
        return self


class ExtensionApprove(Versioned):
    """Grant as asked, or change the days or the date."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"version": 8}, {"version": 8, "extra_working_days": 3}]}
    )

    extra_working_days: int | None = Field(default=None, ge=1, le=30)
    new_due: Instant | None = None
    comment: Annotated[str, Stripped] | None = Field(default=None, max_length=1000)

    @model_validator(mode="after")
    def _at_most_one(self) -> ExtensionApprove:
        if self.extra_working_days is not None and self.new_due is not None:
            raise ValueError("give extra_working_days or new_due, not both")
        return self


class ExtensionRefuse(Versioned):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"version": 8, "reason": "延期理由不充分。"}]}
    )

    reason: Annotated[str, Stripped] = Field(min_length=4, max_length=1000)
