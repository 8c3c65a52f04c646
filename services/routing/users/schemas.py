"""Request and response models of the administration API: directory, users, tokens, rules."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from services.routing.directory.models import Name, UnitId

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
