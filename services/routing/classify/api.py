"""The classifier's rules on the API: the office head (or an admin) edits them; they apply to
the next letter, without a restart. Every version is kept."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from services.routing.classify.rules import RuleSet
from services.routing.classify.schemas import (
    RulesRead,
    RulesVersionPage,
    RulesVersionRead,
    RulesVersionSummary,
)
from services.routing.deps import (
    GET_ONE,
    READ,
    WRITE,
    Cursor,
    DirectoryDep,
    Limit,
    Reader,
    RulesDep,
)
from services.routing.letters.service import actor_of, invalid
from shared.auth import Principal, Role, require_roles
from shared.errors import Invalid
from shared.paging import decode_cursor, encode_cursor

RulesEditor = Annotated[Principal, Depends(require_roles(Role.office_head, Role.admin))]

router = APIRouter(prefix="/admin")


@router.get("/rules", tags=["rules"], summary="The classifier's rule set in force.", responses=READ)
async def get_rules(_: Reader, rules: RulesDep) -> RulesRead:
    """Keywords, cues, thresholds and the repeat window, with its version."""
    doc = await rules.stored()
    return RulesRead(
        rules=await rules.current(),
        updated_at=doc.get("updated_at"),
        updated_by=doc.get("updated_by"),
    )


@router.put(
    "/rules",
    tags=["rules"],
    summary="Replace the rule set (applies to the next letter, no restart).",
    responses=WRITE,
)
async def put_rules(
    principal: RulesEditor, directory: DirectoryDep, rules: RulesDep, body: RuleSet
) -> RulesRead:
    """The whole rule set with `version` = the one read; stored as the next version."""
    default_unit = body.competence.default_unit_id
    if not await directory.units([default_unit]):
        raise invalid("competence.default_unit_id", f"no active unit {default_unit!r}")
    stored = await rules.replace(body, actor=actor_of(principal))
    doc = await rules.stored()
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
    _: Reader, rules: RulesDep, cursor: Cursor = None, limit: Limit = 50
) -> RulesVersionPage:
    """Who saved which version when; the rules of one version are one GET away."""
    before: int | None = None
    if cursor is not None:
        values = decode_cursor(cursor)
        if len(values) != 1 or not isinstance(values[0], int):
            raise Invalid("invalid cursor", details={"field": "cursor"})
        before = values[0]
    docs = await rules.history(before=before, limit=limit)
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
    _: Reader, rules: RulesDep, version: Annotated[int, Path(ge=1, le=1_000_000)]
) -> RulesVersionRead:
    """The rules as they were in that version."""
    doc = await rules.version_of(version)
    return RulesVersionRead(
        version=doc["_id"],
        saved_at=doc.get("saved_at"),
        saved_by=doc.get("saved_by"),
        note=doc["rules"].get("note") or "",
        rules=RuleSet.model_validate(doc["rules"]),
    )
