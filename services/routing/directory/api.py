"""Administration of the directory: units, recipients, the city office, and its import.

An admin changes the directory; the office reads it. The classifier's rules: `classify/api.py`;
users and tokens: `users/api.py`.
"""

from __future__ import annotations

from typing import Annotated, Protocol

from fastapi import APIRouter, Query

from services.routing.classify.rules import RuleSet
from services.routing.deps import (
    GET_ONE,
    READ,
    WRITE,
    Admin,
    ClockDep,
    Cursor,
    DirectoryDep,
    EntryIdPath,
    Limit,
    Reader,
    RulesDep,
)
from services.routing.directory.models import (
    Directory,
    ExternalRecipient,
    RecipientKind,
    Unit,
    UnitKind,
)
from services.routing.directory.schemas import (
    EntryRead,
    ImportReport,
    RecipientCreate,
    RecipientUpdate,
    SectionCounts,
    UnitCreate,
    UnitUpdate,
    VersionBody,
    entry_read,
)
from services.routing.directory.service import import_directory
from services.routing.directory.store import DirectoryStore, Section
from services.routing.letters.service import actor_of
from shared.auth import Principal
from shared.paging import Page, id_cursor, next_id_cursor

router = APIRouter(prefix="/admin")


class RulesInForce(Protocol):
    """The classifier's rule set in force (the classify domain's store provides it)."""

    async def current(self) -> RuleSet: ...


async def _protected(rules: RulesInForce) -> frozenset[str]:
    """Units the directory must keep active: the classifier's default lead unit."""
    return frozenset({(await rules.current()).competence.default_unit_id})


async def _page(
    directory: DirectoryStore,
    section: Section,
    *,
    active: bool | None,
    kind: str | None,
    cursor: str | None,
    limit: int,
) -> Page[EntryRead]:
    docs = await directory.page(
        section, active=active, kind=kind, after=id_cursor(cursor), limit=limit
    )
    return Page[EntryRead](
        items=[entry_read(d) for d in docs[:limit]],
        next_cursor=next_id_cursor(docs, limit=limit),
    )


async def _set_active(
    directory: DirectoryStore,
    rules: RulesInForce,
    section: Section,
    entry_id: str,
    body: VersionBody,
    principal: Principal,
    *,
    active: bool,
) -> EntryRead:
    doc = await directory.set_active(
        section,
        entry_id,
        active=active,
        version=body.version,
        actor=actor_of(principal),
        protected=await _protected(rules),
    )
    return entry_read(doc)


# ---- the whole directory ------------------------------------------------------------


@router.get(
    "/directory",
    tags=["directory"],
    summary="The active directory as the classifier reads it (the import format).",
    responses=READ,
)
async def get_directory(_: Reader, directory: DirectoryDep) -> Directory:
    """Active units, recipients and the city office; `version` counts every change."""
    return await directory.directory()


@router.post(
    "/directory/import",
    tags=["directory"],
    summary="Load a directory file: validate, upsert every entry, report counts.",
    responses=WRITE,
)
async def import_file(
    principal: Admin,
    clock: ClockDep,
    directory: DirectoryDep,
    rules: RulesDep,
    body: Directory,
    deactivate_missing: Annotated[
        bool, Query(description="also deactivate active entries the file does not list")
    ] = False,
) -> ImportReport:
    """Entries in the file are created or updated (and reactivated); others stay unless asked."""
    report = await import_directory(
        directory,
        body,
        actor=actor_of(principal),
        now=clock.now(),
        deactivate_missing=deactivate_missing,
        protected=await _protected(rules),
    )
    return ImportReport(
        directory_version=await directory.version(),
        units=SectionCounts(**vars(report[Section.units])),
        recipients=SectionCounts(**vars(report[Section.recipients])),
    )


# ---- units ----------------------------------------------------------------------------


