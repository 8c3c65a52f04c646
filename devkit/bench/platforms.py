"""`mailbox bench platforms`: how fast the HTTP client reads letters from and uploads to
the simulator, each in its own process, over loopback."""

from __future__ import annotations

import asyncio
import resource
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from devkit.simulator.server import free_port
from devkit.simulator.state import DEFAULT_ADMIN_TOKEN
from shared.platforms.config import PlatformConfig, default_platform_configs
from shared.platforms.http import HttpPlatformClient
from shared.platforms.models import Upload

STARTUP_TIMEOUT_S = 20.0


async def _wait_healthy(url: str, process: asyncio.subprocess.Process) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    async with httpx.AsyncClient(timeout=1.0) as http:
        while time.monotonic() < deadline:
            if process.returncode is not None:
                raise RuntimeError(f"the simulator exited with {process.returncode}")
            try:
                if (await http.get(f"{url}/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"the simulator did not answer at {url} within {STARTUP_TIMEOUT_S} s")


def _peak_rss_mb(pid: int) -> float | None:
    """A process's peak resident memory (Linux /proc), None where that is not available."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return None


async def _drain(client: HttpPlatformClient, *, page_size: int) -> tuple[int, int]:
    letters = pages = 0
    cursor: str | None = None
    while True:
        page = await client.poll(cursor=cursor, limit=page_size)
        letters += len(page.letters) + len(page.malformed)
        pages += 1
        cursor = page.next_cursor or cursor
        if not page.has_more:
            return letters, pages


async def _upload_all(
    client: HttpPlatformClient, ids: list[str], *, concurrency: int
) -> tuple[int, int]:
    queue = list(reversed(ids))
    created = duplicates = 0

    async def worker() -> None:
        nonlocal created, duplicates
        while queue:
            external_id = queue.pop()
            upload = Upload(
                external_id=external_id,
                kind="reply",
                visibility="public",
                title="答复",
                text="经核实，已按规定处理。",
                idempotency_key=f"bench:{external_id}",
            )
            receipt = await client.upload(upload)
            duplicates += receipt.duplicate
            created += not receipt.duplicate

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return created, duplicates


async def run_platform_bench(
    *, letters: int, page_size: int, uploads: int, concurrency: int, seed: int
) -> dict[str, Any]:
    """Serve a simulator in a child process, then poll it dry and upload to it; the figures."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "services.cli", "simulator", "--port", str(port)),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        await _wait_healthy(url, process)
        admin_headers = {"Authorization": f"Bearer {DEFAULT_ADMIN_TOKEN}"}
        async with httpx.AsyncClient(base_url=url, headers=admin_headers, timeout=120) as admin:
            started = time.perf_counter()
            body = {"n": letters, "seed": seed}
            generated = (await admin.post("/_admin/generate", json=body)).json()["ids"]
            generate_s = time.perf_counter() - started
        configs: list[PlatformConfig] = default_platform_configs(simulator_url=url)
        async with httpx.AsyncClient(limits=httpx.Limits(max_connections=64)) as http:
            clients = [HttpPlatformClient(config, http=http) for config in configs]
            started = time.perf_counter()
            results = await asyncio.gather(*(_drain(c, page_size=page_size) for c in clients))
            poll_s = time.perf_counter() - started
            read = sum(count for count, _ in results)
            gov = clients[0]
            targets = generated[gov.platform_id][:uploads]
            started = time.perf_counter()
            created, _ = await _upload_all(gov, targets, concurrency=concurrency)
            upload_s = time.perf_counter() - started
            # Every upload again under its key: the cost of a retry storm that stores nothing.
            started = time.perf_counter()
            _, repeated = await _upload_all(gov, targets, concurrency=concurrency)
            repeat_s = time.perf_counter() - started
        server_peak_mb = _peak_rss_mb(process.pid)
    finally:
        if process.returncode is None:
            process.terminate()
            await asyncio.wait_for(process.wait(), timeout=10)
    return {
        "benchmark": "platforms",
        "letters": read,
        "letters_generated": letters,
        "page_size": page_size,
        "pages": sum(pages for _, pages in results),
        "generate_s": round(generate_s, 3),
        "poll_s": round(poll_s, 3),
        "letters_per_s": round(read / poll_s, 1),
        "uploads": created,
        "upload_concurrency": concurrency,
        "uploads_per_s": round(created / upload_s, 1) if upload_s else None,
        "duplicate_uploads_answered": repeated,
        "duplicate_uploads_per_s": round(repeated / repeat_s, 1) if repeat_s else None,
        "client_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "simulator_peak_rss_mb": server_peak_mb,
    }
