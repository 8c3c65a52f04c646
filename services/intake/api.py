"""The intake API: letters, manual registration, platforms and polling, quarantine."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import AwareDatetime

from services.intake.poller import Poller, PollSummary
from services.intake.repository import LetterFilter
from services.intake.schemas import (
    LetterPage,
    LetterRead,
    ManualLetterIn,
    PlatformStatus,
    PollResult,
    QuarantinePage,
    QuarantineRead,
    ReprocessIn,
    ReprocessOut,
    letter_read,
    letter_summary,
    quarantine_read,
    quarantine_summary,
)
from services.intake.service import IntakeService
from services.intake.status import PlatformStatusReader
from shared.auth import OFFICE_ROLES, Principal, Role, require_roles
from shared.errors import Conflict, Invalid, NotFound
from shared.events.vocabulary import LetterSource
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


def get_poller(request: Request) -> Poller:
    """This instance's poller."""
    poller: Poller = request.app.state.poller
    return poller


def get_status_reader(request: Request) -> PlatformStatusReader:
    """The platforms' status reader."""
    reader: PlatformStatusReader = request.app.state.platform_status
    return reader


ServiceDep = Annotated[IntakeService, Depends(get_service)]
PollerDep = Annotated[Poller, Depends(get_poller)]
StatusDep = Annotated[PlatformStatusReader, Depends(get_status_reader)]


def _page_size(request: Request, limit: int | None) -> int:
    return limit or int(request.app.state.default_page_size)


def _cursor(cursor: str | None) -> tuple[datetime, str] | None:
    if cursor is None:
        return None
    values = decode_cursor(cursor)
    try:
        at, last_id = values
        return datetime.fromisoformat(str(at)), str(last_id)
    except ValueError as exc:
        raise Invalid("invalid cursor", details={"field": "cursor"}) from exc


def _next_cursor(docs: list[Document], *, key: str, limit: int) -> str | None:
    if len(docs) <= limit:
        return None
    last = docs[limit - 1]
    return encode_cursor([last[key].isoformat(), str(last["_id"])])


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


async def known_item(
    item_id: Annotated[str, Path(pattern=ID_PATTERN)],
    _: OfficeReader,
    service: ServiceDep,
) -> Document:
    """The quarantine item (office and admin only); 404 if there is none."""
    doc = await service.quarantine.get(item_id)
    if doc is None:
        raise NotFound(f"quarantine item {item_id} not found")
    return doc


def known_platform(
    platform_id: Annotated[str, Path(pattern=PLATFORM_PATTERN)],
    _: ClerkOrAdmin,
    poller: PollerDep,
) -> str:
    """A configured platform's id (the clerk and admin only); 404 otherwise.

    The caller is checked first: a 404 before the 401/403 would tell anyone which
    platforms are configured.
    """
    if platform_id not in poller.configs:
        raise NotFound(f"platform {platform_id} is not configured")
    return platform_id


KnownLetter = Annotated[Document, Depends(known_letter)]
KnownItem = Annotated[Document, Depends(known_item)]
KnownPlatform = Annotated[str, Depends(known_platform)]

router = APIRouter()


@router.get(
    "/letters",
    tags=["letters"],
    summary="Registered letters, newest first (office and admin).",
    responses=LIST_ERRORS,
)
async def list_letters(
    request: Request,
    _: OfficeReader,
    service: ServiceDep,
    platform: Annotated[
        str | None, Query(pattern=PLATFORM_PATTERN, description="platform id, or 'manual'")
    ] = None,
    source: Annotated[LetterSource | None, Query()] = None,
    received_from: Annotated[AwareDatetime | None, Query(description="inclusive")] = None,
    received_to: Annotated[AwareDatetime | None, Query(description="exclusive")] = None,
    cursor: Cursor = None,
    limit: Limit = None,
) -> LetterPage:
    """Letters as registered, filtered by platform, source and receipt time."""
    size = _page_size(request, limit)
    where = LetterFilter(
        platform=platform, source=source, received_from=received_from, received_to=received_to
    )
    docs = await service.letters.page(where, after=_cursor(cursor), limit=size)
    return LetterPage(
        items=[letter_summary(d) for d in docs[:size]],
        next_cursor=_next_cursor(docs, key="received_at", limit=size),
    )


@router.get(
    "/letters/{letter_id}",
    tags=["letters"],
    summary="One letter, with the record exactly as received (also to service accounts).",
    responses=READ_ERRORS,
)
async def get_letter(doc: KnownLetter) -> LetterRead:
    """One letter in full, including the raw payload, its checksum and the attachments."""
    return letter_read(doc)


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
    return letter_read(doc)


@router.get(
    "/platforms",
    tags=["platforms"],
    summary="Every platform: last poll, last success, lag, counts, recent errors.",
    responses=AUTH_ERRORS,
)
async def list_platforms(_: OfficeReader, reader: StatusDep) -> list[PlatformStatus]:
    """The configured platforms and how their polling goes."""
    return await reader.all()


@router.post(
    "/platforms/{platform_id}/poll",
    tags=["platforms"],
    summary="Poll a platform now (one cycle) and say what it brought.",
    responses={
        **READ_ERRORS,
        409: error_doc("the platform is disabled, or another instance is polling it right now"),
    },
)
async def poll_now(platform_id: KnownPlatform, poller: PollerDep) -> PollResult:
    """One poll cycle now; 409 while another intake instance holds the platform's lease."""
    if not poller.configs[platform_id].enabled:
        raise Conflict(f"platform {platform_id} is disabled")
    summary = await poller.poll(platform_id)
    if summary.outcome == "busy":
        raise Conflict(
            f"platform {platform_id} is being polled by another instance",
            details={"lease_holder": summary.lease_holder},
        )
    return _poll_result(summary)


def _poll_result(summary: PollSummary) -> PollResult:
    fields = summary.stored()
    return PollResult.model_validate(fields)


@router.get(
    "/quarantine",
    tags=["quarantine"],
    summary="Records that failed validation, newest first.",
    responses=LIST_ERRORS,
)
async def list_quarantine(
    request: Request,
    _: OfficeReader,
    service: ServiceDep,
    status: Annotated[str | None, Query(pattern=r"^(open|resolved)$")] = None,
    platform: Annotated[str | None, Query(pattern=PLATFORM_PATTERN)] = None,
    cursor: Cursor = None,
    limit: Limit = None,
) -> QuarantinePage:
    """Quarantined records, filtered by status and platform."""
    size = _page_size(request, limit)
    docs = await service.quarantine.page(
        status=status, platform=platform, after=_cursor(cursor), limit=size
    )
    return QuarantinePage(
        items=[quarantine_summary(d) for d in docs[:size]],
        next_cursor=_next_cursor(docs, key="quarantined_at", limit=size),
    )


@router.get(
    "/quarantine/{item_id}",
    tags=["quarantine"],
    summary="One quarantined record with its reason and raw bytes.",
    responses=READ_ERRORS,
)
async def get_quarantine_item(doc: KnownItem) -> QuarantineRead:
    """One quarantined record."""
    return quarantine_read(doc)


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
    principal: ClerkOrAdmin, doc: KnownItem, body: ReprocessIn, service: ServiceDep
) -> ReprocessOut:
    """Validate the corrected record and register it; the item is then resolved."""
    # `principal` comes before `doc`: a role that may not reprocess gets 403, never a 404.
    outcome = await service.reprocess(str(doc["_id"]), body.record, principal=principal)
    return ReprocessOut(
        outcome=outcome.resolution.value,
        letter_id=str(outcome.letter["_id"]),
        item=quarantine_read(outcome.item),
    )
