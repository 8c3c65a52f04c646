"""Publishing's parts put together on a runtime: used by the app (and tests that restart it)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass

from services.publishing.archive.repository import ARCHIVE_INDEXES, ArchiveRepository
from services.publishing.archive.service import Archiver
from services.publishing.archive.sources import CaseSources, HttpCaseSources
from services.publishing.letters.models import MANUAL_PLATFORM
from services.publishing.letters.repository import LETTER_INDEXES, LetterRepository
from services.publishing.letters.service import LetterCopies
from services.publishing.settings import PublishingSettings
from services.publishing.uploads.mailer import Mailer, SmtpMailer
from services.publishing.uploads.previews import LetterPreviews
from services.publishing.uploads.repository import UPLOAD_INDEXES, UploadRepository
from services.publishing.uploads.service import PublishingService
from services.publishing.uploads.uploader import Uploader
from shared.auth import TokenCodec
from shared.clock import Clock, SystemClock
from shared.ids import instance_id
from shared.mongo import ensure_indexes
from shared.platforms import (
    PlatformClient,
    PlatformConfig,
)
from shared.platforms.config import configured_platforms
from shared.platforms.factory import platform_clients
from shared.runtime import Runtime

OUTBOX_COLLECTIONS = ["letters", "uploads"]


def platform_configs(settings: PublishingSettings) -> list[PlatformConfig]:
    """The configured platforms, pointed at the simulator when `simulator_url` is set."""
    return configured_platforms(
        settings.platforms_file, simulator_url=settings.simulator_url, reserved=MANUAL_PLATFORM
    )


@dataclass
class Publishing:
    """The publishing parts of one process."""

    service: PublishingService
    previews: LetterPreviews
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
        owned_clients = platform_clients(platforms)
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
    copies = LetterCopies(letters, clock=clock)
    service = PublishingService(
        copies=copies,
        uploads=uploads,
        clock=clock,
        wall=wall,
        redaction=settings.redaction,
        wake_uploader=uploader.wake,
    )
    previews = LetterPreviews(copies=copies, clock=clock, redaction=settings.redaction)
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
        yield Publishing(
            service=service,
            previews=previews,
            uploader=uploader,
            archiver=archiver,
            archives=archives,
        )
    finally:
        await archiver.stop()
        await uploader.stop()
        for client in owned_clients.values():
            await client.aclose()
        if owned_sources:
            await case_sources.aclose()
