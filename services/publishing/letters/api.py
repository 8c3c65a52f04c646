"""Routes: a letter as publishing sees it (its lock, mark, uploads and archive record)."""

from __future__ import annotations

from fastapi import APIRouter

from services.publishing.deps import READ_ERRORS, KnownLetter, ServiceDep
from services.publishing.letters.schemas import LetterRead
from services.publishing.uploads.models import UploadDoc

router = APIRouter()


@router.get(
    "/letters/{letter_id}",
    tags=["letters"],
    summary="A letter as publishing sees it: lock, mark, uploads, archive.",
    responses=READ_ERRORS,
)
async def get_letter(letter: KnownLetter, service: ServiceDep) -> LetterRead:
    """Whether the letter may go online, its uploads and its archive record."""
    docs = await service.uploads.for_letter(letter.id)
    return LetterRead.of(letter, [UploadDoc.of(d) for d in docs])
