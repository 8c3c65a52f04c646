"""A private local stack for the fault tests: RabbitMQ, Redis and the MongoDB-wire server on
ports of their own, started with `deploy/local/stack.sh` under `var/faults-stack/PORT/`.

The fault tests stop, restart and flush servers; other engineers' tests use the default
stack (5672, 6379, 27017) at the same time, so this one never takes those ports and every
stack.sh call names its own ports and directory explicitly.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import shutil
import signal
import socket
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from redis.asyncio import Redis

REPO_ROOT = Path(__file__).resolve().parents[2]
STACK_SH = REPO_ROOT / "deploy" / "local" / "stack.sh"
DEFAULT_PORTS = frozenset({5672, 6379, 27017})
# Below the kernel's ephemeral ports (32768+), which connections and the services' own
# free ports come from. RabbitMQ also listens on AMQP port + 20000 (Erlang distribution;
# see stack.sh).
PORT_RANGE = (20_000, 32_000)
RABBITMQ_DIST_OFFSET = 20_000
STACK_TIMEOUT_S = 300.0
FAULTS_VAR = REPO_ROOT / "var" / "faults-stack"
# Stopped stacks whose logs are kept for a post-mortem (the newest ones).
KEEP_STOPPED = 3

Server = Literal["rabbitmq", "redis", "mongo"]
# What a server's command line holds (stack.sh's `marker_of`): a pid file left by another
# process must never be signalled.
_MARKERS: dict[Server, tuple[bytes, ...]] = {
    "rabbitmq": (b"beam",),
    "redis": (b"redis-server",),
    "mongo": (b"ferretdb-local", b"mongod"),
}


def _free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def pick_ports(rng: random.Random | None = None) -> tuple[int, int, int]:
    """Free loopback ports for AMQP (and its distribution port), Redis and MongoDB."""
    draw = rng or random.Random()
    chosen: list[int] = []
    while len(chosen) < 3:
        port = draw.randrange(*PORT_RANGE)
        needed = [port, port + RABBITMQ_DIST_OFFSET] if not chosen else [port]
        if port in chosen or port in DEFAULT_PORTS or not all(_free(p) for p in needed):
            continue
        chosen.append(port)
    return chosen[0], chosen[1], chosen[2]


def prune_stopped(root: Path, *, keep: int) -> None:
    """Remove the directories of stopped stacks (no `run/`: their data is gone, logs stay)
    but the newest `keep`; a stack another session still runs keeps its `run/`."""
    if not root.is_dir():
        return
    stopped = [d for d in root.iterdir() if d.is_dir() and not (d / "run").exists()]
    stopped.sort(key=lambda d: d.stat().st_mtime, reverse=True)
    for old in stopped[keep:]:
        shutil.rmtree(old, ignore_errors=True)


@dataclass(frozen=True)
class PrivateStack:
    """One private stack: its ports, its directory, and the faults it can suffer."""

    amqp_port: int
    redis_port: int
    mongo_port: int
    var_dir: Path

    @classmethod
    def create(cls) -> PrivateStack:
        """A stack on free ports (not started yet); the logs of old stopped ones pruned."""
        prune_stopped(FAULTS_VAR, keep=KEEP_STOPPED)
        amqp, redis, mongo = pick_ports()
        return cls(amqp, redis, mongo, FAULTS_VAR / str(amqp))

    @property
    def mongo_url(self) -> str:
        return f"mongodb://127.0.0.1:{self.mongo_port}/"

    @property
    def amqp_url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.amqp_port}/"

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.redis_port}/0"

    def service_env(self) -> dict[str, str]:
        """What a deployment's processes need to use this stack."""
        return {
            "MAILBOX_MONGO_URL": self.mongo_url,
            "MAILBOX_AMQP_URL": self.amqp_url,
            "MAILBOX_REDIS_URL": self.redis_url,
        }

    def _stack_env(self) -> dict[str, str]:
        if {self.amqp_port, self.redis_port, self.mongo_port} & DEFAULT_PORTS:
            raise RuntimeError("the fault tests never touch the default stack's ports")
        env = {k: v for k, v in os.environ.items() if not k.startswith("MAILBOX_")}
        env.update(
            {
                "MAILBOX_AMQP_PORT": str(self.amqp_port),
                "MAILBOX_REDIS_PORT": str(self.redis_port),
                "MAILBOX_MONGO_PORT": str(self.mongo_port),
                "MAILBOX_VAR_DIR": str(self.var_dir),
            }
        )
        # The default stack's FerretDB build serves this one too (no second build).
        shared_bin = REPO_ROOT / "var" / "bin" / "ferretdb-local"
        if shared_bin.exists():
            env["MAILBOX_FERRETDB_BIN"] = str(shared_bin)
        return env

    def up(self) -> None:
        """Start the three servers (blocking; the session fixture's set-up)."""
        self._run_sync("up")

    def down(self) -> None:
        """Stop the three servers and remove their data (logs stay for a post-mortem)."""
        try:
            self._run_sync("down")
        finally:
            for name in ("rabbitmq", "redis", "ferretdb", "mongod", "run"):
                shutil.rmtree(self.var_dir / name, ignore_errors=True)

    def _run_sync(self, *args: str) -> None:
        done = subprocess.run(
            ["bash", str(STACK_SH), *args],
            env=self._stack_env(),
            capture_output=True,
            text=True,
            timeout=STACK_TIMEOUT_S,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"stack.sh {' '.join(args)} failed:\n{done.stderr[-3000:]}")

    async def restart(self, server: Server) -> None:
        """Stop one server gracefully and start it again; returns once it answers."""
        proc = await asyncio.create_subprocess_exec(
            "bash",
            str(STACK_SH),
            "restart",
            server,
            env=self._stack_env(),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        _, err = await asyncio.wait_for(proc.communicate(), STACK_TIMEOUT_S)
        if proc.returncode != 0:
            raise RuntimeError(f"stack.sh restart {server} failed:\n{err.decode()[-3000:]}")

    def server_pid(self, server: Server) -> int:
        """The pid of one server's own process (RabbitMQ's Erlang VM, not its wrapper), from
        the pid file stack.sh keeps, checked against the process's command line."""
        port = {"rabbitmq": self.amqp_port, "redis": self.redis_port, "mongo": self.mongo_port}
        pid = int((self.var_dir / "run" / f"{server}-{port[server]}.pid").read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
        if not any(marker in cmdline for marker in _MARKERS[server]):
            raise RuntimeError(f"pid {pid} is not this stack's {server}: {cmdline[:200]!r}")
        return pid

    @contextlib.asynccontextmanager
    async def hung(self, server: Server) -> AsyncIterator[None]:
        """SIGSTOP one server for the body, SIGCONT after, whatever happened: connections
        stay open and new ones are accepted (by the kernel), nothing is answered."""
        pid = self.server_pid(server)
        os.kill(pid, signal.SIGSTOP)
        try:
            yield
        finally:
            os.kill(pid, signal.SIGCONT)

    async def flush_redis(self) -> None:
        """FLUSHALL on this stack's Redis (never the default one)."""
        if self.redis_port in DEFAULT_PORTS:
            raise RuntimeError("the fault tests never flush the default stack's Redis")
        client = Redis.from_url(self.redis_url)
        try:
            await client.flushall()
        finally:
            await client.aclose()
