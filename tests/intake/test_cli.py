"""`mailbox intake poll-once` and `mailbox bench intake`, run as the operator runs them."""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

import orjson

from devkit.simulator.server import running_simulator
from shared.mongo import make_client
from tests.intake.harness import generate, names_and_probe, settle
from tests.support import AMQP_URL, MONGO_URL


async def _mailbox(*args: str, env: dict[str, str] | None = None) -> tuple[int, bytes, bytes]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.cli",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={
            **os.environ,
            "MAILBOX_MONGO_URL": MONGO_URL,
            "MAILBOX_AMQP_URL": AMQP_URL,
            **(env or {}),
        },
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return process.returncode, out, err


async def test_poll_once_registers_what_the_platforms_hold() -> None:
    async with running_simulator() as sim, names_and_probe() as (names, probe):
        ids = await generate(sim, 30, seed=2)
        env = {
            "MAILBOX_INTAKE_SIMULATOR_URL": sim.url,
            "MAILBOX_INTAKE_MONGO_DB": names.db,
            "MAILBOX_INTAKE_EXCHANGE_NAME": names.exchange,
        }
        code, out, err = await _mailbox("intake", "poll-once", env=env)
        again, out_again, _ = await _mailbox(
            "intake", "poll-once", "--platform", "gov_mailbox", env=env
        )
        unknown, _, unknown_err = await _mailbox(
            "intake", "poll-once", "--platform", "nowhere", env=env
        )
        await settle(probe)
    assert code == 0, err.decode()
    summaries: list[dict[str, Any]] = orjson.loads(out)["platforms"]
    assert {s["platform_id"]: s["registered"] for s in summaries} == {
        pid: len(group) for pid, group in ids.items()
    }
    assert {s["outcome"] for s in summaries} == {"caught_up"}
    assert again == 0
    assert orjson.loads(out_again)["platforms"][0]["registered"] == 0
    assert len(probe.of_type("letter.received")) == 30
    assert unknown == 2
    assert b"nowhere" in unknown_err


async def test_bench_intake_prints_its_figures_and_cleans_up() -> None:
    code, out, err = await _mailbox("bench", "intake", "--letters", "60", "--page-size", "20")
    assert code == 0, err.decode()
    figures = orjson.loads(out)
    # The bench's own database is asked about by name: listing every database makes
    # FerretDB open each one, which can stall behind another test's dropped database.
    client = make_client(MONGO_URL)
    try:
        left = await client[figures["database"]].list_collection_names()
    finally:
        await client.close()
    assert figures["registered"] == 60
    assert figures["events_confirmed"] == 60
    assert figures["letters_per_s"] > 0
    assert figures["peak_rss_mib"] > 0
    assert figures["outcomes"] == ["caught_up"]
    assert figures["database"].startswith("bench_intake_")
    assert left == []
