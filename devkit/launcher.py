"""Runs the four services, the console and the platform simulator as local processes.

Used by the demo, the end-to-end and fault tests and the pipeline benchmark: each
service is its own uvicorn process, as in production, talking to the local
stack's servers. A deployment has a `namespace` that names its databases and its
exchange, so several can share one stack without seeing each other.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO_ROOT = Path(__file__).resolve().parent.parent
SERVICES = ("intake", "routing", "deadlines", "publishing")
# The web pages over the services' APIs: no database, queue or timer of their own.
CONSOLE = "console"
DEFAULT_PORTS = {
    "intake": 8001,
    "routing": 8002,
    "deadlines": 8003,
    "publishing": 8004,
    CONSOLE: 8005,
    "simulator": 8900,
}


def free_ports(names: tuple[str, ...]) -> dict[str, int]:
    """A free loopback port per name (all held open together, so no two are the same)."""
    with contextlib.ExitStack() as stack:
        sockets = {}
        for name in names:
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind(("127.0.0.1", 0))
            sockets[name] = sock
        return {name: sock.getsockname()[1] for name, sock in sockets.items()}


@dataclass
class Process:
    """One running server."""

    name: str
    port: int
    log_path: Path
    proc: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class LocalDeployment:
    """The simulator, the four services and the console, each a child process.

    The console runs where the deployment gives it a port (the default ports do); a
    deployment of its own ports without one (the end-to-end and fault tests) has none.
    """

    namespace: str
    ports: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_PORTS))
    log_dir: Path = REPO_ROOT / "var" / "log" / "services"
    token_secret: str = "local-deployment-token-secret-0123456789"  # noqa: S105 - local only
    extra_env: Mapping[str, str] = field(default_factory=dict)
    simulator_args: tuple[str, ...] = ()
    processes: dict[str, Process] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        """The environment every child gets: the stack's URLs and this namespace."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("MAILBOX_")}
        env.update(
            {
                "MAILBOX_MONGO_URL": os.environ.get(
                    "MAILBOX_MONGO_URL", "mongodb://127.0.0.1:27017/"
                ),
                "MAILBOX_AMQP_URL": os.environ.get(
                    "MAILBOX_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/"
                ),
                "MAILBOX_REDIS_URL": os.environ.get(
                    "MAILBOX_REDIS_URL", "redis://127.0.0.1:6379/0"
                ),
                "MAILBOX_EXCHANGE_NAME": f"{self.namespace}.events",
                "MAILBOX_TOKEN_SECRET": self.token_secret,
                "MAILBOX_ENVIRONMENT": "development",
                "MAILBOX_LOG_JSON": "true",
                "MAILBOX_CLOCK_CONTROL": "true",
                "MAILBOX_SIMULATOR_URL": self.url("simulator"),
                "MAILBOX_ROUTING_URL": self.url("routing"),
                "MAILBOX_DEADLINES_URL": self.url("deadlines"),
                "MAILBOX_PUBLISHING_URL": self.url("publishing"),
                "MAILBOX_INTAKE_URL": self.url("intake"),
            }
        )
        for service in SERVICES:
            env[f"MAILBOX_{service.upper()}_MONGO_DB"] = f"{self.namespace}_{service}"
        env.update(self.extra_env)
        return env

    def url(self, name: str) -> str:
        """Base URL of a server of this deployment."""
        return f"http://127.0.0.1:{self.ports[name]}"

    async def add_instance(self, service: str) -> str:
        """Start one more instance of a service on a free port; its name (`routing@2`).

        It shares the first instance's databases, queues and leases (competing consumers);
        the other services and the people still reach the first instance's URL.
        """
        count = 1 + sum(1 for name in self.processes if name.split("@")[0] == service)
        name = f"{service}@{count}"
        self.ports = {**self.ports, **free_ports((name,))}
        self.log_dir.mkdir(parents=True, exist_ok=True)
        await self._spawn(name)
        await self.wait_ready(name)
        return name

    def _command(self, name: str) -> list[str]:
        port = str(self.ports[name])
        service = name.split("@")[0]
        if name == "simulator":
            return [
                sys.executable,
                "-m",
                "services.cli",
                "simulator",
                "--host",
                "127.0.0.1",
                "--port",
                port,
                *self.simulator_args,
            ]
        return [
            sys.executable,
            "-m",
            "uvicorn",
            f"services.{service}.app:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            port,
            "--no-access-log",
        ]

    def servers(self) -> tuple[str, ...]:
        """The servers `start` starts: the simulator, the services, and the console if it
        has a port (after the services, whose APIs its pages call)."""
        console = (CONSOLE,) if CONSOLE in self.ports else ()
        return ("simulator", *SERVICES, *console)

    async def start(self, names: tuple[str, ...] | None = None) -> None:
        """Start the named servers (default: `servers()`) and wait until each is ready."""
        names = self.servers() if names is None else names
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for name in names:
            await self._spawn(name)
        await asyncio.gather(*(self.wait_ready(name) for name in names))

    async def _spawn(self, name: str) -> None:
        log_path = self.log_dir / f"{self.namespace}-{name}.log"
        log_file = log_path.open("ab")
        proc = await asyncio.create_subprocess_exec(
            *self._command(name),
            cwd=REPO_ROOT,
            env=self.env(),
            stdout=log_file,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
        log_file.close()
        self.processes[name] = Process(
            name=name, port=self.ports[name], log_path=log_path, proc=proc
        )

    async def wait_ready(self, name: str, *, timeout_s: float = 90.0) -> None:
        """Poll `/readyz` (or `/healthz` for the simulator) until it answers 200."""
        process = self.processes[name]
        path = "/healthz" if name == "simulator" else "/readyz"
        deadline = time.monotonic() + timeout_s
        async with httpx.AsyncClient(timeout=2.0) as client:
            while True:
                if process.proc is not None and process.proc.returncode is not None:
                    raise RuntimeError(
                        f"{name} exited with {process.proc.returncode}; see {process.log_path}"
                    )
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(process.url + path)).status_code == 200:
                        return
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"{name} not ready after {timeout_s} s; see {process.log_path}"
                    )
                await asyncio.sleep(0.2)

    async def stop(self, name: str, *, sig: int = signal.SIGTERM, timeout_s: float = 20.0) -> None:
        """Stop one server (SIGTERM: graceful; SIGKILL: as a crash would)."""
        process = self.processes.get(name)
        if process is None or process.proc is None or process.proc.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.proc.pid, sig)
        try:
            await asyncio.wait_for(process.proc.wait(), timeout_s)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.proc.pid, signal.SIGKILL)
            await process.proc.wait()

    async def kill(self, name: str) -> None:
        """kill -9, as a crash."""
        await self.stop(name, sig=signal.SIGKILL)

    async def restart(self, name: str) -> None:
        """Start a stopped server again and wait until ready."""
        await self.stop(name)
        await self._spawn(name)
        await self.wait_ready(name)

    async def stop_all(self) -> None:
        """Stop every server: the console, the services, then the simulator."""
        for name in (CONSOLE, *reversed(SERVICES), "simulator"):
            await self.stop(name)
