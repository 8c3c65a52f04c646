"""A signed-in person's session, as kept in Redis."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

ROLE_LABELS = {
    "office_clerk": "办公室工作人员",
    "office_head": "办公室负责人",
    "office_leader": "分管办公室委领导",
    "principal_leader": "委主要领导",
    "unit_handler": "经办人员",
    "unit_head": "处室负责人",
    "unit_leader": "分管委领导",
    "admin": "系统管理员",
    "service": "服务账号",
}


class Session(BaseModel):
    """Who is signed in, their token (never sent to the browser) and the forms' CSRF token."""

    model_config = ConfigDict(frozen=True)

    user_id: str
    name: str
    role: str
    unit_id: str | None = None
    token: str = Field(repr=False)
    token_id: str
    expires_at: datetime = Field(description="the token's expiry: the session ends then too")
    csrf: str = Field(repr=False)
    signed_in_at: datetime

    @property
    def role_label(self) -> str:
        """The role as the regulation names it."""
        return ROLE_LABELS.get(self.role, self.role)
