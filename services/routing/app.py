"""The routing service: classification, acceptance, the units' work and the office's review.

Run with `uvicorn services.routing.app:create_app --factory --port 8002`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI

from services.routing import (
    api,
    api_admin,
    api_admin_users,
    api_letters,
    api_notifications,
    api_review,
    api_search,
    api_units,
    consumers,
)
from services.routing.admin_runtime import ADMIN_OUTBOX_COLLECTIONS, AdminServices
from services.routing.directory_data import load_directory
from services.routing.notifications import INBOX_INDEXES, NoticeRelay, Notifier
from services.routing.repository import (
    DIRECTORY_INDEXES,
    LETTER_INDEXES,
    REPEAT_CANDIDATE_INDEXES,
    InboxRepository,
    LetterRepository,
)
from services.routing.rules import load_rules
from services.routing.service import LetterService
from services.routing.settings import RoutingSettings
from services.routing.tokens import tokens_for_search
from shared.clock import Clock, SystemClock
from shared.logging import configure_logging, get_logger
from shared.mongo import Database, ensure_indexes
from shared.runtime import Dispatcher, Runtime
from shared.web import create_service_app

log = get_logger(__name__)

TAGS = [
    {"name": "letters", "description": "Letters as registered and classified (Art. 11, 12)."},
    {"name": "slip", "description": "The handling slip 处理单 and acceptance (Art. 9, 13)."},
    {"name": "units", "description": "The units' handling and reply (Art. 14, 19 ③, 29)."},
    {
        "name": "review",
        "description": "The office's review, sensitivity, referral (Art. 15, 21–26).",
    },
    {"name": "workflow", "description": "The state machine every action follows."},
    {"name": "directory", "description": "Units, external recipients, the city office (admin)."},
    {"name": "users", "description": "People, their roles and units, and their tokens (admin)."},
    {"name": "rules", "description": "The classifier's rules as data the office edits."},
    {"name": "notifications", "description": "A unit's inbox and its signed webhook."},
    {"name": "search", "description": "Letters by words (Chinese segmented)."},
]

NotifierFactory = Callable[[Database], Notifier]


def create_app(
    settings: RoutingSettings | None = None,
    *,
    clock: Clock | None = None,
    notifier_factory: NotifierFactory | None = None,
) -> FastAPI:
    """The routing app; `notifier_factory` replaces the inbox-only notifier (e.g. webhooks)."""
    settings = settings or RoutingSettings()
    clock = clock or SystemClock()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(service="routing", level=settings.log_level, json=settings.log_json)
        async with Runtime.open(
            service="routing",
            settings=settings,
            clock=clock,
            outbox_collections=["letters", *ADMIN_OUTBOX_COLLECTIONS],
        ) as runtime:
            db = runtime.db
            await ensure_indexes(db["letters"], LETTER_INDEXES)
            await ensure_indexes(db["repeat_candidates"], REPEAT_CANDIDATE_INDEXES)
            await ensure_indexes(db["units"], DIRECTORY_INDEXES)
            await ensure_indexes(db["recipients"], DIRECTORY_INDEXES)
            await ensure_indexes(db["inbox"], INBOX_INDEXES)
            admin = await AdminServices.open(runtime, settings=settings, clock=clock)
            directory = admin.directory
            if await directory.seed(load_directory(settings.directory_path)):
                log.info("directory seeded", path=str(settings.directory_path or "sample"))
            rules = admin.rules
            await rules.seed(load_rules(settings.rules_path))
            notifier = notifier_factory(db) if notifier_factory else admin.notifier
            notices = NoticeRelay(
                db["letters"],
                notifier=notifier,
                locks=runtime.locks,
                interval_s=settings.notice_sweep_interval_s,
            )
            letters = LetterRepository(runtime.store("letters"), audit=runtime.audit)
            if copied := await letters.backfill_candidates():
                log.info("repeat candidates copied from the letters", letters=copied)
            service = LetterService(
                letters=letters,
                directory=directory,
                rules=rules,
                notices=notices,
                clock=clock,
                settings=settings,
            )
            runtime.install(app)
            app.state.letters = service
            app.state.inbox = InboxRepository(db["inbox"])
            app.state.directory = directory
            app.state.rules = rules
            app.state.notifier = notifier
            admin.install(app)
            # jieba loads its dictionary on first use (about a second): not on a letter's time.
            warm_up = asyncio.create_task(asyncio.to_thread(tokens_for_search, "预热"))
            notices.start()
            admin.start()
            dispatcher = Dispatcher()
            consumers.register(dispatcher, service=service)
            await runtime.start_consuming(dispatcher)
            try:
                yield
            finally:
                await notices.stop()
                await admin.stop()
                await warm_up

    app = create_service_app(
        service="routing",
        title="Public mailbox — routing",
        description=(
            "Classification, handling slips (处理单) and acceptance, the units' handling and"
            " replies, the office's review, sensitivity and referral, per the commission's"
            " mailbox regulation. Every mutating request carries the letter's `version`."
        ),
        version="1.0.0",
        lifespan=lifespan,
        max_body_bytes=settings.max_body_bytes,
        openapi_tags=TAGS,
    )
    app.include_router(api_letters.router)
    app.include_router(api_units.router)
    app.include_router(api_review.router)
    app.include_router(api.router)
    app.include_router(api_admin.router)
    app.include_router(api_admin_users.router)
    app.include_router(api_notifications.router)
    app.include_router(api_search.router)
    return app
