"""What the services rely on from the MongoDB-wire server, across connections.

The services' optimistic writes (`{_id, version}` conditions) and the outbox relay's
conditional clears are correct only if a conditional update is atomic: of several
writers that read the same version, exactly one wins. MongoDB guarantees it; FerretDB
v1.24.2 read the document and then rewrote it by `_id` alone, so two connections could
both pass the condition (our build holds the database's write turn across both; see
deploy/local/ferretdb/writes.patch). Each racer here has a client of its own, as two
processes would, so no lock of ours serialises them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from pymongo import AsyncMongoClient, UpdateOne

from shared.mongo import Database, Document, IndexSpec, ensure_indexes, is_ferretdb, make_client

ROUNDS = 15
RACERS = 6
# A burst larger than FerretDB's pool of 100 SQLite connections per database: waiting
# writers once held those connections while the writer holding the lock needed one.
BURST_DOCUMENTS = 240
BURST_BOUND_S = 60.0


@pytest.fixture
async def racers(mongo_url: str) -> AsyncIterator[list[AsyncMongoClient[Document]]]:
    clients = [make_client(mongo_url) for _ in range(RACERS)]
    yield clients
    for client in clients:
        await client.close()


async def test_of_writers_that_read_one_version_exactly_one_wins(
    db: Database, racers: list[AsyncMongoClient[Document]]
) -> None:
    await db["docs"].insert_one({"_id": "d", "version": 1, "winners": []})
    wins_per_round: list[int] = []
    for round_no in range(ROUNDS):
        version = round_no + 1

        async def race(i: int, version: int = version) -> bool:
            coll = racers[i][db.name]["docs"]
            result = await coll.update_one(
                {"_id": "d", "version": version},
                {"$inc": {"version": 1}, "$push": {"winners": f"{version}:{i}"}},
            )
            return bool(result.modified_count)

        outcomes = await asyncio.gather(*(race(i) for i in range(RACERS)))
        wins_per_round.append(sum(outcomes))
    doc = await db["docs"].find_one({"_id": "d"})
    assert doc is not None
    assert wins_per_round == [1] * ROUNDS
    assert doc["version"] == ROUNDS + 1
    assert [w.split(":")[0] for w in doc["winners"]] == [str(v) for v in range(1, ROUNDS + 1)]


async def test_find_one_and_update_on_one_version_has_one_winner(
    db: Database, racers: list[AsyncMongoClient[Document]]
) -> None:
    await db["docs"].insert_one({"_id": "f", "version": 1})

    async def race(i: int) -> Document | None:
        return await racers[i][db.name]["docs"].find_one_and_update(
            {"_id": "f", "version": 1}, {"$set": {"winner": i}, "$inc": {"version": 1}}
        )

    outcomes = await asyncio.gather(*(race(i) for i in range(RACERS)))
    assert sum(o is not None for o in outcomes) == 1
    doc = await db["docs"].find_one({"_id": "f"})
    assert doc is not None and doc["version"] == 2


async def test_a_burst_of_updates_and_bulk_clears_completes(
    db: Database, racers: list[AsyncMongoClient[Document]]
) -> None:
    docs = [
        {"_id": f"b{i}", "version": 1, "outbox": [{"id": f"e{i}"}], "has_outbox": True}
        for i in range(BURST_DOCUMENTS)
    ]
    await db["burst"].insert_many(docs)

    async def update(i: int) -> int:
        coll = racers[i % RACERS][db.name]["burst"]
        result = await coll.update_one(
            {"_id": f"b{i}", "version": 1}, {"$inc": {"version": 1}, "$set": {"seen": True}}
        )
        return result.modified_count

    async def clear(start: int) -> int:
        coll = racers[start % RACERS][db.name]["burst"]
        result = await coll.bulk_write(
            [
                UpdateOne(
                    {"_id": f"b{i}", "outbox": [{"id": f"e{i}"}]},
                    {"$set": {"outbox": [], "has_outbox": False}},
                )
                for i in range(start, start + 30)
            ],
            ordered=False,
        )
        return result.modified_count

    updated, cleared = await asyncio.wait_for(
        asyncio.gather(
            asyncio.gather(*(update(i) for i in range(BURST_DOCUMENTS))),
            asyncio.gather(*(clear(s) for s in range(0, BURST_DOCUMENTS, 30))),
        ),
        BURST_BOUND_S,
    )
    assert sum(updated) == BURST_DOCUMENTS
    assert sum(cleared) == BURST_DOCUMENTS
    left = await db["burst"].count_documents({"$or": [{"has_outbox": True}, {"version": 1}]})
    assert left == 0


async def test_unique_indexes_always_and_the_others_only_where_they_serve(db: Database) -> None:
    await ensure_indexes(
        db["indexed"],
        [IndexSpec(keys=[("state", 1), ("at", -1)]), IndexSpec(keys=[("key", 1)], unique=True)],
    )
    names = {i["name"] for i in await (await db["indexed"].list_indexes()).to_list(None)}
    assert "key_1" in names
    # FerretDB v1 answers queries by scanning whatever the indexes: there it is skipped.
    assert ("state_1_at_-1" in names) is not await is_ferretdb(db)
