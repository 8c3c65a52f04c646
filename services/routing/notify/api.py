"""A unit's inbox and webhook: every notice kept in the API, and POSTed signed where asked.

A unit's users reach only their own unit (another unit answers 404, as if it did not
exist); the office and admin read any unit's inbox and deliveries. The unit head (or an
admin) registers the webhook.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query

from services.routing.deps import (
    GET_ONE,
    WRITE,
    ClockDep,
    Cursor,
    DeliveriesDep,
    DirectoryDep,
    DispatcherDep,
    InboxDep,
    Limit,
    Responses,
    WebhooksDep,
)
from services.routing.letters.schemas import EntryId
from services.routing.notify.schemas import (
    DeliveryRead,
    InboxNotice,
    InboxPage,
    WebhookPut,
    WebhookRead,
)
from services.routing.notify.targets import TargetRefused
from shared.auth import CurrentPrincipal, Principal, Role
from shared.clock import SystemClock
from shared.errors import Forbidden, Invalid, NotFound
from shared.paging import Page, next_cursor, page_cursor
from shared.web import error_doc

UnitIdPath = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")]
NoticeIdPath = Annotated[str, Path(pattern=r"^ntc_[0-9A-Z]{26}$")]
DeliveryIdPath = Annotated[str, Path(pattern=r"^dlv_[0-9A-Z]{26}$")]

UNIT_READ: Responses = {
    401: error_doc("no valid bearer token"),
    403: error_doc("your role reads no unit's notices"),
    404: error_doc("no such unit, or not your unit"),
}

router = APIRouter(tags=["notifications"])


async def unit_scope(
    unit_id: UnitIdPath, principal: CurrentPrincipal, directory: DirectoryDep
) -> str:
    """The unit, if the caller may see its webhook: its own users, the office, admin."""
    if principal.is_unit:
        if principal.unit_id != unit_id:
            raise NotFound(f"unit {unit_id} not found")
    elif not (principal.is_office or principal.role is Role.admin):
        raise Forbidden(f"role {principal.role} reads no unit's notices")
    if await directory.unit(unit_id) is None:
        raise NotFound(f"unit {unit_id} not found")
    return unit_id


UnitScope = Annotated[str, Depends(unit_scope)]


async def inbox_scope(unit_id: UnitScope, principal: CurrentPrincipal) -> str:
    """The unit, if the caller may read its notices: its own users and the office. Notices
    quote the letters (titles, questions): the admin, who reads no letter, reads none."""
    if principal.role is Role.admin:
        raise Forbidden("the admin reads no unit's notices")
    return unit_id


InboxScope = Annotated[str, Depends(inbox_scope)]


async def webhook_editor(unit_id: UnitScope, principal: CurrentPrincipal) -> Principal:
    """The unit's head or an admin; anyone else who sees the unit gets 403."""
    if principal.role is Role.admin:
        return principal
    if principal.role is Role.unit_head and principal.unit_id == unit_id:
        return principal
    raise Forbidden(
        "only the unit head or an admin changes a unit's webhook",
        details={"allowed_roles": [Role.unit_head.value, Role.admin.value]},
    )


WebhookEditor = Annotated[Principal, Depends(webhook_editor)]


async def webhook_owner(unit_id: UnitScope, principal: CurrentPrincipal) -> Principal:
    """The unit's head alone: where the unit's notices go (they quote the letters) is the
    unit's choice; the admin, who reads no letter, may switch a webhook off but not aim it."""
    if principal.role is Role.unit_head and principal.unit_id == unit_id:
        return principal
    raise Forbidden(
        "only the unit head points the unit's webhook somewhere or sends deliveries again",
        details={"allowed_roles": [Role.unit_head.value]},
    )


WebhookOwner = Annotated[Principal, Depends(webhook_owner)]


def _webhook(doc: dict[str, Any]) -> WebhookRead:
    return WebhookRead.model_validate({**doc, "unit_id": doc["_id"]})


def _notice(doc: dict[str, Any]) -> InboxNotice:
    return InboxNotice.model_validate({**doc, "id": doc["_id"]})


def _delivery(doc: dict[str, Any]) -> DeliveryRead:
    fields = {**doc, "id": doc["_id"]}
    if doc["state"] != "pending":
        fields["next_attempt_at"] = None
    return DeliveryRead.model_validate(fields)


