"""Responses about a letter as publishing sees it."""

from __future__ import annotations

from pydantic import BaseModel

from services.publishing.letters.models import ArchiveRef, LetterCopy
from services.publishing.uploads.models import UploadDoc
from services.publishing.uploads.schemas import UploadRead


class LetterRead(BaseModel):
    """Publishing's view of a letter: what may be published, its uploads, its archive."""

    id: str
    platform: str | None
    external_id: str | None
    title: str
    locked: bool
    not_public: bool
    replies: int
    notices: int
    closed_clocks: list[str]
    uploads: list[UploadRead]
    archive: ArchiveRef | None

    @classmethod
    def of(cls, letter: LetterCopy, uploads: list[UploadDoc]) -> LetterRead:
        """From the copy and its uploads."""
        return cls(
            id=letter.id,
            platform=letter.platform,
            external_id=letter.external_id,
            title=letter.title,
            locked=letter.lock is not None,
            not_public=letter.sensitivity is not None,
            replies=len(letter.replies),
            notices=len(letter.notices),
            closed_clocks=letter.closed_clocks,
            uploads=[UploadRead.of(u) for u in uploads],
            archive=letter.archive,
        )
