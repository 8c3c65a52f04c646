"""A unit's inbox and webhook: every notice kept in the API, and POSTed signed where asked.

A unit's users reach only their own unit (another unit answers 404, as if it did not
exist); the office and admin read any unit's inbox and deliveries. The unit head (or an
admin) registers the webhook.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, UrlConstraints

from services.routing.admin_runtime import AdminServices, admin_services
from services.routing.api import next_cursor, page_cursor
from services.routing.api_admin import GET_ONE, WRITE, Cursor, Limit, Responses
from shared.auth import CurrentPrincipal, Principal, Role
from shared.clock import SystemClock
from shared.errors import Forbidden, NotFound
from shared.paging import Page
from shared.web import error_doc

AdminDep = Annotated[AdminServices, Depends(admin_services)]
UnitIdPath = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")]
NoticeIdPath = Annotated[str, Path(pattern=r"^ntc_[0-9A-Z]{26}$")]
DeliveryIdPath = Annotated[str, Path(pattern=r"^dlv_[0-9A-Z]{26}$")]
NoticeKind = Annotated[str, Field(pattern=r"^[a-z_]{1,32}\.[a-z_]{1,32}$")]
WebhookUrl = Annotated[HttpUrl, UrlConstraints(max_length=2048, allowed_schemes=["http", "https"])]

UNIT_READ: Responses = {
    401: error_doc("no valid bearer token"),
    403: error_doc("your role reads no unit's notices"),
    404: error_doc("no such unit, or not your unit"),
}

router = APIRouter(prefix="/units/{unit_id}", tags=["notifications"])


async def unit_scope(unit_id: UnitIdPath, principal: CurrentPrincipal, admin: AdminDep) -> str:
    """The unit, if the caller may see its notices: its own users, the office, admin."""
    if principal.is_unit:
        if principal.unit_id != unit_id:
            raise NotFound(f"unit {unit_id} not found")
    elif not (principal.is_office or principal.role is Role.admin):
        raise Forbidden(f"role {principal.role} reads no unit's notices")
    if await admin.directory.unit(unit_id) is None:
        raise NotFound(f"unit {unit_id} not found")
    return unit_id


UnitScope = Annotated[str, Depends(unit_scope)]


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


class WebhookPut(BaseModel):
    """Where to POST the unit's notices and the secret to sign them with."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "url": "https://oa.example.gov.cn/hooks/mailbox",
                    "secret": "a-long-random-shared-secret",
                    "events": [],
                    "version": None,
                }
            ]
        },
    )

    url: WebhookUrl
    secret: str = Field(min_length=16, max_length=256, description="the HMAC-SHA256 key")
    events: list[NoticeKind] = Field(
        default_factory=list, max_length=30, description="kinds to send; empty: every notice"
    )
    version: int | None = Field(
        default=None, ge=1, description="the version read; none when registering the first"
    )


class WebhookRead(BaseModel):
    """The unit's webhook (the secret is never shown again)."""

    unit_id: str
    url: str
    events: list[str]
    active: bool
    version: int
    updated_at: datetime | None = None
    updated_by: str | None = None


def _webhook(doc: dict[str, Any]) -> WebhookRead:
    return WebhookRead.model_validate({**doc, "unit_id": doc["_id"]})


class InboxNotice(BaseModel):
    """A notice for a unit, and whether someone of the unit read it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "ntc_01JDX5Q9Z6M0B6W1B7Q1T3V9KC",
                    "unit_id": "market-order",
                    "kind": "reply.returned",
                    "letter_id": "ltr_01JDX5Q9Z6M0B6W1B7Q1T3V9KC",
                    "payload": {"reason": "perfunctory", "comment": "请补充调查经过。"},
                    "at": "2026-10-14T03:00:00Z",
                    "read_at": None,
                    "read_by": None,
                }
            ]
        }
    )

    id: str
    unit_id: str
    kind: str
    letter_id: str | None = None
    payload: dict[str, Any]
    at: datetime
    read_at: datetime | None = None
    read_by: str | None = None


def _notice(doc: dict[str, Any]) -> InboxNotice:
    return InboxNotice.model_validate({**doc, "id": doc["_id"]})


class Attempt(BaseModel):
    """One try to deliver."""

    n: int
    at: datetime
    url: str | None = None
    status: int | None = None
    error: str | None = None
    duration_ms: float | None = None


class DeliveryRead(BaseModel):
    """A notice on its way to the unit's webhook, with every attempt."""

    id: str
    unit_id: str
    kind: str
    letter_id: str | None = None
    state: Literal["pending", "delivered", "failed"]
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None = None
    delivered_at: datetime | None = None
    last_error: str | None = None
    history: list[Attempt] = Field(default_factory=list)


