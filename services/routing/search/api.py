"""Searching letters by words (Chinese segmented the way the letters were)."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from services.routing.deps import READ, DirectoryDep, SearchDep
from services.routing.letters.models import LetterFilter
from services.routing.letters.service import READ_ALL, sees_person
from services.routing.letters.workflow import State
from services.routing.search.repository import MAX_TERMS, query_terms, snippet
from services.routing.search.schemas import SearchHit, SearchPage
from shared.auth import Principal, Role, require_roles
from shared.errors import Forbidden, Invalid
from shared.events.vocabulary import Nature
from shared.paging import next_cursor, page_cursor
from shared.validation import Instant
from shared.web import error_doc

SNIPPET_CHARS = 120

router = APIRouter(prefix="/search", tags=["search"])
# A search answers whether a word (a name, a phone number) stands in some letter: the admin,
# who runs the system and reads no letter, may not ask, snippet or not.
Searcher = Annotated[
    Principal, Depends(require_roles(*(role for role in Role if role is not Role.admin)))
]


def _invalid_query(reason: str) -> Invalid:
    return Invalid(
        f"q: {reason}", details={"errors": [{"field": "q", "in": "query", "reason": reason}]}
    )


@router.get(
    "/letters",
    summary="Letters holding every word of the query, newest first (units: only their own).",
    responses={**READ, 422: error_doc("no searchable word in the query, or a filter is wrong")},
)
async def search_letters(
    principal: Searcher,
    search: SearchDep,
    directory: DirectoryDep,
    q: Annotated[str, Query(min_length=1, max_length=200, description="words, e.g. 噪音扰民")],
    nature: Nature | None = None,
    state: State | None = None,
    unit: Annotated[
        str | None,
        Query(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$", description="lead or assisting unit"),
    ] = None,
    platform: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_.-]{1,64}$")] = None,
    received_from: Annotated[Instant | None, Query(description="inclusive")] = None,
    received_to: Annotated[Instant | None, Query(description="exclusive")] = None,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> SearchPage:
    """Segments `q` with the letters' tokenizer and matches letters holding every term."""
    if principal.is_unit:
        if unit is not None and unit != principal.unit_id:
            return SearchPage(items=[], terms=[])
        unit = principal.unit_id
    elif principal.role not in READ_ALL:
        raise Forbidden(f"role {principal.role} searches no letters")
    terms = await asyncio.to_thread(query_terms, q)
    if not terms:
        raise _invalid_query("no searchable word (only punctuation or very common words)")
    if len(terms) > MAX_TERMS:
        raise _invalid_query(f"at most {MAX_TERMS} words")
    where = LetterFilter(
        state=state.value if state is not None else None,
        nature=nature.value if nature is not None else None,
        unit_id=unit,
        platform=platform,
        received_from=received_from,
        received_to=received_to,
    )
    docs = await search.page(terms, where, after=page_cursor(cursor), limit=limit)
    names = await directory.names()
    hits = []
    for doc in docs[:limit]:
        unit_id = doc.get("lead_unit_id")
        shown = sees_person(principal, doc)
        hits.append(
            SearchHit(
                id=str(doc["_id"]),
                title=str(doc.get("title") or ""),
                state=str(doc["state"]),
                nature=doc.get("nature"),
                platform=doc.get("platform"),
                unit_id=unit_id,
                unit_name=names.get(unit_id) if unit_id else None,
                received_at=doc["received_at"],
                snippet=snippet(doc, terms, chars=SNIPPET_CHARS) if shown else None,
                withheld=[] if shown else ["snippet"],
            )
        )
    return SearchPage(
        items=hits, terms=terms, next_cursor=next_cursor(docs, key="received_at", limit=limit)
    )
