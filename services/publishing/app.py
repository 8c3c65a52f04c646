"""The publishing service: answers every letter on its platform, redacted where public; archives.

Run with `uvicorn services.publishing.app:create_app --factory --port 8004`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from services.publishing import consumers
from services.publishing.archive import api as archive_api
from services.publishing.archive.sources import CaseSources
from services.publishing.letters import api as letters_api
from services.publishing.settings import PublishingSettings
from services.publishing.uploads import api as uploads_api
from services.publishing.uploads.mailer import Mailer
from services.publishing.wiring import OUTBOX_COLLECTIONS, open_publishing, platform_configs
from shared import dead_letters_api
from shared.clock import Clock, SystemClock
from shared.logging import configure_logging
from shared.runtime import Dispatcher, Runtime
from shared.web import create_service_app

TAGS = [
    {"name": "preview", "description": "Redaction (Art. 24) before online publication."},
    {"name": "uploads", "description": "Answers on the platforms (件件有结果): state, retries."},
    {"name": "letters", "description": "What publishing knows of a letter: lock, mark, uploads."},
    {"name": "archive", "description": "存档 (Art. 16): records, export for the archive room."},
]


def create_app(
    settings: PublishingSettings | None = None,
    *,
    clock: Clock | None = None,
    sources: CaseSources | None = None,
    mailer: Mailer | None = None,
) -> FastAPI:
    """The publishing app; the uploader and the archiver start with the lifespan."""
    settings = settings or PublishingSettings()
    the_clock: Clock = clock or SystemClock()
    # Read now, so a broken platforms file stops the start, not the first upload.
    configs = platform_configs(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(service="publishing", level=settings.log_level, json=settings.log_json)
        async with (
            Runtime.open(
                service="publishing",
                settings=settings,
                clock=the_clock,
                outbox_collections=OUTBOX_COLLECTIONS,
            ) as runtime,
            open_publishing(
                runtime,
                settings=settings,
                clock=the_clock,
                configs=configs,
                mailer=mailer,
                sources=sources,
            ) as publishing,
        ):
            runtime.install(app)
            app.state.settings = settings
            app.state.publishing = publishing.service
            app.state.previews = publishing.previews
            app.state.uploader = publishing.uploader
            app.state.archiver = publishing.archiver
            app.state.archives = publishing.archives
            dispatcher = Dispatcher()
            consumers.register(
                dispatcher, service=publishing.service, nudge_archiver=publishing.archiver.nudge
            )
            await runtime.start_consuming(dispatcher)
            yield

    app = create_service_app(
        service="publishing",
        title="Public mailbox — publishing",
        description=(
            "Answers every letter on its platform (the reply, or the notice of non-acceptance"
            " or transfer): privately, by e-mail, or online — online only redacted (Art. 24),"
            " after a leak scan, and never for a locked or not-public letter (Art. 22, 23)."
            " Uploads are idempotent, retried with back-off and parked for an operator when"
            " they keep failing. Done letters become immutable archive records (Art. 16),"
            " exported per period for the archive room."
        ),
        version="1.0.0",
        lifespan=lifespan,
        max_body_bytes=settings.max_body_bytes,
        openapi_tags=TAGS,
    )
    app.include_router(letters_api.router)
    app.include_router(uploads_api.router)
    app.include_router(archive_api.router)
    app.include_router(dead_letters_api.router)
    return app
