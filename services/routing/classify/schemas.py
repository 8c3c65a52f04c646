"""Responses of the classifier's rules as the office edits them: in force, versions, history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from services.routing.classify.rules import RuleSet


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
