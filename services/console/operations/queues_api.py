"""运维 · what waits for an operator: records intake quarantined (registered again from a
corrected record), uploads publishing parked or refused (sent again), and each service's
dead letters (sent back to its queue by the admin)."""

from __future__ import annotations

from typing import Annotated, cast, get_args

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from services.console.deps import CheckedForm, Current, SignedIn, UpstreamDep
from services.console.operations import service
from services.console.operations.pages import Cursor, attempt, page
from services.console.operations.service import BadRecord, plain
from services.console.upstream.service import ServiceName, Upstream, UpstreamError

router = APIRouter()

NOT_WAITING = "这条上传已不在暂停或被拒绝状态（可能已被他人重试并发出），无需再试。请刷新后查看。"
GONE = "这条死信已不在队列中（可能已被他人重新投递）。请刷新后查看。"
ItemId = Annotated[str, Path(max_length=64)]


# ---- quarantine ---------------------------------------------------------------------------


@router.get("/quarantine")
async def quarantine_page(
    request: Request,
    current: SignedIn,
    upstream: UpstreamDep,
    status: Annotated[str | None, Query(pattern=r"^(open|resolved)?$")] = "open",
    cursor: Cursor = None,
) -> HTMLResponse:
    """Records intake could not read (office and admin), newest first."""
    found = await service.quarantine(
        upstream, token=current.session.token, status=status or None, cursor=cursor
    )
    context = {"page": found, "status": status or ""}
    return page(request, "quarantine.html", context, current)


async def _item_page(
    request: Request,
    current: Current,
    upstream: Upstream,
    item_id: str,
    *,
    typed: str | None = None,
    error: str | None = None,
    status: int = 200,
    done: str | None = None,
) -> HTMLResponse:
    item = await service.quarantine_item(upstream, token=current.session.token, item_id=item_id)
    context = {
        "item": item,
        "record": (item.raw_text or "") if typed is None else typed,
        "errors": {"quarantine-reprocess": error} if error else {},
        "done": done,
    }
    return page(request, "quarantine_item.html", context, current, status)


@router.get("/quarantine/{item_id}")
async def quarantine_item_page(
    request: Request,
    item_id: ItemId,
    current: SignedIn,
    upstream: UpstreamDep,
    done: Annotated[str | None, Query(max_length=64)] = None,
) -> HTMLResponse:
    """One item: its reason, its bytes (for the office), and the form to register it."""
    return await _item_page(request, current, upstream, item_id, done=done)


@router.post("/quarantine/{item_id}/reprocess")
async def reprocess(
    request: Request, item_id: ItemId, current: SignedIn, upstream: UpstreamDep, form: CheckedForm
) -> Response:
    """Register the item from the corrected record typed (intake validates it again)."""
    typed = form.get("record", "")

    async def again(message: str, status: int) -> HTMLResponse:
        return await _item_page(
            request, current, upstream, item_id, typed=typed, error=message, status=status
        )

    try:
        record = service.parse_record(typed)
    except BadRecord as bad:
        return await again(str(bad), 422)
    return await attempt(
        service.reprocess(upstream, token=current.session.token, item_id=item_id, record=record),
        then=lambda done: f"/operations/quarantine/{item_id}?done={done.outcome}",
        again=again,
    )


# ---- uploads ------------------------------------------------------------------------------


async def _uploads_page(
    request: Request,
    current: Current,
    upstream: Upstream,
    *,
    state: str,
    cursor: str | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    found = await service.uploads(upstream, token=current.session.token, state=state, cursor=cursor)
    context = {"page": found, "state": state, "errors": errors or {}}
    return page(request, "uploads.html", context, current, status)


@router.get("/uploads")
async def uploads_page(
    request: Request,
    current: SignedIn,
    upstream: UpstreamDep,
    state: Annotated[str, Query(pattern=r"^(parked|refused)$")] = "parked",
    cursor: Cursor = None,
) -> HTMLResponse:
    """Uploads waiting for an operator (parked) or stopped by the leak scan (refused)."""
    return await _uploads_page(request, current, upstream, state=state, cursor=cursor)


@router.post("/uploads/{upload_id}/retry")
async def retry_upload(
    request: Request, upload_id: str, current: SignedIn, upstream: UpstreamDep, form: CheckedForm
) -> Response:
    """A parked upload is sent again; a refused one re-checked with today's redaction."""
    state = "refused" if form.get("state") == "refused" else "parked"

    async def again(message: str, status: int) -> HTMLResponse:
        errors = {upload_id: message}
        return await _uploads_page(
            request, current, upstream, state=state, errors=errors, status=status
        )

    return await attempt(
        service.retry_upload(upstream, token=current.session.token, upload_id=upload_id),
        then=f"/operations/uploads?state={state}",
        again=again,
        words=lambda error: NOT_WAITING if error.status == 409 else plain(error),
    )


# ---- dead letters -------------------------------------------------------------------------


async def _dead_letters_page(
    request: Request,
    current: Current,
    upstream: Upstream,
    *,
    errors: dict[str, str] | None = None,
    status: int | None = None,
    done: str | None = None,
) -> HTMLResponse:
    queues = await service.dead_letters(upstream, token=current.session.token)
    answered = [q for q in queues if q.status is None or q.status != 503]
    refused = bool(answered) and all(q.status == 403 for q in answered)
    context = {"queues": queues, "errors": errors or {}, "done": done, "refused": refused}
    return page(request, "dead_letters.html", context, current, status or (403 if refused else 200))


@router.get("/dead-letters")
async def dead_letters_page(
    request: Request,
    current: SignedIn,
    upstream: UpstreamDep,
    done: Annotated[str | None, Query(pattern=r"^\d{1,6}$")] = None,
) -> HTMLResponse:
    """Each service's parked events (type, ids, reason; never the payload), for the admin."""
    return await _dead_letters_page(request, current, upstream, done=done)


@router.post("/dead-letters/replay")
async def replay(
    request: Request, current: SignedIn, upstream: UpstreamDep, form: CheckedForm
) -> Response:
    """Send one parked event, or all of one service's, back to that service's queue."""
    name = form.get("service", "")
    message_id = form.get("message_id", "").strip() or None
    if name not in get_args(ServiceName):
        return await _dead_letters_page(
            request, current, upstream, errors={"dead-letters": "请选择一个服务。"}, status=422
        )
    target = cast(ServiceName, name)

    async def again(message: str, status: int) -> HTMLResponse:
        errors = {"dead-letters": f"{name}：{message}"}
        return await _dead_letters_page(request, current, upstream, errors=errors, status=status)

    def words(error: UpstreamError) -> str:
        return GONE if error.status == 404 and message_id else plain(error)

    return await attempt(
        service.replay(
            upstream, token=current.session.token, service=target, message_id=message_id
        ),
        then=lambda moved: f"/operations/dead-letters?done={moved}",
        again=again,
        words=words,
    )