@router.get(
    "/directory/units",
    tags=["directory"],
    summary="The commission's units (处室, 委属单位), by id.",
    responses=READ,
)
async def list_units(
    _: Reader,
    directory: DirectoryDep,
    active: bool | None = None,
    kind: UnitKind | None = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[EntryRead]:
    """Units with their topics and keywords; deactivated ones too unless filtered."""
    value = kind.value if kind is not None else None
    return await _page(
        directory, Section.units, active=active, kind=value, cursor=cursor, limit=limit
    )


@router.get(
    "/directory/units/{unit_id}", tags=["directory"], summary="One unit.", responses=GET_ONE
)
async def get_unit(_: Reader, directory: DirectoryDep, unit_id: EntryIdPath) -> EntryRead:
    """A unit with its version (to change it)."""
    return entry_read(await directory.get(Section.units, unit_id))


@router.post(
    "/directory/units",
    tags=["directory"],
    summary="Add a unit.",
    status_code=201,
    responses=WRITE,
)
async def create_unit(principal: Admin, directory: DirectoryDep, body: UnitCreate) -> EntryRead:
    """A new unit, active at once; its id is unique across units and recipients."""
    unit = Unit.model_validate(body.model_dump())
    return entry_read(await directory.create(Section.units, unit, actor=actor_of(principal)))


@router.put(
    "/directory/units/{unit_id}", tags=["directory"], summary="Change a unit.", responses=WRITE
)
async def update_unit(
    principal: Admin, directory: DirectoryDep, unit_id: EntryIdPath, body: UnitUpdate
) -> EntryRead:
    """Replace the unit's fields on the version read (409 when stale)."""
    unit = Unit.model_validate({**body.model_dump(exclude={"version"}), "id": unit_id})
    doc = await directory.update(
        Section.units, unit, version=body.version, actor=actor_of(principal)
    )
    return entry_read(doc)


@router.post(
    "/directory/units/{unit_id}/deactivate",
    tags=["directory"],
    summary="Deactivate a unit: no new letters; old letters keep naming it.",
    responses=WRITE,
)
async def deactivate_unit(
    principal: Admin,
    directory: DirectoryDep,
    rules: RulesDep,
    unit_id: EntryIdPath,
    body: VersionBody,
) -> EntryRead:
    """Not for the last active unit nor the rules' default unit (409)."""
    return await _set_active(
        directory, rules, Section.units, unit_id, body, principal, active=False
    )


@router.post(
    "/directory/units/{unit_id}/reactivate",
    tags=["directory"],
    summary="Reactivate a unit.",
    responses=WRITE,
)
async def reactivate_unit(
    principal: Admin,
    directory: DirectoryDep,
    rules: RulesDep,
    unit_id: EntryIdPath,
    body: VersionBody,
) -> EntryRead:
    """The unit receives letters again."""
    return await _set_active(directory, rules, Section.units, unit_id, body, principal, active=True)


# ---- recipients -----------------------------------------------------------------------


@router.get(
    "/directory/recipients",
    tags=["directory"],
    summary="External recipients (转阅) and the city mailbox office (呈办), by id.",
    responses=READ,
)
async def list_recipients(
    _: Reader,
    directory: DirectoryDep,
    active: bool | None = None,
    kind: RecipientKind | None = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[EntryRead]:
    """Municipal departments, district/county governments and the city mailbox office."""
    value = kind.value if kind is not None else None
    return await _page(
        directory, Section.recipients, active=active, kind=value, cursor=cursor, limit=limit
    )


@router.get(
    "/directory/recipients/{recipient_id}",
    tags=["directory"],
    summary="One recipient.",
    responses=GET_ONE,
)
async def get_recipient(_: Reader, directory: DirectoryDep, recipient_id: EntryIdPath) -> EntryRead:
    """A recipient with its version (to change it)."""
    return entry_read(await directory.get(Section.recipients, recipient_id))


@router.post(
    "/directory/recipients",
    tags=["directory"],
    summary="Add a recipient.",
    status_code=201,
    responses=WRITE,
)
async def create_recipient(
    principal: Admin, directory: DirectoryDep, body: RecipientCreate
) -> EntryRead:
    """A new recipient; a second city mailbox office is refused (409)."""
    recipient = ExternalRecipient.model_validate(body.model_dump())
    doc = await directory.create(Section.recipients, recipient, actor=actor_of(principal))
    return entry_read(doc)


@router.put(
    "/directory/recipients/{recipient_id}",
    tags=["directory"],
    summary="Change a recipient.",
    responses=WRITE,
)
async def update_recipient(
    principal: Admin, directory: DirectoryDep, recipient_id: EntryIdPath, body: RecipientUpdate
) -> EntryRead:
    """Replace the recipient's fields on the version read (409 when stale)."""
    recipient = ExternalRecipient.model_validate(
        {**body.model_dump(exclude={"version"}), "id": recipient_id}
    )
    doc = await directory.update(
        Section.recipients, recipient, version=body.version, actor=actor_of(principal)
    )
    return entry_read(doc)


@router.post(
    "/directory/recipients/{recipient_id}/deactivate",
    tags=["directory"],
    summary="Deactivate a recipient: no new letters go there.",
    responses=WRITE,
)
async def deactivate_recipient(
    principal: Admin,
    directory: DirectoryDep,
    rules: RulesDep,
    recipient_id: EntryIdPath,
    body: VersionBody,
) -> EntryRead:
    """Not for the city mailbox office (409): import a directory naming the new one."""
    return await _set_active(
        directory, rules, Section.recipients, recipient_id, body, principal, active=False
    )


@router.post(
    "/directory/recipients/{recipient_id}/reactivate",
    tags=["directory"],
    summary="Reactivate a recipient.",
    responses=WRITE,
)
async def reactivate_recipient(
    principal: Admin,
    directory: DirectoryDep,
    rules: RulesDep,
    recipient_id: EntryIdPath,
    body: VersionBody,
) -> EntryRead:
    """The recipient can be chosen again."""
    return await _set_active(
        directory, rules, Section.recipients, recipient_id, body, principal, active=True
    )
