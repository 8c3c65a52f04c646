"""Leases and several instances, the platforms' status, and a cursor that keeps going back."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from devkit.simulator.server import RunningSimulator, running_simulator
from services.intake.polling.leases import Leases
from shared.clock import FixedClock
from shared.platforms import HttpPlatformClient
from tests.intake.harness import (
    ADMIN,
    CLERK,
    HEAD,
    PLATFORMS,
    UNIT,
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

GOV = "gov_mailbox"
NOW = datetime(2026, 10, 9, 2, 0, tzinfo=UTC)


@pytest.fixture
async def sim() -> AsyncIterator[RunningSimulator]:
    async with running_simulator() as running:
        yield running


async def test_two_instances_polling_together_register_each_letter_once(
    sim: RunningSimulator, tmp_path: Path
) -> None:
    platforms = write_platforms(sim, tmp_path / "platforms.json", page_size=7)
    common: dict[str, Any] = {
        "platforms_file": platforms,
        "poll_enabled": True,
        "poll_interval_s": 0.05,
    }
    async with (
        names_and_probe() as (names, probe),
        intake(sim, names, **common) as (app_a, client_a),
        intake(sim, names, **common) as (app_b, client_b),
        database(names) as db,
    ):
        answers: Counter[int] = Counter()
        for burst in range(4):
            await generate(sim, 50, seed=100 + burst)
            pokes = [
                client.post(f"/platforms/{platform}/poll", headers=CLERK)
                for platform in PLATFORMS
                for client in (client_a, client_b)
            ]
            answers.update(r.status_code for r in await asyncio.gather(*pokes))
        await eventually(
            lambda: len(set(received_letter_ids(probe))) >= 200,
            timeout_s=60,
            what="200 letters published",
        )
        await poll_all(client_a)
        await settle(probe, app_a.state.relay, app_b.state.relay)
        letters = await db["letters"].find({}, {"platform": 1, "external_id": 1}).to_list(None)
    assert set(answers) <= {200, 409}
    assert len(letters) == 200
    assert len({(d["platform"], d["external_id"]) for d in letters}) == 200
    counts = Counter(received_letter_ids(probe))
    assert len(counts) == 200
    assert max(counts.values()) == 1


async def test_the_same_page_registered_by_two_instances_at_once_counts_once(
    sim: RunningSimulator,
) -> None:
    await generate(sim, 40, seed=6, platform_id=GOV)
    async with (
        names_and_probe() as (names, probe),
        intake(sim, names) as (app_a, _),
        intake(sim, names) as (app_b, _),
    ):
        async with HttpPlatformClient(sim.config(GOV)) as client:
            page = await client.poll(cursor=None, limit=100)
        a, b = await asyncio.gather(
            app_a.state.intake.register_page(GOV, page),
            app_b.state.intake.register_page(GOV, page),
        )
        await settle(probe, app_a.state.relay, app_b.state.relay)
    assert a.registered + b.registered == 40
    assert a.duplicates + b.duplicates == 40
    assert sorted(received_letter_ids(probe)) == sorted(a.letter_ids + b.letter_ids)


async def test_a_crashed_pollers_lease_is_taken_over_after_it_expires(
    sim: RunningSimulator,
) -> None:
    await generate(sim, 10, seed=3, platform_id=GOV)
    clock = FixedClock(NOW)
    async with (
        names_and_probe() as (names, _),
        intake(sim, names, clock=clock, lease_s=60) as (app, client),
        database(names) as db,
    ):
        crashed = Leases(db["leases"], owner="crashed-instance", clock=clock, lease_s=60)
        assert await crashed.acquire(GOV)
        refused = await client.post(f"/platforms/{GOV}/poll", headers=ADMIN)
        status = (await client.get("/platforms", headers=HEAD)).json()
        clock.advance(timedelta(seconds=61))
        taken = await client.post(f"/platforms/{GOV}/poll", headers=ADMIN)
        lease = await db["leases"].find_one({"_id": GOV})
        still_crashed = await crashed.renew(GOV)
        owner = app.state.poller.owner
    assert refused.status_code == 409
    assert refused.json()["details"]["lease_holder"] == "crashed-instance"
    gov = next(p for p in status if p["id"] == GOV)
    assert gov["lease"]["owner"] == "crashed-instance"
    assert taken.status_code == 200
    assert taken.json()["registered"] == 10
    assert lease is not None
    assert lease["owner"] == owner
    # Released at the end of the cycle: any instance may take the next one.
    assert lease["expires_at"] == clock.now()
    assert not still_crashed


async def test_platform_errors_and_lag_are_shown(sim: RunningSimulator, tmp_path: Path) -> None:
    await generate(sim, 8, seed=4, platform_id=GOV)
    clock = FixedClock(NOW)
    platforms = write_platforms(
        sim, tmp_path / "platforms.json", max_attempts=2, backoff_base_s=0.01, backoff_max_s=0.02
    )
    await set_faults(sim, error_rate=1.0)
    async with (
        names_and_probe() as (names, _),
        intake(sim, names, clock=clock, platforms_file=platforms, recent_errors_kept=3) as (
            _,
            client,
        ),
    ):
        errors_before = await _metric(client, "mailbox_platform_poll_cycles_total", "error")
        failures = [
            (await client.post(f"/platforms/{GOV}/poll", headers=ADMIN)).json() for _ in range(5)
        ]
        errors_after = await _metric(client, "mailbox_platform_poll_cycles_total", "error")
        failing = next(
            p for p in (await client.get("/platforms", headers=HEAD)).json() if p["id"] == GOV
        )
        await set_faults(sim)
        clock.advance(timedelta(minutes=1))
        ok = (await client.post(f"/platforms/{GOV}/poll", headers=ADMIN)).json()
        last_success = await _metric(client, "mailbox_platform_last_success_timestamp_seconds")
        clock.advance(timedelta(seconds=30))
        healthy = next(
            p for p in (await client.get("/platforms", headers=HEAD)).json() if p["id"] == GOV
        )
    assert {f["outcome"] for f in failures} == {"error"}
    assert "503" in str(failures[0]["error"])
    assert failing["last_outcome"] == "error"
    assert failing["last_success_at"] is None
    assert failing["seconds_since_success"] is None
    assert len(failing["recent_errors"]) == 3
    assert {e["kind"] for e in failing["recent_errors"]} == {"PlatformUnavailable"}
    assert failing["recent_errors"][0]["at_local"].endswith("+08:00")
    assert failing["letters_registered"] == 0
    assert ok["outcome"] == "caught_up"
    assert healthy["last_outcome"] == "caught_up"
    assert healthy["seconds_since_success"] == 30.0
    assert healthy["letters_registered"] == 8
    assert healthy["newest_submitted_at"] is not None
    assert healthy["newest_letter_age_s"] > 0
    assert healthy["cursor"] == "8"
    # The same for alerting (Art. 17): failed cycles count, the last success is a timestamp.
    assert errors_after - errors_before == 5
    assert last_success == (NOW + timedelta(minutes=1)).timestamp()


async def _metric(client: Any, name: str, outcome: str | None = None) -> float:
    """One sample of the gov platform's metric from `GET /metrics` (0 when absent)."""
    text = (await client.get("/metrics")).text
    labels = f'outcome="{outcome}",platform="{GOV}"' if outcome else f'platform="{GOV}"'
    for line in text.splitlines():
        if line.startswith(f"{name}{{{labels}}} "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def test_a_cursor_that_keeps_going_back_cannot_hold_the_poller(
    sim: RunningSimulator, tmp_path: Path
) -> None:
    ids = await generate(sim, 40, seed=12, platform_id=GOV)
    await set_faults(sim, cursor_rewind=1.0, duplicate_rate=1.0, seed=4)
    platforms = write_platforms(sim, tmp_path / "platforms.json", page_size=5)
    async with (
        names_and_probe() as (names, probe),
        intake(sim, names, platforms_file=platforms, max_pages_per_cycle=4, max_idle_pages=2) as (
            app,
            client,
        ),
        database(names) as db,
    ):
        results = []
        for _ in range(100):
            result = (await client.post(f"/platforms/{GOV}/poll", headers=ADMIN)).json()
            results.append(result)
            if result["outcome"] == "caught_up":
                break
        await settle(probe, app.state.relay)
        letters = await db["letters"].find({}, {"external_id": 1}).to_list(None)
    assert results[-1]["outcome"] == "caught_up"
    assert all(r["pages"] <= 4 for r in results)
    assert any(r["outcome"] in ("page_limit", "no_progress") for r in results)
    assert sum(r["cursor_rewinds"] for r in results) > 0
    assert sorted(d["external_id"] for d in letters) == sorted(ids[GOV])
    assert len(probe.of_type("letter.received")) == 40


async def test_who_may_poll(sim: RunningSimulator, tmp_path: Path) -> None:
    configs = sim.configs()
    disabled = [c.model_copy(update={"enabled": False}) if c.id == GOV else c for c in configs]
    path = tmp_path / "platforms.json"
    from shared.platforms.config import dump_platform_configs

    path.write_bytes(dump_platform_configs(disabled, reveal_tokens=True))
    async with names_and_probe() as (names, _), intake(sim, names, platforms_file=path) as (_, c):
        assert (await c.post("/platforms/mayor_hotline/poll", headers=HEAD)).status_code == 403
        assert (await c.post("/platforms/mayor_hotline/poll", headers=UNIT)).status_code == 403
        assert (await c.post("/platforms/mayor_hotline/poll")).status_code == 401
        assert (await c.post("/platforms/mayor_hotline/poll", headers=CLERK)).status_code == 200
        assert (await c.post("/platforms/nowhere/poll", headers=ADMIN)).status_code == 404
        # The caller before the platform: who may not poll cannot tell which platforms exist.
        for who in ({}, {"Authorization": "Bearer nonsense"}, HEAD, UNIT):
            known = await c.post("/platforms/mayor_hotline/poll", headers=who)
            unknown = await c.post("/platforms/nowhere/poll", headers=who)
            assert unknown.status_code == known.status_code in (401, 403)
            assert unknown.json() == known.json()
        assert (await c.post("/platforms/Bad-Id/poll", headers=ADMIN)).status_code == 422
        assert (await c.post(f"/platforms/{GOV}/poll", headers=ADMIN)).status_code == 409
        assert (await c.get("/platforms", headers=UNIT)).status_code == 403
        listed = (await c.get("/platforms", headers=HEAD)).json()
    assert [p["id"] for p in listed] == list(PLATFORMS)
    assert next(p for p in listed if p["id"] == GOV)["enabled"] is False
    assert all("token" not in p for p in listed)
