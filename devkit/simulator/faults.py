"""Fault injection for the simulator. Per-request faults (5xx, timeouts) draw from a
seeded generator; per-record and per-page faults hash the seed with the position, so a
malformed record stays malformed and a repeat run injects the same faults."""

from __future__ import annotations

import copy
import hashlib
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.platforms.config import FieldMapping
from shared.platforms.records import delete_path, get_path, set_path

CorruptionKind = Literal["missing_title", "bad_date", "oversized", "missing_id", "wrong_type"]
CORRUPTIONS: tuple[CorruptionKind, ...] = (
    "missing_title",
    "bad_date",
    "oversized",
    "missing_id",
    "wrong_type",
)
# Bigger than the client's default max_record_bytes (64 KiB).
OVERSIZED_TEXT_BYTES = 80 * 1024


class Faults(BaseModel):
    """What goes wrong on one platform, and how often (rates are probabilities 0–1)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    error_rate: float = Field(default=0.0, ge=0, le=1)
    timeout_rate: float = Field(default=0.0, ge=0, le=1)
    # How long a timeout fault holds the request (it ends early if the client hangs up).
    stall_s: float = Field(default=30.0, gt=0, le=600)
    slow_ms: int = Field(default=0, ge=0, le=60_000)
    malformed_rate: float = Field(default=0.0, ge=0, le=1)
    duplicate_rate: float = Field(default=0.0, ge=0, le=1)
    cursor_rewind: float = Field(default=0.0, ge=0, le=1)
    seed: int = 0


def unit(seed: int, platform_id: str, kind: str, position: int) -> float:
    """A reproducible number in [0, 1) for one decision about one position."""
    digest = hashlib.blake2b(
        f"{seed}:{platform_id}:{kind}:{position}".encode(), digest_size=8
    ).digest()
    return int.from_bytes(digest, "big") / 2**64


def corruption_for(faults: Faults, *, platform_id: str, position: int) -> CorruptionKind | None:
    """Which corruption, if any, the record at `position` is served with."""
    if faults.malformed_rate <= 0:
        return None
    if unit(faults.seed, platform_id, "malformed", position) >= faults.malformed_rate:
        return None
    pick = unit(faults.seed, platform_id, "malformed-kind", position)
    return CORRUPTIONS[int(pick * len(CORRUPTIONS))]


def corrupt(record: dict[str, Any], kind: CorruptionKind, *, mapping: FieldMapping) -> Any:
    """A copy of the record broken in the given way, using the platform's field names."""
    broken = copy.deepcopy(record)
    if kind == "missing_title":
        delete_path(broken, mapping.title)
    elif kind == "bad_date":
        set_path(broken, mapping.submitted_at, "2024-13-45 25:61:00")
    elif kind == "oversized":
        text = get_path(broken, mapping.text)
        filler = "超" * (OVERSIZED_TEXT_BYTES // 3)
        set_path(broken, mapping.text, (text if isinstance(text, str) else "") + filler)
    elif kind == "missing_id":
        delete_path(broken, mapping.external_id)
    else:
        set_path(broken, mapping.text, ["not", "a", "string"])
    return broken
