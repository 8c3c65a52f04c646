"""Intake's parts put together on a runtime: used by the app, the CLI and the benchmark."""

from __future__ import annotations

import os
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from services.intake.leases import LEASE_INDEXES, Heartbeats, Leases
from services.intake.models import MANUAL_PLATFORM
from services.intake.poller import Poller
from services.intake.relay import LetterRelay
from services.intake.repository import (
    LETTER_INDEXES,
    QUARANTINE_INDEXES,
    LetterRepository,
    PlatformStateRepository,
    QuarantineRepository,
)
from services.intake.service import IntakeService
from services.intake.settings import IntakeSettings
from services.intake.status import PlatformStatusReader
from shared.aggregate import AGGREGATE_INDEXES, AggregateStore
from shared.clock import Clock
from shared.ids import new_id
from shared.mongo import ensure_indexes
from shared.platforms import HttpPlatformClient, PlatformConfig, load_platform_configs
from shared.runtime import Runtime

# The shared relay handles quarantine items (their audit entries); letters have their own.
OUTBOX_COLLECTIONS = ["quarantine"]


def platform_configs(settings: IntakeSettings) -> list[PlatformConfig]:
    """The configured platforms, pointed at the simulator when `simulator_url` is set."""
    configs = load_platform_configs(settings.platforms_file, simulator_url=settings.simulator_url)
    if settings.simulator_url is not None and settings.platforms_file is not None:
        base = settings.simulator_url.rstrip("/")
        configs = [c.model_copy(update={"base_url": f"{base}/p/{c.id}"}) for c in configs]
    if any(c.id == MANUAL_PLATFORM for c in configs):
        raise ValueError(f"platform id '{MANUAL_PLATFORM}' is reserved for letters entered by hand")
    return configs


def instance_id() -> str:
    """This process's name on its leases: readable for operators, unique per start."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{new_id('ins')}"


@dataclass
class Intake:
    """The intake parts of one process."""

    service: IntakeService
    poller: Poller
    relay: LetterRelay
    status: PlatformStatusReader


@asynccontextmanager
async def open_intake(
    runtime: Runtime,
    *,
    settings: IntakeSettings,
    clock: Clock,
    configs: list[PlatformConfig] | None = None,
    poll: bool | None = None,
) -> AsyncIterator[Intake]:
    """Build intake on a runtime, start the relay (and polling), stop both on exit."""
    db = runtime.db
    platforms = {c.id: c for c in (configs if configs is not None else platform_configs(settings))}
    await ensure_indexes(db["letters"], [*AGGREGATE_INDEXES, *LETTER_INDEXES])
    await ensure_indexes(db["quarantine"], QUARANTINE_INDEXES)
    await ensure_indexes(db["leases"], LEASE_INDEXES)
    owner = instance_id()
    heartbeats = Heartbeats(
        db["instances"], owner=owner, clock=clock, stale_s=settings.outbox_grace_s
    )
    relay = LetterRelay(
        db["letters"],
        heartbeats=heartbeats,
        bus=runtime.bus,
        audit=runtime.audit,
        sweep_interval_s=settings.outbox_sweep_interval_s,
        grace_s=settings.outbox_grace_s,
        concurrency=settings.relay_publish_concurrency,
        max_pending=settings.relay_max_pending,
    )
    letters = LetterRepository(
        AggregateStore(db["letters"], clock=clock, relay=relay, locks=runtime.locks)
    )
    quarantine = QuarantineRepository(runtime.store("quarantine"))
    service = IntakeService(
        letters=letters,
        quarantine=quarantine,
        relay=relay,
        platforms=platforms,
        clock=clock,
        max_raw_bytes=settings.max_raw_bytes,
    )
    states = PlatformStateRepository(db["platform_state"])
    leases = Leases(db["leases"], owner=owner, clock=clock, lease_s=settings.lease_s)
    clients = {pid: HttpPlatformClient(config) for pid, config in platforms.items()}
    poller = Poller(
        service=service,
        states=states,
        leases=leases,
        configs=platforms,
        clients=clients,
        clock=clock,
        poll_interval_s=settings.poll_interval_s,
        lease_s=settings.lease_s,
        max_pages_per_cycle=settings.max_pages_per_cycle,
        max_idle_pages=settings.max_idle_pages,
        keep_errors=settings.recent_errors_kept,
    )
    status = PlatformStatusReader(
        configs=platforms,
        states=states,
        leases=leases,
        letters=letters,
        quarantine=quarantine,
        clock=clock,
    )
    relay.start()
    if settings.poll_enabled if poll is None else poll:
        poller.start()
    try:
        yield Intake(service=service, poller=poller, relay=relay, status=status)
    finally:
        await poller.stop()
        await relay.stop()
        for client in clients.values():
            await client.aclose()
