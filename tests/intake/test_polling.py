"""N letters on the simulator become exactly N registered letters and N `letter.received`,
with and without the platform misbehaving, and across a restart in the middle of a poll."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from devkit.simulator.server import RunningSimulator, running_simulator
from tests.intake.harness import (
    ADMIN,
    CLERK,
    PLATFORMS,
    database,
    generate,
    intake,
    names_and_probe,
    poll_all,
    received_letter_ids,
    set_faults,
    settle,
    write_platforms,
)
from tests.support import eventually


@pytest.fixture
async def sim() -> AsyncIterator[RunningSimulator]:
    async with running_simulator() as running:
        yield running


def _expected(ids: dict[str, list[str]]) -> set[tuple[str, str]]:
    return {(platform, external_id) for platform, group in ids.items() for external_id in group}


async def test_every_letter_is_registered_once_with_one_event(sim: RunningSimulator) -> None:
    ids = await generate(sim, 90, seed=11)
    async with names_and_probe() as (names, probe), intake(sim, names) as (app, client):
        first = await poll_all(client)
        again = await poll_all(client)
        await settle(probe, app.state.relay)
        async with database(names) as db:
            letters = await db["letters"].find({}).to_list(None)
    assert {(d["platform"], d["external_id"]) for d in letters} == _expected(ids)
    assert len(letters) == 90
    assert sum(r["registered"] for r in first) == 90
    assert sum(r["registered"] for r in again) == 0
    # The cursor was stored: the second round started where the first stopped.
    assert all(r["cursor_before"] is not None for r in again)
    events = probe.of_type("letter.received")
    assert len(events) == 90
    assert sorted(received_letter_ids(probe)) == sorted(str(d["_id"]) for d in letters)
    by_id = {str(d["_id"]): d for d in letters}
    for event in events:
        doc = by_id[str(event.letter_id)]
        assert event.data["external_id"] == doc["external_id"]
        assert event.data["platform"] == doc["platform"]
        assert event.data["source"] == "platform"
        assert event.data["raw_sha256"] == doc["raw_sha256"]
        assert hashlib.sha256(doc["raw_json"].encode()).hexdigest() == doc["raw_sha256"]
        assert not doc["has_outbox"] and doc["outbox"] == []


async def test_new_letters_after_a_poll_are_picked_up_from_the_cursor(
    sim: RunningSimulator,
) -> None:
    await generate(sim, 30, seed=2)
    async with names_and_probe() as (names, probe), intake(sim, names) as (app, client):
        await poll_all(client)
        added = await generate(sim, 12, seed=3, platform_id="gov_mailbox")
        response = await client.post("/platforms/gov_mailbox/poll", headers=ADMIN)
        await settle(probe, app.state.relay)
    result = response.json()
    assert result["registered"] == 12
    assert result["duplicates"] == 0
    assert result["fetched"] == 12
    assert len(added["gov_mailbox"]) == 12
    assert len(probe.of_type("letter.received")) == 42


async def test_duplicates_errors_timeouts_and_rewinds_still_give_exactly_n(
    sim: RunningSimulator, tmp_path: Path
) -> None:
    ids = await generate(sim, 150, seed=5)
    await set_faults(
        sim,
        error_rate=0.2,
        timeout_rate=0.1,
        stall_s=5,
        duplicate_rate=0.5,
        cursor_rewind=0.3,
        seed=9,
    )
    platforms = write_platforms(
        sim,
        tmp_path / "platforms.json",
        page_size=10,
        timeout_s=0.3,
        max_attempts=3,
        backoff_base_s=0.01,
        backoff_max_s=0.05,
    )
    async with (
        names_and_probe() as (names, probe),
        intake(
            sim,
            names,
            platforms_file=platforms,
            poll_enabled=True,
            poll_interval_s=0.05,
            max_pages_per_cycle=5,
        ) as (app, client),
        database(names) as db,
    ):
        await eventually(
            lambda: len(probe.of_type("letter.received")) >= 150,
            timeout_s=90,
            what="150 letters published",
        )
        await set_faults(sim)  # quiet platforms, so the last cycles end and nothing is pending
        await poll_all(client)
        await settle(probe, app.state.relay)
        letters = await db["letters"].find({}, {"platform": 1, "external_id": 1}).to_list(None)
        platforms_view = (await client.get("/platforms", headers=ADMIN)).json()
    stats = (await sim.admin.get("/_admin/stats")).json()
    assert sum(s["errors_injected"] for s in stats.values()) > 0
    assert sum(s["timeouts_injected"] for s in stats.values()) > 0
    assert sum(s["duplicates_injected"] for s in stats.values()) > 0
    assert sum(s["rewinds_injected"] for s in stats.values()) > 0
    assert {(d["platform"], d["external_id"]) for d in letters} == _expected(ids)
    assert len(letters) == 150
    counts = Counter(received_letter_ids(probe))
    assert len(counts) == 150
    assert max(counts.values()) == 1
    errors = [e["kind"] for p in platforms_view for e in p["recent_errors"]]
    assert "cursor_rewind" in errors or "PlatformUnavailable" in errors


async def test_restart_in_the_middle_of_polling_registers_each_letter_once(
    sim: RunningSimulator, tmp_path: Path
) -> None:
    ids = await generate(sim, 120, seed=21)
    await set_faults(sim, slow_ms=60)
    platforms = write_platforms(sim, tmp_path / "platforms.json", page_size=5)
    common: dict[str, Any] = {
        "platforms_file": platforms,
        "poll_enabled": True,
        "poll_interval_s": 0.05,
    }
    async with names_and_probe() as (names, probe), database(names) as db:
        async with intake(sim, names, **common):
            await eventually(
                lambda: len(probe.of_type("letter.received")) >= 20,
                timeout_s=30,
                what="polling under way",
            )
        stopped_at = await db["letters"].count_documents({})
        assert 0 < stopped_at < 120
        states = {d["_id"]: d for d in await db["platform_state"].find({}).to_list(None)}
        assert any(state.get("cursor") for state in states.values())
        await set_faults(sim)
        async with intake(sim, names, **common) as (app, client):
            await eventually(
                lambda: len(set(received_letter_ids(probe))) >= 120,
                timeout_s=60,
                what="every letter published after the restart",
            )
            await poll_all(client)
            await settle(probe, app.state.relay)
        letters = await db["letters"].find({}, {"platform": 1, "external_id": 1}).to_list(None)
    assert {(d["platform"], d["external_id"]) for d in letters} == _expected(ids)
    assert len(letters) == 120
    counts = Counter(received_letter_ids(probe))
    assert len(counts) == 120
    assert max(counts.values()) == 1


async def test_unpublished_outboxes_left_by_a_crash_are_published_once(
    sim: RunningSimulator,
) -> None:
    await generate(sim, 20, seed=4, platform_id="gov_mailbox")
    async with names_and_probe() as (names, probe), database(names) as db:
        async with intake(sim, names) as (app, client):
            response = await client.post("/platforms/gov_mailbox/poll", headers=ADMIN)
            assert response.json()["registered"] == 20
            await settle(probe, app.state.relay)
        # As if the process died after inserting and before publishing: put outboxes back.
        published = await db["letters"].find({}).to_list(None)
        lost = published[:5]
        for doc in lost:
            event = next(e for e in probe.of_type("letter.received") if e.letter_id == doc["_id"])
            await db["letters"].update_one(
                {"_id": doc["_id"]},
                {"$set": {"outbox": [event.model_dump(mode="json")], "has_outbox": True}},
            )
        async with intake(sim, names) as (app, _):
            await eventually(
                lambda: len(probe.of_type("letter.received")) >= 25,
                timeout_s=20,
                what="the left-over outboxes published",
            )
            await settle(probe, app.state.relay)
        pending = await db["letters"].count_documents({"has_outbox": True})
    counts = Counter(received_letter_ids(probe))
    # The republished events keep their ids: a consumer applies each once.
    assert len(probe.of_type("letter.received")) == 25
    assert len({e.id for e in probe.of_type("letter.received")}) == 20
    assert sorted(k for k, v in counts.items() if v == 2) == sorted(d["_id"] for d in lost)
    assert pending == 0


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_each_platform_maps_its_own_field_names(sim: RunningSimulator, platform: str) -> None:
    await generate(sim, 5, seed=8, platform_id=platform)
    async with names_and_probe() as (names, _), intake(sim, names) as (_, client):
        await client.post(f"/platforms/{platform}/poll", headers=ADMIN)
        page = (await client.get("/letters", headers=ADMIN)).json()
        # The office reads the text and the raw record; the admin does not (Art. 3).
        letter_path = f"/letters/{page['items'][0]['id']}"
        detail = (await client.get(letter_path, headers=CLERK)).json()
    assert len(page["items"]) == 5
    assert detail["platform"] == platform
    assert detail["title"] and detail["text"]
    assert detail["raw"] is not None
    # The raw record keeps the platform's own names, ours are the mapped ones.
    assert "title" not in detail["raw"] or platform == "gov_mailbox"
    assert detail["submitted_at"].endswith("Z")
    assert detail["submitted_at_local"].endswith("+08:00")
