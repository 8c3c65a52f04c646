"""The intake service: polls the platforms, registers each letter once, quarantines bad records.

Run with `uvicorn services.intake.app:create_app --factory --port 8001`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from services.intake.letters import api as letters_api
from services.intake.polling import api as polling_api
from services.intake.quarantine import api as quarantine_api
from services.intake.settings import IntakeSettings
from services.intake.wiring import OUTBOX_COLLECTIONS, open_intake, platform_configs
from shared import dead_letters_api
from shared.clock import Clock, SystemClock
from shared.logging import configure_logging
from shared.runtime import Dispatcher, Runtime
from shared.web import create_service_app

TAGS = [
    {"name": "letters", "description": "Letters registered once each (Art. 2, 10, 11, 31)."},
    {"name": "platforms", "description": "The external platforms and their polling."},
    {"name": "quarantine", "description": "Records that failed validation, and their fixes."},
]


def create_app(settings: IntakeSettings | None = None, *, clock: Clock | None = None) -> FastAPI:
    """The intake app; polling starts with the lifespan when `poll_enabled`."""
    settings = settings or IntakeSettings()
    clock = clock or SystemClock()
    # Read now, so a broken platforms file stops the start, not the first poll.
    configs = platform_configs(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(service="intake", level=settings.log_level, json=settings.log_json)
        async with (
            Runtime.open(
                service="intake",
                settings=settings,
                clock=clock,
                outbox_collections=OUTBOX_COLLECTIONS,
            ) as runtime,
            open_intake(runtime, settings=settings, clock=clock, configs=configs) as intake,
        ):
            runtime.install(app)
            app.state.intake = intake.service
            app.state.quarantine = intake.quarantine
            app.state.reprocess = intake.reprocess
            app.state.poller = intake.poller
            app.state.relay = intake.relay
            app.state.platform_status = intake.status
            app.state.default_page_size = settings.default_page_size
            await runtime.start_consuming(Dispatcher())
            yield

    app = create_service_app(
        service="intake",
        title="Public mailbox — intake",
        description=(
            "Polls the external mailbox platforms, registers each letter exactly once with"
            " the record as received, quarantines records that fail validation, and"
            " registers letters received by telephone or in person. Instants are UTC;"
            " `*_local` fields show them in Asia/Shanghai."
        ),
        version="1.0.0",
        lifespan=lifespan,
        max_body_bytes=settings.max_body_bytes,
        openapi_tags=TAGS,
    )
    # In this order, so the OpenAPI document lists letters, platforms, quarantine.
    app.include_router(letters_api.router)
    app.include_router(polling_api.router)
    app.include_router(quarantine_api.router)
    app.include_router(dead_letters_api.router)
    return app
