"""Request and response models of the administration API: directory, users, tokens, rules."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from services.routing.directory_data import (
    Keyword,
    Name,
    RecipientKind,
    Topic,
    UnitId,
    UnitKind,
)
from services.routing.rules import RuleSet

UserId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]{1,63}$", examples=["li.hua"])]
TokenId = Annotated[str, Field(pattern=r"^tok_[0-9A-Z]{26}$")]


class UserRole(StrEnum):
    """The roles a person can hold (machine accounts are not people)."""

    office_clerk = "office_clerk"
    office_head = "office_head"
    office_leader = "office_leader"
    principal_leader = "principal_leader"
    unit_handler = "unit_handler"
    unit_head = "unit_head"
    unit_leader = "unit_leader"
    admin = "admin"


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


_UNIT_EXAMPLE: dict[str, Any] = {
    "name": "市场秩序处",
    "kind": "department",
    "topics": ["市场秩序与商业诚信", "单用途商业预付卡管理"],
    "keywords": ["预付卡", "商家跑路", "退卡"],
    "aliases": ["秩序处"],
    "sample": False,
}
_RECIPIENT_EXAMPLE: dict[str, Any] = {
    "name": "重庆市市场监督管理局",
    "kind": "municipal_department",
    "topics": ["产品质量与食品安全监管"],
    "keywords": ["质量问题", "假冒伪劣"],
    "aliases": ["市市场监管局"],
    "sample": False,
}


class _EntryFields(_Body):
    name: Name
    topics: list[Topic] = Field(min_length=1, max_length=50)
    keywords: list[Keyword] = Field(default_factory=list, max_length=300)
    aliases: list[Name] = Field(default_factory=list, max_length=30)
    sample: bool = False


class UnitCreate(_EntryFields):
    """A new commission unit (处室 or 委属单位)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"id": "market-order", **_UNIT_EXAMPLE}]}
    )

    id: UnitId
    kind: UnitKind


class UnitUpdate(_EntryFields):
    """A unit's fields as they should be, on the version read."""

    model_config = ConfigDict(json_schema_extra={"examples": [{**_UNIT_EXAMPLE, "version": 1}]})

    kind: UnitKind
    version: int = Field(ge=1)


class RecipientCreate(_EntryFields):
    """A new external recipient (转阅) or, replacing none, the city mailbox office (呈办)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"id": "city-market-supervision", **_RECIPIENT_EXAMPLE}]}
    )

    id: UnitId
    kind: RecipientKind


class RecipientUpdate(_EntryFields):
    """A recipient's fields as they should be, on the version read."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{**_RECIPIENT_EXAMPLE, "version": 2}]}
    )

    kind: RecipientKind
    version: int = Field(ge=1)


class VersionBody(_Body):
    """The version the caller acted on."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"version": 3}]})

    version: int = Field(ge=1)


class EntryRead(BaseModel):
    """A directory entry with its admin fields."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "market-order",
                    **_UNIT_EXAMPLE,
                    "active": True,
                    "version": 2,
                    "created_at": "2026-10-01T00:00:00Z",
                    "updated_at": "2026-10-12T02:00:00Z",
                    "deactivated_at": None,
                }
            ]
        }
    )

    id: str
    name: str
    kind: str
    topics: list[str]
    keywords: list[str]
    aliases: list[str]
    sample: bool
    active: bool
    version: int
    created_at: datetime | None = None
    updated_at: datetime | None = None
    deactivated_at: datetime | None = None


def entry_read(doc: dict[str, Any]) -> EntryRead:
    """A stored entry as the API shows it."""
    return EntryRead.model_validate(
        {
            **doc,
            "id": doc["_id"],
            "active": doc.get("active", True),
            "version": doc.get("version", 1),
        }
    )


class SectionCounts(BaseModel):
    """What an import did to units or recipients."""

    created: int
    updated: int
    unchanged: int
    deactivated: int


