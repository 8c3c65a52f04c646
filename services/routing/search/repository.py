"""Word search over letters: the query is segmented like the letters were, then matched.

Chinese is not split by spaces and neither MongoDB's text index nor FerretDB v1 segments it,
so every letter stores `search_tokens` (jieba's search mode over title and text) in an
indexed array. A query is segmented the same way and a letter matches when it holds every
query term (`$all`). A query word jieba also splits into parts (质量问题 → 质量, 问题) is
matched by its parts, because a letter's segmentation depends on the words around it
(产品质量问题 yields 产品质量 and 问题, not 质量问题).
"""

from __future__ import annotations

from datetime import datetime

from services.routing.classify.segmentation import tokens_for_search
from services.routing.letters.models import LetterFilter
from shared.mongo import Collection, Document
from shared.paging import and_after

MAX_TERMS = 16
_SORT = [("received_at", -1), ("_id", -1)]
_PROJECTION = {
    "title": 1,
    "text": 1,
    "state": 1,
    "nature": 1,
    "platform": 1,
    "received_at": 1,
    "lead_unit_id": 1,
    "assisting_unit_ids": 1,
    "units": 1,
    "version": 1,
}


def _composed(word: str, parts: set[str]) -> bool:
    """Whether `word` is a concatenation of two or more of `parts`."""
    reachable = [False] * (len(word) + 1)
    reachable[0] = True
    for end in range(1, len(word) + 1):
        reachable[end] = any(
            reachable[start] and word[start:end] in parts and word[start:end] != word
            for start in range(end)
        )
    return reachable[-1]


def query_terms(query: str) -> list[str]:
    """The terms a letter must hold to match `query` (empty: nothing searchable in it)."""
    tokens = tokens_for_search(query)
    parts = set(tokens)
    return [token for token in tokens if not _composed(token, parts - {token})]


def snippet(doc: Document, terms: list[str], *, chars: int) -> str:
    """A piece of the letter's text around the first term found (or its opening)."""
    text = " ".join(str(doc.get("text") or "").split())
    lowered = text.lower()
    found = [i for i in (lowered.find(term) for term in terms) if i >= 0]
    if not found:
        return text if len(text) <= chars else text[: chars - 1] + "…"
    start = max(0, min(found) - chars // 4)
    end = min(len(text), start + chars)
    start = max(0, min(start, end - chars))
    piece = text[start:end]
    return ("…" if start > 0 else "") + piece + ("…" if end < len(text) else "")


class LetterSearch:
    """Reads the letters collection by stored search tokens."""

    def __init__(self, letters: Collection) -> None:
        self._letters = letters

    async def page(
        self,
        terms: list[str],
        where: LetterFilter,
        *,
        after: tuple[datetime, str] | None,
        limit: int,
    ) -> list[Document]:
        """Up to `limit + 1` letters holding every term, newest first, after the cursor."""
        query = and_after({"search_tokens": {"$all": terms}, **where.query()}, "received_at", after)
        cursor = self._letters.find(query, _PROJECTION).sort(_SORT).limit(limit + 1)
        return await cursor.to_list(None)
