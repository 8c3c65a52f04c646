"""Publishing's parts put together on a runtime: used by the app (and tests that restart it)."""

from __future__ import annotations

import os
import socket
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass

from services.publishing.archive import Archiver
from services.publishing.copies import LetterCopies
from services.publishing.mailer import Mailer, SmtpMailer
from services.publishing.models import MANUAL_PLATFORM
from services.publishing.repository import (
    ARCHIVE_INDEXES,
    LETTER_INDEXES,
    UPLOAD_INDEXES,
    ArchiveRepository,
    LetterRepository,
    UploadRepository,
)
from services.publishing.service import PublishingService
from services.publishing.settings import PublishingSettings
from services.publishing.sources import CaseSources, HttpCaseSources
from services.publishing.uploader import Uploader
from shared.auth import TokenCodec
from shared.clock import Clock, SystemClock
from shared.ids import new_id
from shared.mongo import ensure_indexes
from shared.platforms import (
    HttpPlatformClient,
    PlatformClient,
    PlatformConfig,
    load_platform_configs,
)
from shared.runtime import Runtime

OUTBOX_COLLECTIONS = ["letters", "uploads"]


def platform_configs(settings: PublishingSettings) -> list[PlatformConfig]:
    """The configured platforms, pointed at the simulator when `simulator_url` is set."""
    configs = load_platform_configs(settings.platforms_file, simulator_url=settings.simulator_url)
    if settings.simulator_url is not None and settings.platforms_file is not None:
        base = settings.simulator_url.rstrip("/")
        configs = [c.model_copy(update={"base_url": f"{base}/p/{c.id}"}) for c in configs]
    if any(c.id == MANUAL_PLATFORM for c in configs):
        raise ValueError(f"platform id '{MANUAL_PLATFORM}' is reserved for letters entered by hand")
    return configs


def instance_id() -> str:
    """This process's name on the uploads it claims: readable, unique per start."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{new_id('ins')}"


@dataclass
class Publishing:
    """The publishing parts of one process."""

    service: PublishingService
    uploader: Uploader
    archiver: Archiver
    archives: ArchiveRepository


@asynccontextmanager
async def open_publishing(
    runtime: Runtime,
    *,
    settings: PublishingSettings,
    clock: Clock,
    configs: list[PlatformConfig] | None = None,
    clients: Mapping[str, PlatformClient] | None = None,
    mailer: Mailer | None = None,
    sources: CaseSources | None = None,
) -> AsyncIterator[Publishing]:
    """Build publishing on a runtime; start the uploader and archiver as the settings say."""
    db = runtime.db
    await ensure_indexes(db["letters"], LETTER_INDEXES)
    await ensure_indexes(db["uploads"], UPLOAD_INDEXES)
    await ensure_indexes(db["archives"], ARCHIVE_INDEXES)
    letters = LetterRepository(runtime.store("letters"))
    uploads = UploadRepository(runtime.store("uploads"))
    archives = ArchiveRepository(db["archives"])
    wall = SystemClock()
    owned_clients: dict[str, PlatformClient] = {}
    if clients is None:
        platforms = configs if configs is not None else platform_configs(settings)
        owned_clients = {c.id: HttpPlatformClient(c) for c in platforms}
        clients = owned_clients
    owned_sources = sources is None
    case_sources: CaseSources = sources or HttpCaseSources(
        intake_url=settings.intake_url,
        routing_url=settings.routing_url,
        deadlines_url=settings.deadlines_url,
        codec=TokenCodec(settings.token_secret.get_secret_value()),
        timeout_s=settings.sources_timeout_s,
    )
    uploader = Uploader(
        uploads=uploads,
        letters=letters,
        clients=clients,
        mailer=mailer or SmtpMailer(settings),
        clock=clock,
        wall=wall,
        instance=instance_id(),
        max_attempts=settings.upload_max_attempts,
        backoff_base_s=settings.upload_backoff_base_s,
        backoff_max_s=settings.upload_backoff_max_s,
        poll_interval_s=settings.upload_poll_interval_s,
        claim_s=settings.upload_claim_s,
        concurrency=settings.upload_concurrency,
        batch=settings.upload_batch,
    )
    service = PublishingService(
        copies=LetterCopies(letters, clock=clock),
        uploads=uploads,
        clock=clock,
        wall=wall,
        redaction=settings.redaction,
        wake_uploader=uploader.wake,
    )
    archiver = Archiver(
        letters=letters,
        uploads=uploads,
        archives=archives,
        sources=case_sources,
        audit=runtime.audit,
        clock=clock,
        interval_s=settings.archive_interval_s,
        batch=settings.archive_batch,
    )
    if settings.uploader_enabled:
        uploader.start()
    if settings.archiver_enabled:
        archiver.start()
    try:
        yield Publishing(service=service, uploader=uploader, archiver=archiver, archives=archives)
    finally:
        await archiver.stop()
        await uploader.stop()
        for client in owned_clients.values():
            await client.aclose()
        if owned_sources:
            await case_sources.aclose()
