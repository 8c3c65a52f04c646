"""Typed FastAPI dependencies: the services from the app state, roles, and known items.

Everything here shows the writer's personal data (previews, uploads, the archive),
which Art. 3 keeps to the office: only office roles get through.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Path, Query, Request

from services.publishing.archive.repository import ArchiveRepository
from services.publishing.archive.service import Archiver
from services.publishing.letters.models import LETTER_ID_PATTERN, LetterCopy
from services.publishing.settings import PublishingSettings
from services.publishing.uploads.models import UPLOAD_ID_PATTERN, UploadDoc
from services.publishing.uploads.previews import LetterPreviews
from services.publishing.uploads.service import PublishingService
from shared.audit import AuditLog
from shared.auth import OFFICE_ROLES, Principal, Role, require_roles
from shared.errors import Invalid
from shared.paging import MAX_PAGE_SIZE, decode_cursor, encode_cursor
from shared.web import error_doc

AUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    401: error_doc("no valid bearer token"),
    403: error_doc("only the office sees writers' data and publications"),
}
READ_ERRORS = {**AUTH_ERRORS, 404: error_doc("no such letter or upload")}
LIST_ERRORS = {**AUTH_ERRORS, 422: error_doc("a filter or the cursor is invalid")}


def _service(request: Request) -> PublishingService:
    service: PublishingService = request.app.state.publishing
    return service


def _previews(request: Request) -> LetterPreviews:
    previews: LetterPreviews = request.app.state.previews
    return previews


def _archiver(request: Request) -> Archiver:
    archiver: Archiver = request.app.state.archiver
    return archiver


def _archives(request: Request) -> ArchiveRepository:
    archives: ArchiveRepository = request.app.state.archives
    return archives


def _settings(request: Request) -> PublishingSettings:
    settings: PublishingSettings = request.app.state.settings
    return settings


def _audit(request: Request) -> AuditLog:
    audit: AuditLog = request.app.state.runtime.audit
    return audit


ServiceDep = Annotated[PublishingService, Depends(_service)]
PreviewsDep = Annotated[LetterPreviews, Depends(_previews)]
ArchiverDep = Annotated[Archiver, Depends(_archiver)]
ArchivesDep = Annotated[ArchiveRepository, Depends(_archives)]
SettingsDep = Annotated[PublishingSettings, Depends(_settings)]
AuditDep = Annotated[AuditLog, Depends(_audit)]

Office = Annotated[Principal, Depends(require_roles(*OFFICE_ROLES))]
Retrier = Annotated[Principal, Depends(require_roles(Role.office_clerk, Role.office_head))]
CallbackRecorder = Annotated[Principal, Depends(require_roles(Role.office_clerk, Role.office_head))]
Archivist = Annotated[Principal, Depends(require_roles(Role.office_clerk, Role.office_head))]

LetterIdPath = Annotated[str, Path(pattern=LETTER_ID_PATTERN, description="the letter's id")]
UploadIdPath = Annotated[
    str, Path(pattern=UPLOAD_ID_PATTERN, description="the upload's id (its idempotency key)")
]
Cursor = Annotated[str | None, Query(max_length=512, description="from the previous page")]
Limit = Annotated[int | None, Query(ge=1, le=MAX_PAGE_SIZE, description="items per page")]


async def _known_letter(letter_id: LetterIdPath, _: Office, service: ServiceDep) -> LetterCopy:
    return await service.letter(letter_id)


async def _known_upload(upload_id: UploadIdPath, _: Office, service: ServiceDep) -> UploadDoc:
    return await service.upload(upload_id)


KnownLetter = Annotated[LetterCopy, Depends(_known_letter)]
KnownUpload = Annotated[UploadDoc, Depends(_known_upload)]


def page_size(settings: PublishingSettings, limit: int | None) -> int:
    """The requested page size, or the default."""
    return limit or settings.default_page_size


def cursor_after(cursor: str | None) -> tuple[datetime, str] | None:
    """The keyset position (instant, id) a cursor encodes; 422 for one we did not make."""
    if cursor is None:
        return None
    values = decode_cursor(cursor)
    if len(values) != 2 or not all(isinstance(v, str) for v in values):
        raise Invalid("invalid cursor", details={"field": "cursor"})
    try:
        return datetime.fromisoformat(str(values[0])), str(values[1])
    except ValueError as exc:
        raise Invalid("invalid cursor", details={"field": "cursor"}) from exc


def cursor_of(at: datetime, doc_id: str) -> str:
    """The cursor after an item."""
    return encode_cursor([at.isoformat(), doc_id])
