"""Responses of the word search over letters."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from shared.paging import Page


class SearchHit(BaseModel):
    """A letter that holds every word searched for."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "ltr_01JDX5Q9Z6M0B6W1B7Q1T3V9KC",
                    "title": "小区楼下餐馆夜间噪音扰民",
                    "state": "assigned",
                    "nature": "complaint",
                    "platform": "cq-gov-mailbox",
                    "unit_id": "market-order",
                    "unit_name": "市场秩序处",
                    "received_at": "2026-10-12T01:30:00Z",
                    "snippet": "…楼下餐馆每晚十一点后仍在营业，噪音扰民严重…",
                }
            ]
        }
    )

    id: str
    title: str
    state: str
    nature: str | None = None
    platform: str | None = None
    unit_id: str | None = None
    unit_name: str | None = None
    received_at: datetime
    snippet: str | None = Field(
        description="the letter's words around the first term; null when withheld from you"
    )
    withheld: list[str] = Field(
        default_factory=list,
        description="`snippet` for a reader who may not see the letter's words (the admin)",
    )


class SearchPage(Page[SearchHit]):
    """One page of hits, newest first, and the words that were matched."""

    terms: list[str]
