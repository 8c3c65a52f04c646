"""The simulator served by uvicorn inside the caller's event loop, on a loopback port:
for tests and benchmarks that must talk real HTTP to it."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Generator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn

from devkit.simulator.app import create_simulator_app
from devkit.simulator.state import SimulatorState
from shared.platforms.config import PlatformConfig

STARTUP_TIMEOUT_S = 10.0
GRACEFUL_SHUTDOWN_S = 2


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now (for a child process to bind)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


class _EmbeddedServer(uvicorn.Server):
    """A uvicorn server that leaves SIGINT/SIGTERM to the host process (pytest, a bench)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


@dataclass
class RunningSimulator:
    """A simulator being served: its state, its address and an admin client."""

    state: SimulatorState
    url: str
    admin: httpx.AsyncClient

    def configs(self, **overrides: Any) -> list[PlatformConfig]:
        """The simulator's platforms pointing here (with overrides, e.g. short timeouts)."""
        return [
            config.model_copy(update={"base_url": f"{self.url}/p/{config.id}", **overrides})
            for config in self.state.platforms
        ]

    def config(self, platform_id: str, **overrides: Any) -> PlatformConfig:
        """One platform's config pointing here."""
        return next(c for c in self.configs(**overrides) if c.id == platform_id)


@asynccontextmanager
async def running_simulator(
    state: SimulatorState | None = None, *, host: str = "127.0.0.1"
) -> AsyncIterator[RunningSimulator]:
    """Serve the simulator on a free port of `host` until the block ends."""
    sim_state = state if state is not None else SimulatorState()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Bound here and handed to uvicorn: no window in which another process takes the port.
    sock.bind((host, 0))
    port: int = sock.getsockname()[1]
    server = _EmbeddedServer(
        uvicorn.Config(
            create_simulator_app(sim_state),
            log_level="warning",
            lifespan="off",
            ws="none",
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
        )
    )
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(STARTUP_TIMEOUT_S):
            while not server.started:
                if task.done():
                    task.result()
                    raise RuntimeError("the simulator stopped during start-up")
                await asyncio.sleep(0.01)
        url = f"http://{host}:{port}"
        headers = {"Authorization": f"Bearer {sim_state.admin_token}"}
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as admin:
            yield RunningSimulator(state=sim_state, url=url, admin=admin)
    finally:
        server.should_exit = True
        await task
        sock.close()
