"""Typed FastAPI dependencies: services from the app state, and who may see what.

A unit's users see only their own unit's clocks, reminders and items; anything
else answers 404 so that ids cannot be probed. The office (and admins and
service accounts) see everything.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Path, Query, Request

from services.deadlines.calendar.store import CalendarAdmin
from services.deadlines.clocks.models import ID_PATTERN, UNIT_PATTERN
from services.deadlines.clocks.service import DeadlinesService
from services.deadlines.reports.repository import FactsRepository
from services.deadlines.reports.service import ReportBuilder
from services.deadlines.supervision.models import ReminderDoc
from services.deadlines.supervision.repository import AssessmentRepository, ReminderRepository
from services.deadlines.supervision.service import SupervisionService
from shared.auth import (
    OFFICE_ROLES,
    UNIT_ROLES,
    CurrentPrincipal,
    Principal,
    Role,
    require_roles,
)
from shared.clock import Clock
from shared.errors import Forbidden, Invalid, NotFound
from shared.mongo import Document
from shared.paging import MAX_PAGE_SIZE, decode_cursor, encode_cursor

# What the routes of every domain share: error answers they document, the query
# parameters of their lists, and the administrators' guard.
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "not found, or outside the caller's unit"}
}
FORBIDDEN: dict[int | str, dict[str, Any]] = {
    403: {"description": "the caller's role may not do this"}
}
ADMIN_ONLY: dict[int | str, dict[str, Any]] = {403: {"description": "administrators only"}}
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="page size")]
Cursor = Annotated[str | None, Query(max_length=512, description="from the previous page")]
UnitQuery = Annotated[str | None, Query(pattern=UNIT_PATTERN, description="unit id")]
Admin = Annotated[Principal, Depends(require_roles(Role.admin))]


def _service(request: Request) -> DeadlinesService:
    service: DeadlinesService = request.app.state.deadlines
    return service


def _supervision(request: Request) -> SupervisionService:
    supervision: SupervisionService = request.app.state.supervision
    return supervision


def _calendar(request: Request) -> CalendarAdmin:
    calendar: CalendarAdmin = request.app.state.calendar
    return calendar


def _facts(request: Request) -> FactsRepository:
    facts: FactsRepository = request.app.state.facts
    return facts


def _reports(request: Request) -> ReportBuilder:
    reports: ReportBuilder = request.app.state.reports
    return reports


def _reminders(request: Request) -> ReminderRepository:
    reminders: ReminderRepository = request.app.state.reminders
    return reminders


def _assessment(request: Request) -> AssessmentRepository:
    assessment: AssessmentRepository = request.app.state.assessment
    return assessment


def _clock(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


ServiceDep = Annotated[DeadlinesService, Depends(_service)]
SupervisionDep = Annotated[SupervisionService, Depends(_supervision)]
CalendarDep = Annotated[CalendarAdmin, Depends(_calendar)]
FactsDep = Annotated[FactsRepository, Depends(_facts)]
ReportsDep = Annotated[ReportBuilder, Depends(_reports)]
RemindersDep = Annotated[ReminderRepository, Depends(_reminders)]
AssessmentDep = Annotated[AssessmentRepository, Depends(_assessment)]
ClockDep = Annotated[Clock, Depends(_clock)]


@dataclass(frozen=True)
class Viewer:
    """The caller and the one unit it is limited to (None: sees every unit)."""

    principal: Principal
    unit_id: str | None

    def may_see_unit(self, unit_id: str | None) -> bool:
        """Whether this viewer may see something of `unit_id`."""
        return self.unit_id is None or self.unit_id == unit_id

    def narrow(self, unit_id: str | None) -> str | None:
        """The unit filter to apply: a unit user's own unit; 404 for another one."""
        if self.unit_id is None:
            return unit_id
        if unit_id is not None and unit_id != self.unit_id:
            raise NotFound(f"unit {unit_id} not found")
        return self.unit_id


async def _viewer(principal: CurrentPrincipal) -> Viewer:
    if principal.role in UNIT_ROLES:
        if not principal.unit_id:
            raise Forbidden("a unit role without a unit sees nothing")
        return Viewer(principal=principal, unit_id=principal.unit_id)
    return Viewer(principal=principal, unit_id=None)


