"""Intake's parts put together on a runtime: used by the app, the CLI and the benchmark."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from services.intake.letters.models import MANUAL_PLATFORM
from services.intake.letters.repository import LETTER_INDEXES, LetterRepository
from services.intake.letters.service import IntakeService
from services.intake.polling.leases import LEASE_INDEXES, Heartbeats, Leases
from services.intake.polling.poller import Poller
from services.intake.polling.relay import LetterRelay
from services.intake.polling.repository import PlatformStateRepository
from services.intake.polling.status import PlatformStatusReader
from services.intake.quarantine.repository import QUARANTINE_INDEXES, QuarantineRepository
from services.intake.quarantine.reprocess import ReprocessService
from services.intake.quarantine.service import QuarantineService
from services.intake.settings import IntakeSettings
from shared.aggregate import AGGREGATE_INDEXES, AggregateStore
from shared.clock import Clock
from shared.ids import instance_id
from shared.mongo import ensure_indexes
from shared.platforms import PlatformConfig
from shared.platforms.config import configured_platforms
from shared.platforms.factory import platform_clients
from shared.runtime import Runtime

# The shared relay handles quarantine items (their audit entries); letters have their own.
OUTBOX_COLLECTIONS = ["quarantine"]


def platform_configs(settings: IntakeSettings) -> list[PlatformConfig]:
    """The configured platforms, pointed at the simulator when `simulator_url` is set."""
    return configured_platforms(
        settings.platforms_file, simulator_url=settings.simulator_url, reserved=MANUAL_PLATFORM
    )


@dataclass
class Intake:
    """The intake parts of one process."""

    service: IntakeService
    quarantine: QuarantineService
    reprocess: ReprocessService
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
    items = QuarantineRepository(runtime.store("quarantine"))
    quarantine = QuarantineService(items, max_raw_bytes=settings.max_raw_bytes)
    service = IntakeService(letters=letters, quarantine=quarantine, relay=relay, clock=clock)
    reprocess = ReprocessService(
        letters=service, quarantine=items, platforms=platforms, clock=clock
    )
    states = PlatformStateRepository(db["platform_state"])
    leases = Leases(db["leases"], owner=owner, clock=clock, lease_s=settings.lease_s)
    clients = platform_clients(platforms.values())
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
        letters=service,
        quarantine=quarantine,
        clock=clock,
    )
    relay.start()
    if settings.poll_enabled if poll is None else poll:
        poller.start()
    try:
        yield Intake(
            service=service,
            quarantine=quarantine,
            reprocess=reprocess,
            poller=poller,
            relay=relay,
            status=status,
        )
    finally:
        await poller.stop()
        await relay.stop()
        for client in clients.values():
            await client.aclose()
