"""Administration: the directory (units, recipients, the city office), its import, and the rules.

An admin changes the directory; the office reads it. The office head (or an admin) edits the
classifier's rules, which apply to the next letter. Users and tokens: `api_admin_users`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query

from services.routing.admin_runtime import AdminServices, admin_services
from services.routing.directory_data import (
    Directory,
    ExternalRecipient,
    RecipientKind,
    Unit,
    UnitKind,
)
from services.routing.directory_import import import_directory
from services.routing.directory_store import Section
from services.routing.rules import RuleSet
from services.routing.schemas_admin import (
    EntryRead,
    ImportReport,
    RecipientCreate,
    RecipientUpdate,
    RulesRead,
    RulesVersionPage,
    RulesVersionRead,
    RulesVersionSummary,
    SectionCounts,
    UnitCreate,
    UnitUpdate,
    VersionBody,
    entry_read,
)
from services.routing.service import actor_of, invalid
from shared.auth import OFFICE_ROLES, Principal, Role, require_roles
from shared.errors import Invalid
from shared.paging import Page, decode_cursor, encode_cursor
from shared.web import error_doc

Responses = dict[int | str, dict[str, Any]]


READ: Responses = {
    401: error_doc("no valid bearer token"),
    403: error_doc("your role may not read this"),
}
GET_ONE: Responses = {**READ, 404: error_doc("not found")}
WRITE: Responses = {
    **GET_ONE,
    409: error_doc("stale version, a taken id, or the directory would lose what it needs"),
    422: error_doc("a field is missing or wrong (the field and the reason are named)"),
}

AdminDep = Annotated[AdminServices, Depends(admin_services)]
Admin = Annotated[Principal, Depends(require_roles(Role.admin))]
Reader = Annotated[Principal, Depends(require_roles(*OFFICE_ROLES, Role.admin))]
RulesEditor = Annotated[Principal, Depends(require_roles(Role.office_head, Role.admin))]
EntryIdPath = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")]
Cursor = Annotated[str | None, Query(max_length=512, description="from the previous page")]
Limit = Annotated[int, Query(ge=1, le=200)]

router = APIRouter(prefix="/admin")


def id_cursor(cursor: str | None) -> str | None:
    """The last id of the previous page."""
    if cursor is None:
        return None
    values = decode_cursor(cursor)
    if len(values) != 1 or not isinstance(values[0], str):
        raise Invalid("invalid cursor", details={"field": "cursor"})
    return values[0]


def next_id_cursor(docs: list[dict[str, Any]], *, limit: int) -> str | None:
    """The cursor after the last item shown, if there are more."""
    return encode_cursor([str(docs[limit - 1]["_id"])]) if len(docs) > limit else None


async def _protected(admin: AdminServices) -> frozenset[str]:
    """Units the directory must keep active: the classifier's default lead unit."""
    return frozenset({(await admin.rules.current()).competence.default_unit_id})


async def _page(
    admin: AdminServices,
    section: Section,
    *,
    active: bool | None,
    kind: str | None,
    cursor: str | None,
    limit: int,
) -> Page[EntryRead]:
    docs = await admin.directory.page(
        section, active=active, kind=kind, after=id_cursor(cursor), limit=limit
    )
    return Page[EntryRead](
        items=[entry_read(d) for d in docs[:limit]],
        next_cursor=next_id_cursor(docs, limit=limit),
    )


async def _set_active(
    admin: AdminServices,
    section: Section,
    entry_id: str,
    body: VersionBody,
    principal: Principal,
    *,
    active: bool,
) -> EntryRead:
    doc = await admin.directory.set_active(
        section,
        entry_id,
        active=active,
        version=body.version,
        actor=actor_of(principal),
        protected=await _protected(admin),
    )
    return entry_read(doc)


# ---- the whole directory ------------------------------------------------------------


@router.get(
    "/directory",
    tags=["directory"],
    summary="The active directory as the classifier reads it (the import format).",
    responses=READ,
)
async def get_directory(_: Reader, admin: AdminDep) -> Directory:
    """Active units, recipients and the city office; `version` counts every change."""
    return await admin.directory.directory()


