"""Previews: what online publication of a letter would show, before anyone approves it.

Reads only (the letter's copy and today's redaction settings); nothing is stored or sent.
The upload it shows is composed and scanned as `publication.public_draft` will compose
and scan it when the reply is approved (Art. 24).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from services.publishing.letters.models import LetterCopy, ReplyParts
from services.publishing.letters.service import LetterCopies
from services.publishing.redaction.service import RedactionConfig
from services.publishing.uploads.publication import PublicDraft, public_draft
from shared.clock import Clock


@dataclass(frozen=True)
class LetterPreview:
    """What online publication of a letter would show, and whether it may happen."""

    letter: LetterCopy
    draft: PublicDraft
    reply_source: Literal["approved_reply", "request", "none"]
    online_blocks: list[str]


class LetterPreviews:
    """Previews of letters' online publication, from publishing's copies."""

    def __init__(self, *, copies: LetterCopies, clock: Clock, redaction: RedactionConfig) -> None:
        self.copies = copies
        self.clock = clock
        self.redaction = redaction

    async def preview(self, letter_id: str, *, parts: ReplyParts | None) -> LetterPreview:
        """The redacted letter (and reply: the given parts, else the latest approved)."""
        letter = await self.copies.letter(letter_id)
        latest = letter.latest_reply
        source: Literal["approved_reply", "request", "none"] = (
            "request" if parts is not None else "approved_reply" if latest else "none"
        )
        if parts is None and latest is not None:
            parts = latest.parts
        draft = public_draft(
            letter_title=letter.title,
            letter_text=letter.text,
            parts=parts,
            person=letter.person_data,
            config=self.redaction,
            answered_at=latest.approved_at if latest and source != "request" else self.clock.now(),
        )
        return LetterPreview(
            letter=letter,
            draft=draft,
            reply_source=source,
            online_blocks=letter.online_blocks(latest),
        )
