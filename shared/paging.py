"""Keyset paging: a list endpoint returns a page and an opaque cursor to the next."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any, Generic, TypeVar

import orjson
from pydantic import BaseModel

from shared.errors import Invalid
from shared.mongo import Collection, Document

T = TypeVar("T")

MAX_PAGE_SIZE = 200


class Page(BaseModel, Generic[T]):
    """One page of a list, and the cursor for the next (None at the end)."""

    items: list[T]
    next_cursor: str | None = None


def encode_cursor(values: list[Any]) -> str:
    """Opaque cursor from the last item's sort key."""
    return base64.urlsafe_b64encode(orjson.dumps(values)).decode().rstrip("=")


def decode_cursor(cursor: str) -> list[Any]:
    """Sort key from a cursor; a 422 for anything we did not make."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = orjson.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, orjson.JSONDecodeError) as exc:
        raise Invalid("invalid cursor", details={"field": "cursor"}) from exc
    if not isinstance(values, list) or not all(
        isinstance(v, str | int | float) and not isinstance(v, bool) for v in values
    ):
        raise Invalid("invalid cursor", details={"field": "cursor"})
    return values


def keyset_after(key: str, value: Any, last_id: Any, *, descending: bool = True) -> Document:
    """The filter for the items after `(value, last_id)` in a list sorted on `key` then `_id`.

    One place for the keyset condition every list of the services uses; the sort it
    continues is `[(key, -1), ("_id", -1)]` when `descending`, else both ascending.
    """
    op = "$lt" if descending else "$gt"
    return {"$or": [{key: {op: value}}, {key: value, "_id": {op: last_id}}]}


def and_after(
    query: Document, key: str, after: tuple[Any, Any] | None, *, descending: bool = True
) -> Document:
    """`query` narrowed to the items after the cursor's sort key, if any."""
    if after is None:
        return query
    value, last_id = after
    return {"$and": [query, keyset_after(key, value, last_id, descending=descending)]}


def page_cursor(cursor: str | None) -> tuple[datetime, str] | None:
    """A list cursor back to its sort key, an instant and an id (a 422 for anything else)."""
    if cursor is None:
        return None
    values = decode_cursor(cursor)
    try:
        at, last_id = values
        return datetime.fromisoformat(str(at)), str(last_id)
    except ValueError as exc:
        raise Invalid("invalid cursor", details={"field": "cursor"}) from exc


def next_cursor(docs: list[Document], *, key: str, limit: int) -> str | None:
    """The cursor after the last item shown, if there are more (`docs` holds `limit + 1`)."""
    if len(docs) <= limit:
        return None
    last = docs[limit - 1]
    return encode_cursor([last[key].isoformat(), str(last["_id"])])


def id_cursor(cursor: str | None) -> str | None:
    """The last id of the previous page, for lists sorted by id alone."""
    if cursor is None:
        return None
    values = decode_cursor(cursor)
    if len(values) != 1 or not isinstance(values[0], str):
        raise Invalid("invalid cursor", details={"field": "cursor"})
    return values[0]


def next_id_cursor(docs: list[Document], *, limit: int) -> str | None:
    """The cursor after the last item shown of a list sorted by id, if there are more."""
    return encode_cursor([str(docs[limit - 1]["_id"])]) if len(docs) > limit else None


async def find_page(
    collection: Collection,
    *,
    query: Document,
    sort: str,
    cursor: tuple[Any, Any] | None,
    limit: int,
) -> list[Document]:
    """Up to `limit + 1` documents of `query` after the cursor, ascending on `sort` then `_id`."""
    after: Document | None = None
    if cursor is not None:
        value, last_id = cursor
        after = (
            {"_id": {"$gt": last_id}}
            if sort == "_id"
            else keyset_after(sort, value, last_id, descending=False)
        )
    parts = [part for part in (query, after) if part]
    filtered = {"$and": parts} if len(parts) > 1 else (parts[0] if parts else {})
    keys = [("_id", 1)] if sort == "_id" else [(sort, 1), ("_id", 1)]
    return await collection.find(filtered).sort(keys).limit(limit + 1).to_list(None)