def _delivery(doc: dict[str, Any]) -> DeliveryRead:
    fields = {**doc, "id": doc["_id"]}
    if doc["state"] != "pending":
        fields["next_attempt_at"] = None
    return DeliveryRead.model_validate(fields)


@router.get("/inbox", summary="The unit's notices, newest first.", responses=UNIT_READ)
async def unit_inbox(
    unit_id: UnitScope,
    admin: AdminDep,
    unread: Annotated[bool | None, Query(description="only unread (true) or read (false)")] = None,
    kind: Annotated[str | None, Query(pattern=r"^[a-z_]{1,32}\.[a-z_]{1,32}$")] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[InboxNotice]:
    """Assignments, returns, reminders, extension decisions and the rest, all kept here."""
    docs = await admin.inbox.page(
        unit_id, unread=unread, kind=kind, after=page_cursor(cursor), limit=limit
    )
    return Page[InboxNotice](
        items=[_notice(d) for d in docs[:limit]],
        next_cursor=next_cursor(docs, key="at", limit=limit),
    )


@router.post(
    "/inbox/{notice_id}/read",
    summary="Mark a notice read (the first reader and time stay).",
    responses={**UNIT_READ, 403: error_doc("only the unit's own users mark its notices read")},
)
async def mark_read(
    unit_id: UnitScope, principal: CurrentPrincipal, admin: AdminDep, notice_id: NoticeIdPath
) -> InboxNotice:
    """For the unit's users; the office and admin only read."""
    if not principal.is_unit:
        raise Forbidden("only the unit's own users mark its notices read")
    doc = await admin.inbox.mark_read(
        unit_id, notice_id, user_id=principal.user_id, at=admin.clock.now()
    )
    return _notice(doc)


@router.get("/webhook", summary="The unit's webhook.", responses=UNIT_READ)
async def get_webhook(unit_id: UnitScope, admin: AdminDep) -> WebhookRead:
    """URL, kinds sent and version; 404 when the unit registered none."""
    doc = await admin.webhooks.get(unit_id)
    if doc is None:
        raise NotFound(f"unit {unit_id} has no webhook")
    return _webhook(doc)


@router.put("/webhook", summary="Register or replace the unit's webhook.", responses=WRITE)
async def put_webhook(
    unit_id: UnitScope, principal: WebhookEditor, admin: AdminDep, body: WebhookPut
) -> WebhookRead:
    """Notices from now on are POSTed there, signed with the secret (and kept in the inbox)."""
    doc = await admin.webhooks.put(
        unit_id,
        url=str(body.url),
        secret=body.secret,
        events=body.events,
        by=principal.user_id,
        at=admin.clock.now(),
        version=body.version,
    )
    return _webhook(doc)


@router.delete("/webhook", summary="Switch the unit's webhook off.", responses=WRITE)
async def delete_webhook(
    unit_id: UnitScope, principal: WebhookEditor, admin: AdminDep
) -> WebhookRead:
    """Notices keep arriving in the inbox; pending deliveries end as failed."""
    return _webhook(
        await admin.webhooks.remove(unit_id, by=principal.user_id, at=admin.clock.now())
    )


@router.get(
    "/webhook/deliveries",
    summary="What was sent to the webhook, newest first, with every attempt.",
    responses=UNIT_READ,
)
async def list_deliveries(
    unit_id: UnitScope,
    admin: AdminDep,
    state: Literal["pending", "delivered", "failed"] | None = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[DeliveryRead]:
    """Pending ones show when they are tried next; failed ones their last error."""
    docs = await admin.deliveries.page(unit_id, state=state, after=page_cursor(cursor), limit=limit)
    return Page[DeliveryRead](
        items=[_delivery(d) for d in docs[:limit]],
        next_cursor=next_cursor(docs, key="created_at", limit=limit),
    )


@router.get("/webhook/deliveries/{delivery_id}", summary="One delivery.", responses=GET_ONE)
async def get_delivery(
    unit_id: UnitScope, admin: AdminDep, delivery_id: DeliveryIdPath
) -> DeliveryRead:
    """A delivery with every attempt."""
    return _delivery(await admin.deliveries.get(unit_id, delivery_id))


@router.post(
    "/webhook/deliveries/{delivery_id}/retry",
    summary="Send a failed delivery again.",
    responses=WRITE,
)
async def retry_delivery(
    unit_id: UnitScope, _: WebhookEditor, admin: AdminDep, delivery_id: DeliveryIdPath
) -> DeliveryRead:
    """A fresh round of attempts (409 unless it failed)."""
    doc = await admin.deliveries.retry(unit_id, delivery_id, now=SystemClock().now())
    admin.dispatcher.wake()
    return _delivery(doc)
