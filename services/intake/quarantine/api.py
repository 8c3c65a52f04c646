"""The quarantine API: records that failed validation, and their fixes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request

from services.intake.deps import (
    ID_PATTERN,
    LIST_ERRORS,
    PLATFORM_PATTERN,
    READ_ERRORS,
    ClerkOrAdmin,
    Cursor,
    Limit,
    OfficeReader,
    QuarantineDep,
    ReprocessDep,
    next_cursor,
    page_after,
    page_size,
)
from services.intake.quarantine.schemas import (
    QuarantinePage,
    QuarantineRead,
    ReprocessIn,
    ReprocessOut,
    quarantine_read,
    quarantine_summary,
)
from shared.auth import sees_writer
from shared.errors import NotFound
from shared.mongo import Document
from shared.web import error_doc


async def known_item(
    item_id: Annotated[str, Path(pattern=ID_PATTERN)],
    _: OfficeReader,
    quarantine: QuarantineDep,
) -> Document:
    """The quarantine item (office and admin only); 404 if there is none."""
    doc = await quarantine.get(item_id)
    if doc is None:
        raise NotFound(f"quarantine item {item_id} not found")
    return doc


KnownItem = Annotated[Document, Depends(known_item)]

router = APIRouter()


@router.get(
    "/quarantine",
    tags=["quarantine"],
    summary="Records that failed validation, newest first.",
    responses=LIST_ERRORS,
)
async def list_quarantine(
    request: Request,
    _: OfficeReader,
    quarantine: QuarantineDep,
    status: Annotated[str | None, Query(pattern=r"^(open|resolved)$")] = None,
    platform: Annotated[str | None, Query(pattern=PLATFORM_PATTERN)] = None,
    cursor: Cursor = None,
    limit: Limit = None,
) -> QuarantinePage:
    """Quarantined records, filtered by status and platform."""
    size = page_size(request, limit)
    docs = await quarantine.page(
        status=status, platform=platform, after=page_after(cursor), limit=size
    )
    return QuarantinePage(
        items=[quarantine_summary(d) for d in docs[:size]],
        next_cursor=next_cursor(docs, key="quarantined_at", limit=size),
    )


@router.get(
    "/quarantine/{item_id}",
    tags=["quarantine"],
    summary="One quarantined record with its reason and raw bytes.",
    responses=READ_ERRORS,
)
async def get_quarantine_item(principal: OfficeReader, doc: KnownItem) -> QuarantineRead:
    """One quarantined record; its bytes (the writer's data) for the office, not the admin."""
    return quarantine_read(doc, show_writer=sees_writer(principal))


@router.post(
    "/quarantine/{item_id}/reprocess",
    tags=["quarantine"],
    summary="Register a quarantined record from a corrected version of it.",
    responses={
        **READ_ERRORS,
        409: error_doc("the item is resolved already"),
        422: error_doc("the corrected record still fails validation (the reason is given)"),
    },
)
async def reprocess(
    principal: ClerkOrAdmin, doc: KnownItem, body: ReprocessIn, service: ReprocessDep
) -> ReprocessOut:
    """Validate the corrected record and register it; the item is then resolved."""
    # `principal` comes before `doc`: a role that may not reprocess gets 403, never a 404.
    outcome = await service.reprocess(str(doc["_id"]), body.record, principal=principal)
    return ReprocessOut(
        outcome=outcome.resolution.value,
        letter_id=str(outcome.letter["_id"]),
        item=quarantine_read(outcome.item, show_writer=sees_writer(principal)),
    )
