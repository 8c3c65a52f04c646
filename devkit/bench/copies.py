"""Copies of letters as routing stored them, for filling a store fast (`bench console`)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from shared.ids import new_id
from shared.mongo import Document


def shifted(value: Any, delta: timedelta) -> Any:
    """Every moment in a document moved by `delta` (its clocks stay consistent)."""
    if isinstance(value, datetime):
        return value - delta
    if isinstance(value, dict):
        return {k: shifted(v, delta) for k, v in value.items()}
    if isinstance(value, list):
        return [shifted(v, delta) for v in value]
    return value


def copy_letter(doc: Document, *, letter_id: str, index: int, delta: timedelta) -> Document:
    """A template's document as routing would have stored another letter like it."""
    copy: Document = shifted(doc, delta)
    copy.update(
        {
            "_id": letter_id,
            "external_id": f"bench-{index}",
            "outbox": [],
            "audit_outbox": [],
            "has_outbox": False,
            "applied_events": [],
        }
    )
    if "has_notices" in copy:
        copy["has_notices"] = False
        copy["notices"] = []
    return copy


def copy_trail(
    trail: list[Document], *, template_id: str, letter_id: str, delta: timedelta
) -> list[Document]:
    copies = []
    for entry in trail:
        copy: Document = shifted(entry, delta)
        copy["_id"] = new_id("aud")
        copy["letter_id"] = letter_id
        if copy.get("target_id") == template_id:
            copy["target_id"] = letter_id
        copies.append(copy)
    return copies
