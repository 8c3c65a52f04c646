"""Requests and responses of the directory's administration: units, recipients, the import."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from services.routing.directory.models import (
    Keyword,
    Name,
    RecipientKind,
    Topic,
    UnitId,
    UnitKind,
)


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
