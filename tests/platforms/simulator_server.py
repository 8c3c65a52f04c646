"""A real simulator on a free loopback port, for tests that talk HTTP to it."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
import uvicorn

from shared.platforms.config import PlatformConfig, default_platform_configs
from shared.platforms.simulator import create_simulator_app
from shared.platforms.simulator_state import DEFAULT_ADMIN_TOKEN, SimulatorState


def free_port() -> int:
    """A port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class RunningSimulator:
    """The simulator's state and address, and an admin client."""

    state: SimulatorState
    url: str
    admin: httpx.AsyncClient

    def configs(self, **overrides: object) -> list[PlatformConfig]:
        """The three default platforms pointing here (with overrides, e.g. short timeouts)."""
        return [
            c.model_copy(update=overrides) for c in default_platform_configs(simulator_url=self.url)
        ]


@asynccontextmanager
async def running_simulator() -> AsyncIterator[RunningSimulator]:
    """Serve the simulator with uvicorn in this event loop until the block ends."""
    state = SimulatorState()
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_simulator_app(state), host="127.0.0.1", port=port, log_level="warning"
        )
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    url = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {DEFAULT_ADMIN_TOKEN}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as admin:
        try:
            yield RunningSimulator(state=state, url=url, admin=admin)
        finally:
            server.should_exit = True
            await task