class ImportReport(BaseModel):
    """Counts per section and the directory version after the import."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "directory_version": 4,
                    "units": {"created": 0, "updated": 2, "unchanged": 17, "deactivated": 0},
                    "recipients": {"created": 1, "updated": 0, "unchanged": 55, "deactivated": 0},
                }
            ]
        }
    )

    directory_version: int
    units: SectionCounts
    recipients: SectionCounts


class UserCreate(_Body):
    """A new user: a unit role needs an active unit of the directory, other roles none."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"id": "li.hua", "name": "李华", "role": "unit_handler", "unit_id": "market-order"}
            ]
        }
    )

    id: UserId | None = Field(default=None, description="login id; generated when omitted")
    name: Name
    role: UserRole
    unit_id: UnitId | None = None


class UserUpdate(_Body):
    """A user's name, role and unit on the version read (a new role or unit revokes tokens)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"name": "李华", "role": "unit_head", "unit_id": "market-order", "version": 2}
            ]
        }
    )

    name: Name
    role: UserRole
    unit_id: UnitId | None = None
    version: int = Field(ge=1)


class TokenRead(BaseModel):
    """A token issued to a user (never the token itself)."""

    token_id: str
    issued_at: datetime
    expires_at: datetime
    issued_by: str
    note: str | None = None
    revoked_at: datetime | None = None


class UserRead(BaseModel):
    """A user with the tokens issued to them (expired ones dropped)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "li.hua",
                    "name": "李华",
                    "role": "unit_handler",
                    "unit_id": "market-order",
                    "active": True,
                    "version": 3,
                    "created_at": "2026-10-01T00:00:00Z",
                    "updated_at": "2026-10-12T02:00:00Z",
                    "tokens": [
                        {
                            "token_id": "tok_01JDX5Q9Z6M0B6W1B7Q1T3V9KC",
                            "issued_at": "2026-10-12T02:00:00Z",
                            "expires_at": "2026-11-11T02:00:00Z",
                            "issued_by": "admin",
                            "note": "办公电脑",
                            "revoked_at": None,
                        }
                    ],
                }
            ]
        }
    )

    id: str
    name: str
    role: str
    unit_id: str | None = None
    active: bool
    version: int
    created_at: datetime | None = None
    updated_at: datetime | None = None
    tokens: list[TokenRead] = Field(default_factory=list)


def user_read(doc: dict[str, Any]) -> UserRead:
    """A stored user as the API shows it."""
    return UserRead.model_validate(
        {
            **doc,
            "id": doc["_id"],
            "active": doc.get("active", True),
            "tokens": doc.get("tokens") or [],
        }
    )


class TokenCreate(_Body):
    """How long the token lives (bounded by the service's maximum) and a note."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"ttl_days": 30, "note": "办公电脑"}]}
    )

    ttl_days: int = Field(default=30, ge=1, le=3650)
    note: str | None = Field(default=None, max_length=200)


class TokenIssued(BaseModel):
    """The bearer token, shown this once."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9…",
                    "token_id": "tok_01JDX5Q9Z6M0B6W1B7Q1T3V9KC",
                    "user_id": "li.hua",
                    "expires_at": "2026-11-11T02:00:00Z",
                }
            ]
        }
    )

    token: str
    token_id: str
    user_id: str
    expires_at: datetime


class TokenRevocation(BaseModel):
    """A revoked token: refused by every service once `token.revoked` reached it."""

    token_id: str
    user_id: str
    expires_at: datetime
    revoked_at: datetime | None


class RulesRead(BaseModel):
    """The rule set in force, who changed it last and when."""

    rules: RuleSet
    updated_at: datetime | None = None
    updated_by: dict[str, Any] | None = None


class RulesVersionSummary(BaseModel):
    """One stored version of the rule set."""

    version: int
    saved_at: datetime | None = None
    saved_by: dict[str, Any] | None = None
    note: str = ""


class RulesVersionPage(BaseModel):
    """Stored versions, newest first."""

    items: list[RulesVersionSummary]
    next_cursor: str | None = None


class RulesVersionRead(RulesVersionSummary):
    """One stored version with its rules."""

    rules: RuleSet
