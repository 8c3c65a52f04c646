"""`mailbox simulator` and `mailbox bench platforms`, run as an operator runs them."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import orjson
import pytest

from devkit.simulator.server import free_port
from shared.platforms import HttpPlatformClient, default_platform_configs

pytestmark = pytest.mark.unit  # needs no server

DEV_LETTERS = Path(__file__).resolve().parents[3] / "shared" / "data" / "dev-letters.jsonl"
MAILBOX = [sys.executable, "-m", "services.cli"]


@pytest.fixture
async def simulator_process() -> AsyncIterator[str]:
    if not DEV_LETTERS.exists():
        pytest.skip(f"{DEV_LETTERS} is not on this machine")
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        *MAILBOX,
        *("simulator", "--port", str(port), "--letters", str(DEV_LETTERS), "--generate", "10"),
        stderr=asyncio.subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(timeout=1) as http:
            for _ in range(200):
                try:
                    if (await http.get(f"{url}/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
            else:
                raise AssertionError("the simulator did not start")
        yield url
    finally:
        process.terminate()
        await process.wait()


async def test_the_simulator_serves_the_dev_letters_and_generated_ones(
    simulator_process: str,
) -> None:
    total = 0
    for config in default_platform_configs(simulator_url=simulator_process):
        async with HttpPlatformClient(config) as client:
            cursor: str | None = None
            while True:
                page = await client.poll(cursor=cursor, limit=100)
                assert page.malformed == []
                total += len(page.letters)
                cursor = page.next_cursor
                if not page.has_more:
                    break
    assert total == 240 + 10


def test_every_command_has_help() -> None:
    for command in (["simulator"], ["bench", "platforms"]):
        result = subprocess.run(
            [*MAILBOX, *command, "--help"], capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stderr
        assert "--port" in result.stdout or "--letters" in result.stdout


def test_the_benchmark_prints_its_figures_as_json() -> None:
    result = subprocess.run(
        [*MAILBOX, "bench", "platforms", "--letters", "300", "--uploads", "20"],
        capture_output=True,
        text=True,
        check=False,
        timeout=90,
    )
    assert result.returncode == 0, result.stderr
    figures = orjson.loads(result.stdout)
    assert figures["letters"] == 300
    assert figures["uploads"] == 20
    assert figures["duplicate_uploads_answered"] == 20
    assert figures["letters_per_s"] > 0


def test_the_cli_default_admin_token_is_the_simulators() -> None:
    from devkit.simulator import cli
    from devkit.simulator.state import DEFAULT_ADMIN_TOKEN

    assert cli.DEFAULT_ADMIN_TOKEN == DEFAULT_ADMIN_TOKEN