@router.post(
    "/directory/import",
    tags=["directory"],
    summary="Load a directory file: validate, upsert every entry, report counts.",
    responses=WRITE,
)
async def import_file(
    principal: Admin,
    admin: AdminDep,
    body: Directory,
    deactivate_missing: Annotated[
        bool, Query(description="also deactivate active entries the file does not list")
    ] = False,
) -> ImportReport:
    """Entries in the file are created or updated (and reactivated); others stay unless asked."""
    report = await import_directory(
        admin.directory,
        body,
        actor=actor_of(principal),
        now=admin.clock.now(),
        deactivate_missing=deactivate_missing,
        protected=await _protected(admin),
    )
    return ImportReport(
        directory_version=await admin.directory.version(),
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
    admin: AdminDep,
    active: bool | None = None,
    kind: UnitKind | None = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[EntryRead]:
    """Units with their topics and keywords; deactivated ones too unless filtered."""
    value = kind.value if kind is not None else None
    return await _page(admin, Section.units, active=active, kind=value, cursor=cursor, limit=limit)


@router.get(
    "/directory/units/{unit_id}", tags=["directory"], summary="One unit.", responses=GET_ONE
)
async def get_unit(_: Reader, admin: AdminDep, unit_id: EntryIdPath) -> EntryRead:
    """A unit with its version (to change it)."""
    return entry_read(await admin.directory.get(Section.units, unit_id))


@router.post(
    "/directory/units",
    tags=["directory"],
    summary="Add a unit.",
    status_code=201,
    responses=WRITE,
)
async def create_unit(principal: Admin, admin: AdminDep, body: UnitCreate) -> EntryRead:
    """A new unit, active at once; its id is unique across units and recipients."""
    unit = Unit.model_validate(body.model_dump())
    return entry_read(await admin.directory.create(Section.units, unit, actor=actor_of(principal)))


@router.put(
    "/directory/units/{unit_id}", tags=["directory"], summary="Change a unit.", responses=WRITE
)
async def update_unit(
    principal: Admin, admin: AdminDep, unit_id: EntryIdPath, body: UnitUpdate
) -> EntryRead:
    """Replace the unit's fields on the version read (409 when stale)."""
    unit = Unit.model_validate({**body.model_dump(exclude={"version"}), "id": unit_id})
    doc = await admin.directory.update(
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
    principal: Admin, admin: AdminDep, unit_id: EntryIdPath, body: VersionBody
) -> EntryRead:
    """Not for the last active unit nor the rules' default unit (409)."""
    return await _set_active(admin, Section.units, unit_id, body, principal, active=False)


@router.post(
    "/directory/units/{unit_id}/reactivate",
    tags=["directory"],
    summary="Reactivate a unit.",
    responses=WRITE,
)
async def reactivate_unit(
    principal: Admin, admin: AdminDep, unit_id: EntryIdPath, body: VersionBody
) -> EntryRead:
    """The unit receives letters again."""
    return await _set_active(admin, Section.units, unit_id, body, principal, active=True)


# ---- recipients -----------------------------------------------------------------------


@router.get(
    "/directory/recipients",
    tags=["directory"],
    summary="External recipients (转阅) and the city mailbox office (呈办), by id.",
    responses=READ,
)
async def list_recipients(
    _: Reader,
    admin: AdminDep,
    active: bool | None = None,
    kind: RecipientKind | None = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[EntryRead]:
    """Municipal departments, district/county governments and the city mailbox office."""
    value = kind.value if kind is not None else None
    return await _page(
        admin, Section.recipients, active=active, kind=value, cursor=cursor, limit=limit
    )


@router.get(
    "/directory/recipients/{recipient_id}",
    tags=["directory"],
    summary="One recipient.",
    responses=GET_ONE,
)
async def get_recipient(_: Reader, admin: AdminDep, recipient_id: EntryIdPath) -> EntryRead:
    """A recipient with its version (to change it)."""
    return entry_read(await admin.directory.get(Section.recipients, recipient_id))


@router.post(
    "/directory/recipients",
    tags=["directory"],
    summary="Add a recipient.",
    status_code=201,
    responses=WRITE,
)
async def create_recipient(principal: Admin, admin: AdminDep, body: RecipientCreate) -> EntryRead:
    """A new recipient; a second city mailbox office is refused (409)."""
    recipient = ExternalRecipient.model_validate(body.model_dump())
    doc = await admin.directory.create(Section.recipients, recipient, actor=actor_of(principal))
    return entry_read(doc)


@router.put(
    "/directory/recipients/{recipient_id}",
    tags=["directory"],
    summary="Change a recipient.",
    responses=WRITE,
)
async def update_recipient(
    principal: Admin, admin: AdminDep, recipient_id: EntryIdPath, body: RecipientUpdate
) -> EntryRead:
    """Replace the recipient's fields on the version read (409 when stale)."""
    recipient = ExternalRecipient.model_validate(
        {**body.model_dump(exclude={"version"}), "id": recipient_id}
    )
    doc = await admin.directory.update(
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
    principal: Admin, admin: AdminDep, recipient_id: EntryIdPath, body: VersionBody
) -> EntryRead:
    """Not for the city mailbox office (409): import a directory naming the new one."""
    return await _set_active(admin, Section.recipients, recipient_id, body, principal, active=False)


@router.post(
    "/directory/recipients/{recipient_id}/reactivate",
    tags=["directory"],
    summary="Reactivate a recipient.",
    responses=WRITE,
)
async def reactivate_recipient(
    principal: Admin, admin: AdminDep, recipient_id: EntryIdPath, body: VersionBody
) -> EntryRead:
    """The recipient can be chosen again."""
    return await _set_active(admin, Section.recipients, recipient_id, body, principal, active=True)


# ---- rules -------------------------------------------------------------------------------


@router.get("/rules", tags=["rules"], summary="The classifier's rule set in force.", responses=READ)
async def get_rules(_: Reader, admin: AdminDep) -> RulesRead:
    """Keywords, cues, thresholds and the repeat window, with its version."""
    doc = await admin.rules.stored()
    return RulesRead(
        rules=await admin.rules.current(),
        updated_at=doc.get("updated_at"),
        updated_by=doc.get("updated_by"),
    )


@router.put(
    "/rules",
    tags=["rules"],
    summary="Replace the rule set (applies to the next letter, no restart).",
    responses=WRITE,
)
async def put_rules(principal: RulesEditor, admin: AdminDep, body: RuleSet) -> RulesRead:
    """The whole rule set with `version` = the one read; stored as the next version."""
    default_unit = body.competence.default_unit_id
    if not await admin.directory.units([default_unit]):
        raise invalid("competence.default_unit_id", f"no active unit {default_unit!r}")
    stored = await admin.rules.replace(body, actor=actor_of(principal))
    doc = await admin.rules.stored()
    return RulesRead(
        rules=stored, updated_at=doc.get("updated_at"), updated_by=doc.get("updated_by")
    )


@router.get(
    "/rules/history",
    tags=["rules"],
    summary="Every stored version of the rule set, newest first.",
    responses=READ,
)
async def rules_history(
    _: Reader, admin: AdminDep, cursor: Cursor = None, limit: Limit = 50
) -> RulesVersionPage:
    """Who saved which version when; the rules of one version are one GET away."""
    before: int | None = None
    if cursor is not None:
        values = decode_cursor(cursor)
        if len(values) != 1 or not isinstance(values[0], int):
            raise Invalid("invalid cursor", details={"field": "cursor"})
        before = values[0]
    docs = await admin.rules.history(before=before, limit=limit)
    items = [
        RulesVersionSummary(
            version=d["_id"],
            saved_at=d.get("saved_at"),
            saved_by=d.get("saved_by"),
            note=(d.get("rules") or {}).get("note") or "",
        )
        for d in docs[:limit]
    ]
    next_cursor = encode_cursor([docs[limit - 1]["_id"]]) if len(docs) > limit else None
    return RulesVersionPage(items=items, next_cursor=next_cursor)


@router.get(
    "/rules/history/{version}",
    tags=["rules"],
    summary="One stored version of the rule set.",
    responses=GET_ONE,
)
async def rules_version(
    _: Reader, admin: AdminDep, version: Annotated[int, Path(ge=1, le=1_000_000)]
) -> RulesVersionRead:
    """The rules as they were in that version."""
    doc = await admin.rules.version_of(version)
    return RulesVersionRead(
        version=doc["_id"],
        saved_at=doc.get("saved_at"),
        saved_by=doc.get("saved_by"),
        note=doc["rules"].get("note") or "",
        rules=RuleSet.model_validate(doc["rules"]),
    )
