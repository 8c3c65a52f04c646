"""Routes of the archive (Art. 16): records, a pass of the archiver, the export package."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator, Iterator
from datetime import date, datetime, time, timedelta
from typing import IO, Annotated, Any

import orjson
from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, StreamingResponse

from services.publishing.archive.export import root_name, write_package
from services.publishing.archive.html import render_record
from services.publishing.archive.record import verify
from services.publishing.archive.repository import ArchiveRepository
from services.publishing.archive.schemas import (
    ArchiveOutcomeRead,
    ArchivePage,
    ArchiveRead,
    ArchiveRunRead,
    ArchiveSummary,
)
from services.publishing.deps import (
    AUTH_ERRORS,
    READ_ERRORS,
    ArchiverDep,
    ArchivesDep,
    Archivist,
    AuditDep,
    Cursor,
    LetterIdPath,
    Limit,
    Office,
    ServiceDep,
    SettingsDep,
    cursor_after,
    cursor_of,
    page_size,
)
from services.publishing.letters.service import actor_of
from shared.audit import AuditEntry
from shared.clock import SHANGHAI
from shared.errors import Invalid, NotFound
from shared.mongo import Document
from shared.validation import Day
from shared.web import error_doc

router = APIRouter(prefix="/archive")

MAX_PERIOD_DAYS = 366
EXPORT_BATCH = 200
STREAM_CHUNK_BYTES = 256 * 1024
# Kept in memory up to this size, then on disk: a period's package may be large.
SPOOL_BYTES = 16 * 1024 * 1024

FromDate = Annotated[Day, Query(alias="from", description="first day (Asia/Shanghai)")]
ToDate = Annotated[Day, Query(alias="to", description="last day, inclusive")]


def period_bounds(period_from: date, period_to: date) -> tuple[datetime, datetime]:
    """[start, end) in UTC of whole days in Asia/Shanghai; 422 for a reversed or long period."""
    if period_to < period_from:
        raise Invalid("`to` is before `from`", details={"field": "to"})
    if (period_to - period_from).days >= MAX_PERIOD_DAYS:
        raise Invalid(f"a period is at most {MAX_PERIOD_DAYS} days", details={"field": "to"})
    start = datetime.combine(period_from, time(0), tzinfo=SHANGHAI)
    end = datetime.combine(period_to + timedelta(days=1), time(0), tzinfo=SHANGHAI)
    return start, end


def _summary(doc: Document) -> ArchiveSummary:
    return ArchiveSummary.model_validate(doc)


@router.get(
    "",
    tags=["archive"],
    summary="Archive records of a period, oldest first.",
    responses={**AUTH_ERRORS, 422: error_doc("a bad period or cursor")},
)
async def list_archive(
    _: Office,
    archives: ArchivesDep,
    settings: SettingsDep,
    period_from: FromDate,
    period_to: ToDate,
    cursor: Cursor = None,
    limit: Limit = None,
) -> ArchivePage:
    """Records archived between two days (Asia/Shanghai, inclusive), keyset-paged."""
    start, end = period_bounds(period_from, period_to)
    size = page_size(settings, limit)
    docs = await archives.between(
        start=start, end=end, after=cursor_after(cursor), limit=size, with_content=False
    )
    last = docs[size - 1] if len(docs) > size else None
    return ArchivePage(
        items=[_summary(d) for d in docs[:size]],
        next_cursor=cursor_of(last["archived_at"], str(last["_id"])) if last else None,
    )


async def _records(
    archives: ArchiveRepository, *, start: datetime, end: datetime
) -> AsyncIterator[Document]:
    after: tuple[datetime, str] | None = None
    while True:
        docs = await archives.between(
            start=start, end=end, after=after, limit=EXPORT_BATCH, with_content=True
        )
        for doc in docs[:EXPORT_BATCH]:
            yield doc
        if len(docs) <= EXPORT_BATCH:
            return
        last = docs[EXPORT_BATCH - 1]
        after = (last["archived_at"], str(last["_id"]))


def _chunks(spool: IO[bytes]) -> Iterator[bytes]:
    try:
        spool.seek(0)
        while chunk := spool.read(STREAM_CHUNK_BYTES):
            yield chunk
    finally:
        spool.close()


@router.get(
    "/export",
    tags=["archive"],
    summary="The package of a period for the archive room (zip: JSON, HTML, manifest).",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"application/zip": {}}, "description": "the package"},
        **AUTH_ERRORS,
        422: error_doc("a bad period, or more records than one package takes"),
    },
)
async def export_archive(
    principal: Office,
    archives: ArchivesDep,
    settings: SettingsDep,
    service: ServiceDep,
    audit: AuditDep,
    period_from: FromDate,
    period_to: ToDate,
) -> StreamingResponse:
    """Every record archived in the period: `record.json` (the checksummed bytes) and a
    printable `record.html` per letter, `index.html`, and `manifest.json` with sha256s."""
    start, end = period_bounds(period_from, period_to)
    count = len(
        await archives.between(
            start=start,
            end=end,
            after=None,
            limit=settings.export_max_records,
            with_content=False,
        )
    )
    if count > settings.export_max_records:
        raise Invalid(
            f"more than {settings.export_max_records} records: export a shorter period",
            details={"field": "to"},
        )
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - closed by _chunks
    summary = await write_package(
        _records(archives, start=start, end=end),
        out=spool,
        period_from=period_from,
        period_to=period_to,
        generated_at=service.clock.now(),
    )
    await audit.append(
        AuditEntry(
            at=service.clock.now(),
            actor=actor_of(principal),
            action="archive_exported",
            target_type="archive_export",
            target_id=summary.root,
            after={"records": summary.records, "files": len(summary.files) + 1},
        )
    )
    filename = f"{root_name(period_from, period_to)}.zip"
    return StreamingResponse(
        _chunks(spool),
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "X-Archive-Records": str(summary.records),
        },
    )


@router.post(
    "/run",
    tags=["archive"],
    summary="Run one archiver pass now (it also runs periodically).",
    responses=AUTH_ERRORS,
)
async def run_archiver(_: Archivist, archiver: ArchiverDep) -> ArchiveRunRead:
    """Archive every published letter that deadlines and routing confirm as done."""
    outcomes = await archiver.run_once()
    return ArchiveRunRead(
        outcomes=[
            ArchiveOutcomeRead(
                letter_id=o.letter_id,
                status=o.status,
                reason=o.reason,
                archive_id=o.archive_id,
                sha256=o.sha256,
            )
            for o in outcomes
        ]
    )


async def _stored(letter_id: str, archives: ArchiveRepository) -> Document:
    doc = await archives.get(letter_id)
    if doc is None:
        raise NotFound(f"no archive record of letter {letter_id}")
    return doc


@router.get(
    "/{letter_id}",
    tags=["archive"],
    summary="One letter's archive record, checked against its sha256.",
    responses=READ_ERRORS,
)
async def get_archive(letter_id: LetterIdPath, _: Office, archives: ArchivesDep) -> ArchiveRead:
    """The record's content and whether it still matches the checksum taken at archiving."""
    doc = await _stored(letter_id, archives)
    record: dict[str, Any] = orjson.loads(str(doc["canonical"]))
    return ArchiveRead.model_validate({**doc, "verified": verify(doc), "record": record})


@router.get(
    "/{letter_id}/record.html",
    tags=["archive"],
    summary="One letter's archive record as a printable page (内部资料).",
    response_class=HTMLResponse,
    responses=READ_ERRORS,
)
async def get_archive_html(
    letter_id: LetterIdPath, _: Office, archives: ArchivesDep
) -> HTMLResponse:
    """The page the export package holds for this letter."""
    doc = await _stored(letter_id, archives)
    page = render_record(orjson.loads(str(doc["canonical"])), sha256=str(doc["sha256"]))
    return HTMLResponse(page)
