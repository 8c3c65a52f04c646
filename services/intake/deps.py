"""The intake API's shared dependencies: the parts built in the lifespan, who may call,
the common query parameters, paging and the documented error answers.

The composition root (`app.py`) puts each domain's parts on `app.state`; routes reach them
only through the typed dependencies below, so no domain's API imports another's.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Query, Request

from services.intake.letters.service import IntakeService
from services.intake.polling.poller import Poller
from services.intake.polling.status import PlatformStatusReader
from services.intake.quarantine.reprocess import ReprocessService
from services.intake.quarantine.service import QuarantineService
from shared.auth import OFFICE_ROLES, Principal, Role, require_roles
from shared.errors import Invalid
from shared.mongo import Document
from shared.paging import decode_cursor, encode_cursor
from shared.web import error_doc

ID_PATTERN = r"^[a-z]{2,4}_[0-9A-Z]{26}$"
PLATFORM_PATTERN = r"^[a-z][a-z0-9_]{1,39}$"


AUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    401: error_doc("no valid bearer token"),
    403: error_doc("your role may not do this (unit users see letters through routing)"),
}
READ_ERRORS = {**AUTH_ERRORS, 404: error_doc("no such item")}
LIST_ERRORS = {**AUTH_ERRORS, 422: error_doc("a filter or the cursor is invalid")}

OfficeReader = Annotated[Principal, Depends(require_roles(*OFFICE_ROLES, Role.admin))]
Clerk = Annotated[Principal, Depends(require_roles(Role.office_clerk))]
ClerkOrAdmin = Annotated[Principal, Depends(require_roles(Role.office_clerk, Role.admin))]
# One letter as received may also be read by a service account: publishing files the
# original with the letter's archive record (Art. 16).
LetterReader = Annotated[Principal, Depends(require_roles(*OFFICE_ROLES, Role.admin, Role.service))]
Cursor = Annotated[str | None, Query(max_length=512, description="from the previous page")]
Limit = Annotated[int | None, Query(ge=1, le=200, description="items per page")]


def get_service(request: Request) -> IntakeService:
    """The intake service built in the lifespan."""
    service: IntakeService = request.app.state.intake
    return service


def get_quarantine(request: Request) -> QuarantineService:
    """The quarantine service built in the lifespan."""
    quarantine: QuarantineService = request.app.state.quarantine
    return quarantine


def get_reprocess(request: Request) -> ReprocessService:
    """What fixes quarantine items, built in the lifespan."""
    reprocess: ReprocessService = request.app.state.reprocess
    return reprocess


def get_poller(request: Request) -> Poller:
    """This instance's poller."""
    poller: Poller = request.app.state.poller
    return poller


def get_status_reader(request: Request) -> PlatformStatusReader:
    """The platforms' status reader."""
    reader: PlatformStatusReader = request.app.state.platform_status
    return reader


ServiceDep = Annotated[IntakeService, Depends(get_service)]
QuarantineDep = Annotated[QuarantineService, Depends(get_quarantine)]
ReprocessDep = Annotated[ReprocessService, Depends(get_reprocess)]
PollerDep = Annotated[Poller, Depends(get_poller)]
StatusDep = Annotated[PlatformStatusReader, Depends(get_status_reader)]


def page_size(request: Request, limit: int | None) -> int:
    """The page size asked for, or the configured default."""
    return limit or int(request.app.state.default_page_size)


def page_after(cursor: str | None) -> tuple[datetime, str] | None:
    """Where a page starts: the (instant, id) a cursor names (422 if it is invalid)."""
    if cursor is None:
        return None
    values = decode_cursor(cursor)
    try:
        at, last_id = values
        return datetime.fromisoformat(str(at)), str(last_id)
    except ValueError as exc:
        raise Invalid("invalid cursor", details={"field": "cursor"}) from exc


def next_cursor(docs: list[Document], *, key: str, limit: int) -> str | None:
    """The cursor of the next page, if `docs` (up to `limit + 1`) says there is one."""
    if len(docs) <= limit:
        return None
    last = docs[limit - 1]
    return encode_cursor([last[key].isoformat(), str(last["_id"])])
