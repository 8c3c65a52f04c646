"""Letters already stored, for the pipeline benchmark's growth runs (`--stored N`).

A few seed letters are worked through the whole pipeline first, by the services themselves;
then every document of the services' databases that names a seed letter is copied N times
over, with bulk inserts, each copy under fresh ids: the letter id, every other id of the
`prefix_ULID` shape inside it (events, audit entries, replies, archives…) and the seed's
external id are replaced consistently within one copy. So the stored letters have exactly
the shape the services write, as many documents as a real letter leaves in each collection,
and no unique key is reused. Documents that name no letter (users, units, calendar) are not
copied: they do not grow with the letters; nor is pending work (the queues, webhook
deliveries), and copies carry no outbox: the stored letters
are settled ones, as the letters of past months are.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

import bson

from shared.ids import new_id
from shared.mongo import Document, make_client

_ID = re.compile(r"\b([a-z]{2,5})_[0-9A-HJKMNP-TV-Z]{26}\b")
BATCH = 500
# Work waiting to be done, not letters stored: copies would set the services working on
# letters nobody sent (a stored letter has long been delivered, uploaded and archived).
SKIPPED = frozenset({"archive_queue", "upload_queue", "webhook_deliveries"})
# A stored letter's events were published long ago: copies carry no outbox.
_EMPTIED: dict[str, list[Any]] = {"outbox": [], "audit_outbox": [], "notices_outbox": []}
_CLEARED = {"has_outbox": False, "has_notices": False}


def _settled(doc: Document) -> Document:
    for key, empty in _EMPTIED.items():
        if key in doc:
            doc[key] = list(empty)
    for key, value in _CLEARED.items():
        if key in doc:
            doc[key] = value
    return doc


def _rewrite(value: Any, swap: Mapping[str, str], fresh: dict[str, str]) -> Any:
    if isinstance(value, str):

        def one(match: re.Match[str]) -> str:
            old = match.group(0)
            if old not in fresh:
                fresh[old] = new_id(match.group(1))
            return fresh[old]

        for old, new in swap.items():
            value = value.replace(old, new)
        return _ID.sub(one, value)
    if isinstance(value, dict):
        return {k: _rewrite(v, swap, fresh) for k, v in value.items()}
    if isinstance(value, list):
        return [_rewrite(v, swap, fresh) for v in value]
    if isinstance(value, bson.ObjectId):
        return bson.ObjectId()
    return value


async def preload(
    mongo_url: str,
    *,
    databases: Iterable[str],
    seeds: Mapping[str, str],
    stored: int,
) -> dict[str, Any]:
    """Store `stored` letters copied from the seed letters (letter id → external id)."""
    started = time.perf_counter()
    client = make_client(mongo_url, socket_timeout_s=600.0)
    inserted: Counter[str] = Counter()
    per_letter: Counter[str] = Counter()
    duplicates = 0
    try:
        by_seed: dict[str, list[tuple[str, str, Document]]] = {letter: [] for letter in seeds}
        for name in databases:
            db = client[name]
            for collection in await db.list_collection_names():
                if collection in SKIPPED:
                    continue
                async for doc in db[collection].find({}):
                    raw = bson.encode(doc)
                    for letter in seeds:
                        if letter.encode() in raw:
                            by_seed[letter].append((name, collection, doc))
                            break
        seed_ids = [letter for letter, docs in by_seed.items() if docs]
        if not seed_ids:
            return {"stored": 0, "error": "no seed letter found in the databases"}
        for _, collection, _ in by_seed[seed_ids[0]]:
            per_letter[collection] += 1
        pending: dict[tuple[str, str], list[Document]] = {}
        for n in range(stored):
            letter = seed_ids[n % len(seed_ids)]
            swap = {seeds[letter]: f"grown-{n:06d}"}
            fresh: dict[str, str] = {}
            for name, collection, doc in by_seed[letter]:
                batch = pending.setdefault((name, collection), [])
                batch.append(_settled(_rewrite(doc, swap, fresh)))
                if len(batch) >= BATCH:
                    duplicates += await _insert(client, name, collection, batch)
                    inserted[f"{name}.{collection}"] += len(batch)
                    batch.clear()
        for (name, collection), batch in pending.items():
            if batch:
                duplicates += await _insert(client, name, collection, batch)
                inserted[f"{name}.{collection}"] += len(batch)
    finally:
        await client.close()
    return {
        "stored": stored,
        "seed_letters": len(seed_ids),
        "documents_per_letter": dict(per_letter),
        "documents": sum(inserted.values()),
        "duplicate_keys_skipped": duplicates,
        "seconds": round(time.perf_counter() - started, 1),
    }


async def _insert(client: Any, database: str, collection: str, docs: list[Document]) -> int:
    from pymongo.errors import BulkWriteError

    try:
        await client[database][collection].insert_many(docs, ordered=False)
    except BulkWriteError as exc:
        return len(exc.details.get("writeErrors", []))
    return 0
