"""The archive record (Art. 16): the whole case as plain JSON, its canonical bytes and checksum.

Pure, no I/O. The record gathers the original (the platform's record verbatim, its
sha256, the attachments), the letter, slip, approvals, replies, publications, clocks,
the supervision (reminders with the units' answers, deduction items) and the audit
trails of routing and publishing; its canonical JSON (sorted keys, UTF-8) is what the
sha256 is taken over.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from services.publishing.letters.models import LetterCopy
from services.publishing.letters.service import dump
from shared.mongo import Document

# /2 added `original` (intake's record as received) and `supervision` (reminders, deductions).
RECORD_SCHEMA = "mailbox.archive/2"
_UPLOAD_FIELDS = (
    "kind",
    "edition",
    "platform",
    "external_id",
    "visibility",
    "mode",
    "title",
    "text",
    "state",
    "attempts",
    "retries",
    "errors",
    "email",
    "receipt",
    "sent_at",
    "downgrade",
    "findings",
    "redacted",
    "created_at",
)


def json_ready(value: Any) -> Any:
    """Plain JSON data (instants as ISO 8601 strings)."""
    return orjson.loads(orjson.dumps(value, default=str))


def canonical_json(value: Any) -> bytes:
    """The bytes the checksum is taken over: sorted keys, no spaces, UTF-8."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS, default=str)


def sha256_hex(data: bytes) -> str:
    """Hex sha256."""
    return hashlib.sha256(data).hexdigest()


def verify(stored: Document) -> bool:
    """Whether a stored record still matches its checksum."""
    return sha256_hex(str(stored["canonical"]).encode()) == str(stored["sha256"])


def _approvals(case: dict[str, Any]) -> dict[str, Any]:
    slip = case.get("slip") or {}
    replies = [*(case.get("reply_history") or []), case.get("reply")]
    return {
        "slip": slip.get("reviews") or [],
        "replies": [
            {"revision": r.get("revision"), "reviews": r.get("reviews") or []}
            for r in replies
            if isinstance(r, dict)
        ],
        "referrals": case.get("referrals") or [],
    }


@dataclass(frozen=True)
class CaseParts:
    """What the other services hold of a done letter."""

    original: dict[str, Any]
    dossier: dict[str, Any]
    clocks: list[dict[str, Any]]
    supervision: dict[str, Any]


def _original(intake_letter: dict[str, Any]) -> dict[str, Any]:
    raw = str(intake_letter["raw_json"])
    sha256 = str(intake_letter["raw_sha256"])
    return {
        "raw": raw,
        "sha256": sha256,
        # False only if the platform's bytes were not UTF-8 (intake keeps them as text with
        # replacement characters): the checksum is still the one of the bytes received.
        "verbatim": sha256_hex(raw.encode()) == sha256,
        "attachments": intake_letter.get("attachments") or [],
    }


def build_record(
    *,
    archive_id: str,
    archived_at: datetime,
    letter: LetterCopy,
    uploads: list[Document],
    parts: CaseParts,
    trail: list[dict[str, Any]],
) -> dict[str, Any]:
    """The whole case as plain JSON data."""
    dossier = parts.dossier
    case = dossier.get("letter") if isinstance(dossier.get("letter"), dict) else {}
    assert isinstance(case, dict)
    replies = [*(case.get("reply_history") or []), *([case["reply"]] if case.get("reply") else [])]
    record = {
        "schema": RECORD_SCHEMA,
        "archive_id": archive_id,
        "letter_id": letter.id,
        "archived_at": archived_at,
        "original": _original(parts.original),
        "letter": {
            "platform": letter.platform,
            "external_id": letter.external_id,
            "source": letter.source,
            "title": letter.title,
            "text": letter.text,
            "person": letter.person.model_dump(),
            "submitted_at": letter.submitted_at,
            "received_at": letter.received_at,
            "taken_by": letter.taken_by,
        },
        "decisions": {
            "sensitivity": dump(letter.sensitivity) if letter.sensitivity else None,
            "lock": dump(letter.lock) if letter.lock else None,
            "notices": [dump(n) for n in letter.notices],
        },
        "slip": case.get("slip"),
        "approvals": _approvals(case),
        "replies": replies,
        "approved_replies": [dump(r) for r in letter.replies],
        "publications": [
            {"upload_id": u["_id"], **{k: u.get(k) for k in _UPLOAD_FIELDS}} for u in uploads
        ],
        "clocks": parts.clocks,
        "supervision": {
            "reminders": parts.supervision.get("reminders") or [],
            "assessment_items": parts.supervision.get("assessment_items") or [],
        },
        "case": case,
        "audit": {"routing": dossier.get("audit") or [], "publishing": trail},
    }
    ready: dict[str, Any] = json_ready(record)
    return ready
