"""Request and response models of the administration API: directory, users, tokens, rules."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from services.routing.directory.models import Name, UnitId

UserId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]{1,63}$", examples=["li.hua"])]
TokenId = Annotated[str, Field(pattern=r"^tok_[0-9A-Z]{26}$")]
# Never shown back, logged or stored: SecretStr keeps it out of reprs and the OpenAPI marks
# it write-only. The policy (length, not the user name, not the old one) is the service's.
Password = Annotated[SecretStr, Field(max_length=256)]


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
                    "has_password": True,
                    "must_change_password": False,
                    "password_changed_at": "2026-10-02T01:00:00Z",
                    "failed_sign_ins": 0,
                    "locked_at": None,
                    "locked_until": None,
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
    has_password: bool = Field(default=False, description="whether the user can sign in")
    must_change_password: bool = Field(
        default=False, description="set by an admin: to be changed before signing in"
    )
    password_changed_at: datetime | None = None
    failed_sign_ins: int = Field(default=0, description="wrong passwords in a row, lately")
    locked_at: datetime | None = Field(
        default=None, description="when failed sign-ins locked the account"
    )
    locked_until: datetime | None = Field(
        default=None, description="when the lock ends; none with locked_at: an admin unlocks"
    )
    tokens: list[TokenRead] = Field(default_factory=list)


def user_read(doc: dict[str, Any]) -> UserRead:
    """A stored user as the API shows it: never the password's hash."""
    shown = {k: v for k, v in doc.items() if k not in ("password_hash", "sign_in_failures")}
    return UserRead.model_validate(
        {
            **shown,
            "id": doc["_id"],
            "active": doc.get("active", True),
            "tokens": doc.get("tokens") or [],
            "has_password": doc.get("password_hash") is not None,
            "failed_sign_ins": len(doc.get("sign_in_failures") or []),
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
    user_id: str | None = Field(
        description="who holds it; none for a token signed with the secret directly"
    )
    expires_at: datetime
    revoked_at: datetime | None


class PasswordSet(_Body):
    """A password an admin sets: the user changes it at the next sign-in."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"password": "临时密码-2026-十月"}]})

    password: Password = Field(description="at least 10 characters, not the user name")


class SignInCredentials(_Body):
    """A user name and its password."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"user_id": "li.hua", "password": "我的密码-不告诉别人"}]}
    )

    user_id: UserId = Field(description="the user name")
    password: Password


class PasswordChange(_Body):
    """The old password and a new one (at least 10 characters, not the user name, not the old)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "user_id": "li.hua",
                    "old_password": "临时密码-2026-十月",
                    "new_password": "我的密码-不告诉别人",
                }
            ]
        }
    )

    user_id: UserId = Field(description="the user name")
    old_password: Password
    new_password: Password


class HandlerEntry(BaseModel):
    """A person a unit may name as a letter's handler: id and name, nothing else."""

    id: str
    name: str


class UnitHandlers(BaseModel):
    """A unit's active handlers (经办人员), by id, for naming one on a letter."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"unit_id": "market-order", "items": [{"id": "li.hua", "name": "李华"}]}]
        }
    )

    unit_id: str
    items: list[HandlerEntry]
