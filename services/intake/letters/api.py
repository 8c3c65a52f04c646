"""The letters API: registered letters, and letters entered by hand (Art. 31)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from services.intake.deps import (
    AUTH_ERRORS,
    ID_PATTERN,
    LIST_ERRORS,
    PLATFORM_PATTERN,
    READ_ERRORS,
    Clerk,
    Cursor,
    LetterReader,
    Limit,
    OfficeReader,
    ServiceDep,
    next_cursor,
    page_after,
    page_size,
)
from services.intake.letters.repository import LetterFilter
from services.intake.letters.schemas import (
    LetterPage,
    LetterRead,
    ManualLetterIn,
    letter_read,
    letter_summary,
)
from shared.auth import sees_writer
from shared.errors import NotFound
from shared.events.vocabulary import LetterSource
from shared.mongo import Document
from shared.validation import Instant
from shared.web import error_doc


async def known_letter(
    letter_id: Annotated[str, Path(pattern=ID_PATTERN)],
    _: LetterReader,
    service: ServiceDep,
) -> Document:
    """The letter (office, admin and service accounts only); 404 if there is none."""
    doc = await service.letters.get(letter_id)
    if doc is None:
        raise NotFound(f"letter {letter_id} not found")
    return doc


KnownLetter = Annotated[Document, Depends(known_letter)]

router = APIRouter()


@router.get(
    "/letters",
    tags=["letters"],
    summary="Registered letters, newest first (office and admin).",
    responses=LIST_ERRORS,
)
async def list_letters(
    request: Request,
    principal: OfficeReader,
    service: ServiceDep,
    platform: Annotated[
        str | None, Query(pattern=PLATFORM_PATTERN, description="platform id, or 'manual'")
    ] = None,
    source: Annotated[LetterSource | None, Query()] = None,
    received_from: Annotated[Instant | None, Query(description="inclusive")] = None,
    received_to: Annotated[Instant | None, Query(description="exclusive")] = None,
    cursor: Cursor = None,
    limit: Limit = None,
) -> LetterPage:
    """Letters as registered, filtered by platform, source and receipt time."""
    size = page_size(request, limit)
    where = LetterFilter(
        platform=platform, source=source, received_from=received_from, received_to=received_to
    )
    docs = await service.letters.page(where, after=page_after(cursor), limit=size)
    return LetterPage(
        items=[letter_summary(d, show_title=sees_writer(principal)) for d in docs[:size]],
        next_cursor=next_cursor(docs, key="received_at", limit=size),
    )


@router.get(
    "/letters/{letter_id}",
    tags=["letters"],
    summary="One letter, with the record exactly as received (also to service accounts).",
    responses=READ_ERRORS,
)
async def get_letter(principal: LetterReader, doc: KnownLetter) -> LetterRead:
    """One letter in full, including the raw payload, its checksum and the attachments.

    The writer's data, the text and the raw record only for the office and service accounts;
    the admin gets the rest, with `withheld` naming what is left out.
    """
    return letter_read(doc, show_writer=sees_writer(principal))


@router.post(
    "/letters",
    tags=["letters"],
    summary="Register a letter received by telephone or in person (Art. 31).",
    status_code=201,
    responses={
        **AUTH_ERRORS,
        200: {"model": LetterRead, "description": "the same reference and content again"},
        409: error_doc("the reference is registered already with other content"),
        422: error_doc("a field is missing or wrong (the field and the reason are named)"),
    },
)
async def register_letter(
    request: Request,
    response: Response,
    body: ManualLetterIn,
    principal: Clerk,
    service: ServiceDep,
) -> LetterRead:
    """Register a hotline or in-person letter once per reference; a repeat is answered 200."""
    doc, created = await service.register_manual(
        source=LetterSource(body.source),
        content=body.content(),
        raw=await request.body(),
        principal=principal,
    )
    if not created:
        response.status_code = 200
    return letter_read(doc, show_writer=sees_writer(principal))