@router.get(
    "/units/{unit_id}/inbox", summary="The unit's notices, newest first.", responses=UNIT_READ
)
async def unit_inbox(
    unit_id: InboxScope,
    inbox: InboxDep,
    unread: Annotated[bool | None, Query(description="only unread (true) or read (false)")] = None,
    kind: Annotated[str | None, Query(pattern=r"^[a-z_]{1,32}\.[a-z_]{1,32}$")] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[InboxNotice]:
    """Assignments, returns, reminders, extension decisions and the rest, all kept here."""
    docs = await inbox.page(
        unit_id, unread=unread, kind=kind, after=page_cursor(cursor), limit=limit
    )
    return Page[InboxNotice](
        items=[_notice(d) for d in docs[:limit]],
        next_cursor=next_cursor(docs, key="at", limit=limit),
    )


@router.post(
    "/units/{unit_id}/inbox/{notice_id}/read",
    summary="Mark a notice read (the first reader and time stay).",
    responses={**UNIT_READ, 403: error_doc("only the unit's own users mark its notices read")},
)
async def mark_read(
    unit_id: InboxScope,
    principal: CurrentPrincipal,
    inbox: InboxDep,
    clock: ClockDep,
    notice_id: NoticeIdPath,
) -> InboxNotice:
    """For the unit's users; the office and admin only read."""
    if not principal.is_unit:
        raise Forbidden("only the unit's own users mark its notices read")
    doc = await inbox.mark_read(unit_id, notice_id, user_id=principal.user_id, at=clock.now())
    return _notice(doc)


@router.get("/units/{unit_id}/webhook", summary="The unit's webhook.", responses=UNIT_READ)
async def get_webhook(unit_id: UnitScope, webhooks: WebhooksDep) -> WebhookRead:
    """URL, kinds sent and version; 404 when the unit registered none."""
    doc = await webhooks.get(unit_id)
    if doc is None:
        raise NotFound(f"unit {unit_id} has no webhook")
    return _webhook(doc)


@router.put(
    "/units/{unit_id}/webhook", summary="Register or replace the unit's webhook.", responses=WRITE
)
async def put_webhook(
    unit_id: UnitScope,
    principal: WebhookOwner,
    webhooks: WebhooksDep,
    dispatcher: DispatcherDep,
    clock: ClockDep,
    body: WebhookPut,
) -> WebhookRead:
    """Notices from now on are POSTed there, signed with the secret (and kept in the inbox).

    The URL's host must resolve to public addresses only (422 naming `url` otherwise),
    unless the operator allowed the host.
    """
    try:
        await dispatcher.guard.check(str(body.url))
    except TargetRefused as exc:
        raise Invalid(
            f"url: {exc.reason}",
            details={"errors": [{"field": "url", "in": "body", "reason": exc.reason}]},
        ) from None
    doc = await webhooks.put(
        unit_id,
        url=str(body.url),
        secret=body.secret,
        events=body.events,
        by=principal.user_id,
        at=clock.now(),
        version=body.version,
    )
    return _webhook(doc)


@router.delete(
    "/units/{unit_id}/webhook", summary="Switch the unit's webhook off.", responses=WRITE
)
async def delete_webhook(
    unit_id: UnitScope, principal: WebhookEditor, webhooks: WebhooksDep, clock: ClockDep
) -> WebhookRead:
    """Notices keep arriving in the inbox; pending deliveries end as failed."""
    return _webhook(await webhooks.remove(unit_id, by=principal.user_id, at=clock.now()))


@router.get(
    "/units/{unit_id}/webhook/deliveries",
    summary="What was sent to the webhook, newest first, with every attempt.",
    responses=UNIT_READ,
)
async def list_deliveries(
    unit_id: UnitScope,
    deliveries: DeliveriesDep,
    state: Literal["pending", "delivered", "failed"] | None = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[DeliveryRead]:
    """Pending ones show when they are tried next; failed ones their last error."""
    docs = await deliveries.page(unit_id, state=state, after=page_cursor(cursor), limit=limit)
    return Page[DeliveryRead](
        items=[_delivery(d) for d in docs[:limit]],
        next_cursor=next_cursor(docs, key="created_at", limit=limit),
    )


@router.get(
    "/units/{unit_id}/webhook/deliveries/{delivery_id}", summary="One delivery.", responses=GET_ONE
)
async def get_delivery(
    unit_id: UnitScope, deliveries: DeliveriesDep, delivery_id: DeliveryIdPath
) -> DeliveryRead:
    """A delivery with every attempt."""
    return _delivery(await deliveries.get(unit_id, delivery_id))


@router.post(
    "/units/{unit_id}/webhook/deliveries/{delivery_id}/retry",
    summary="Send a failed delivery again.",
    responses=WRITE,
)
async def retry_delivery(
    unit_id: UnitScope,
    _: WebhookOwner,
    deliveries: DeliveriesDep,
    dispatcher: DispatcherDep,
    delivery_id: DeliveryIdPath,
) -> DeliveryRead:
    """A fresh round of attempts (409 unless it failed)."""
    doc = await deliveries.retry(unit_id, delivery_id, now=SystemClock().now())
    dispatcher.wake()
    return _delivery(doc)


@router.get(
    "/inbox",
    tags=["units"],
    summary="A unit's inbox: assignments, returns, reminders, decisions (newest first).",
    responses={401: error_doc("no valid bearer token"), 403: error_doc("not a unit user")},
)
async def inbox(
    principal: CurrentPrincipal,
    inbox: InboxDep,
    unit_id: Annotated[EntryId | None, Query(description="the office: whose inbox")] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> InboxPage:
    """Your unit's notices; the office and admin name the unit."""
    if principal.is_unit:
        unit = principal.unit_id
        if unit_id is not None and unit_id != unit:
            raise Forbidden("a unit reads only its own inbox")
    elif principal.is_office:
        if unit_id is None:
            raise Invalid(
                "unit_id: required for the office",
                details={"errors": [{"field": "unit_id", "in": "query", "reason": "required"}]},
            )
        unit = unit_id
    else:
        raise Forbidden("only units and the office read inboxes")
    assert unit is not None
    docs = await inbox.page(unit, unread=None, kind=None, after=page_cursor(cursor), limit=limit)
    return InboxPage(
        items=[_notice(d) for d in docs[:limit]],
        next_cursor=next_cursor(docs, key="at", limit=limit),
    )