ViewerDep = Annotated[Viewer, Depends(_viewer)]


async def _office_or_admin(principal: CurrentPrincipal) -> Principal:
    allowed = OFFICE_ROLES | {Role.admin, Role.service}
    if principal.role not in allowed:
        raise Forbidden(
            f"role {principal.role} may not read reports",
            details={"allowed_roles": sorted(r.value for r in allowed)},
        )
    return principal


OfficeReader = Annotated[Principal, Depends(_office_or_admin)]

UnitIdPath = Annotated[str, Path(pattern=UNIT_PATTERN, description="unit id")]
LetterIdPath = Annotated[str, Path(pattern=ID_PATTERN, max_length=64, description="letter id")]
ReminderIdPath = Annotated[str, Path(pattern=ID_PATTERN, description="reminder id")]
ClockIdPath = Annotated[str, Path(pattern=ID_PATTERN, description="clock id")]


async def _visible_unit(unit_id: UnitIdPath, viewer: ViewerDep) -> str:
    if not viewer.may_see_unit(unit_id):
        raise NotFound(f"unit {unit_id} not found")
    return unit_id


VisibleUnit = Annotated[str, Depends(_visible_unit)]


async def _visible_letter_facts(
    letter_id: LetterIdPath, viewer: ViewerDep, facts: FactsDep
) -> Document:
    known = await facts.get(letter_id)
    if known is None:
        raise NotFound(f"letter {letter_id} not found")
    if viewer.unit_id is not None:
        units = {known.get("lead_unit_id"), *known.get("assisting_unit_ids", [])}
        if viewer.unit_id not in units:
            raise NotFound(f"letter {letter_id} not found")
    return known


# The facts of a letter the caller may see (read once per request, shared with VisibleLetter).
VisibleLetterFacts = Annotated[Document, Depends(_visible_letter_facts)]


async def _visible_letter(letter_id: LetterIdPath, _: VisibleLetterFacts) -> str:
    return letter_id


VisibleLetter = Annotated[str, Depends(_visible_letter)]


async def _visible_reminder(
    reminder_id: ReminderIdPath, viewer: ViewerDep, service: ServiceDep
) -> ReminderDoc:
    stored = await service.reminders.get(reminder_id)
    if stored is None:
        raise NotFound(f"reminder {reminder_id} not found")
    reminder = ReminderDoc.of(stored)
    if not viewer.may_see_unit(reminder.unit_id):
        raise NotFound(f"reminder {reminder_id} not found")
    return reminder


VisibleReminder = Annotated[ReminderDoc, Depends(_visible_reminder)]


def _unit_viewer(viewer: ViewerDep) -> Viewer:
    # Only the reminded unit answers; the office reads the answer. Checked before the
    # reminder is looked up: a role that never answers gets 403, whatever the id.
    if viewer.unit_id is None:
        raise Forbidden(
            "only the reminded unit answers a reminder",
            details={"allowed_roles": sorted(r.value for r in UNIT_ROLES)},
        )
    return viewer


async def _answerable_reminder(
    _: Annotated[Viewer, Depends(_unit_viewer)], reminder: VisibleReminder
) -> ReminderDoc:
    return reminder


AnswerableReminder = Annotated[ReminderDoc, Depends(_answerable_reminder)]


def cursor_of(cursor: str | None) -> tuple[str | int | float | datetime, str] | None:
    """The keyset position a cursor encodes (an instant is written `t:` + ISO 8601)."""
    if cursor is None:
        return None
    values = decode_cursor(cursor)
    if len(values) != 2 or not isinstance(values[1], str):
        raise Invalid("invalid cursor", details={"field": "cursor"})
    first = values[0]
    if isinstance(first, str) and first.startswith("t:"):
        try:
            return datetime.fromisoformat(first[2:]), values[1]
        except ValueError as exc:
            raise Invalid("invalid cursor", details={"field": "cursor"}) from exc
    return first, values[1]


def next_cursor(value: object, *, last_id: str) -> str:
    """The cursor after an item sorted by `value` (then id)."""
    first = f"t:{value.isoformat()}" if isinstance(value, datetime) else value
    return encode_cursor([first, last_id])
