"""The routing service: classification, acceptance, the units' work and the office's review.

Run with `uvicorn services.routing.app:create_app --factory --port 8002`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI

from services.routing import consumers
from services.routing.classify import api as classify_api
from services.routing.classify.segmentation import tokens_for_search
from services.routing.directory import api as directory_api
from services.routing.letters import api as letters_api
from services.routing.letters.handling import api as handling_api
from services.routing.letters.review import api as review_api
from services.routing.letters.slip import api as slip_api
from services.routing.notify import api as notify_api
from services.routing.notify.service import Notifier
from services.routing.search import api as search_api
from services.routing.search.repository import LetterSearch
from services.routing.settings import RoutingSettings
from services.routing.users import api as users_api
from services.routing.wiring import (
    OUTBOX_COLLECTIONS,
    open_directory,
    open_letters,
    open_notifications,
    open_rules,
    open_sign_in,
    open_users,
)
from shared import dead_letters_api
from shared.clock import Clock, SystemClock
from shared.logging import configure_logging, get_logger
from shared.mongo import Database
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
    {"name": "sign-in", "description": "A person's token for their user name and password."},
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
            outbox_collections=list(OUTBOX_COLLECTIONS),
        ) as runtime:
            directory = await open_directory(runtime, settings=settings, clock=clock)
            users = await open_users(runtime, settings=settings, clock=clock, directory=directory)
            rules = await open_rules(runtime, settings=settings, clock=clock)
            notifications = await open_notifications(runtime, settings=settings)
            notifier = notifier_factory(runtime.db) if notifier_factory else notifications.notifier
            service, notices = await open_letters(
                runtime,
                settings=settings,
                clock=clock,
                directory=directory,
                users=users,
                rules=rules,
                notifier=notifier,
            )
            runtime.install(app)
            app.state.clock = clock
            app.state.letters = service
            app.state.directory = directory
            app.state.rules = rules
            app.state.users = users
            app.state.sign_in = open_sign_in(runtime, settings=settings, clock=clock, users=users)
            app.state.notifier = notifier
            app.state.inbox = notifications.inbox
            app.state.webhooks = notifications.webhooks
            app.state.deliveries = notifications.deliveries
            app.state.dispatcher = notifications.dispatcher
            app.state.search = LetterSearch(runtime.db["letters"])
            # jieba loads its dictionary on first use (about a second): not on a letter's time.
            warm_up = asyncio.create_task(asyncio.to_thread(tokens_for_search, "预热"))
            notices.start()
            service.letters.desk.start(interval_s=settings.desk_reconcile_interval_s)
            notifications.dispatcher.start()
            dispatcher = Dispatcher()
            consumers.register(dispatcher, service=service)
            await runtime.start_consuming(dispatcher)
            try:
                yield
            finally:
                await notices.stop()
                await service.letters.desk.stop()
                await notifications.dispatcher.stop()
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
    # The letters' list and worklist before `/letters/{letter_id}`, which would take them.
    for router in (
        letters_api.router,
        slip_api.router,
        handling_api.router,
        review_api.router,
        letters_api.workflow_router,
        notify_api.router,
        directory_api.router,
        classify_api.router,
        users_api.router,
        users_api.auth_router,
        search_api.router,
        dead_letters_api.router,
    ):
        app.include_router(router)
    return app
