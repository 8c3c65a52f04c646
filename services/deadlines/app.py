"""The deadlines service: app factory and lifespan.

Run with `uvicorn services.deadlines.app:create_app --factory`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from services.deadlines import consumers
from services.deadlines.calendar import api as calendar_api
from services.deadlines.calendar.store import CalendarAdmin
from services.deadlines.clocks import api as clocks_api
from services.deadlines.clocks.repository import (
    CLOCK_INDEXES,
    ClockRepository,
)
from services.deadlines.clocks.service import DeadlinesService
from services.deadlines.reports import api as reports_api
from services.deadlines.reports.repository import (
    FACTS_INDEXES,
    FactsRepository,
)
from services.deadlines.reports.service import ReportBuilder
from services.deadlines.settings import DeadlinesSettings
from services.deadlines.supervision import api as supervision_api
from services.deadlines.supervision.repository import (
    ASSESSMENT_INDEXES,
    REMINDER_INDEXES,
    AssessmentRepository,
    ReminderRepository,
)
from services.deadlines.supervision.service import SupervisionService
from services.deadlines.tasks import wake_handler
from services.deadlines.timers import Timers
from shared import dead_letters_api
from shared.aio import cancel_and_wait
from shared.clock import Clock, OffsetClock, SystemClock
from shared.logging import configure_logging, get_logger
from shared.mongo import ensure_indexes
from shared.runtime import Dispatcher, Runtime
from shared.web import create_service_app

log = get_logger(__name__)

OUTBOX_COLLECTIONS = ("clocks", "reminders", "assessment", "calendar")
TAGS = [
    {"name": "clocks", "description": "Statutory clocks (Art. 17–20) per letter and unit."},
    {"name": "reminders", "description": "催办 (Art. 27): reminders to overdue units, answers."},
    {"name": "assessment", "description": "考核扣分 (Art. 27, 28): deductions and scores."},
    {"name": "reports", "description": "Monthly report and annual summary (Art. 6 ③)."},
    {"name": "calendar", "description": "Working days: overrides and confirmed years."},
    {"name": "admin", "description": "Operations: sweep now; move the clock (demo only)."},
]


async def _sweep_forever(service: DeadlinesService, *, interval_s: float) -> None:
    # At start: re-arm every running clock's timers (Redis may have lost them) and
    # catch up with whatever fell due while the service was down.
    try:
        await service.rearm_timers()
    except Exception as exc:
        log.warning("re-arming timers failed", error=str(exc))
    while True:
        try:
            await service.sweep()
        except Exception as exc:
            log.warning("sweep failed", error=str(exc))
        await asyncio.sleep(interval_s)


def create_app(settings: DeadlinesSettings | None = None, *, clock: Clock | None = None) -> FastAPI:
    """The deadlines service."""
    settings = settings or DeadlinesSettings()
    if clock is None:
        clock = OffsetClock() if settings.clock_control else SystemClock()
    the_clock: Clock = clock

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(service="deadlines", level=settings.log_level, json=settings.log_json)
        async with Runtime.open(
            service="deadlines",
            settings=settings,
            clock=the_clock,
            outbox_collections=OUTBOX_COLLECTIONS,
        ) as runtime:
            db = runtime.db
            await ensure_indexes(db["clocks"], CLOCK_INDEXES)
            await ensure_indexes(db["reminders"], REMINDER_INDEXES)
            await ensure_indexes(db["assessment"], ASSESSMENT_INDEXES)
            await ensure_indexes(db["letter_facts"], FACTS_INDEXES)
            calendar = CalendarAdmin(runtime.store("calendar"), settings=settings, clock=the_clock)
            await calendar.load()
            timers = Timers(
                settings.redis_url,
                queue_name=settings.timer_queue_name,
                clock=the_clock,
                poll_delay_s=settings.timer_poll_delay_s,
                max_jobs=settings.timer_max_jobs,
            )
            await timers.open()
            clocks = ClockRepository(runtime.store("clocks"))
            reminders = ReminderRepository(runtime.store("reminders"))
            assessment = AssessmentRepository(runtime.store("assessment"))
            facts = FactsRepository(db["letter_facts"], db["unit_names"])
            service = DeadlinesService(
                clocks=clocks,
                reminders=reminders,
                assessment=assessment,
                calendar=calendar,
                settings=settings,
                clock=the_clock,
                timers=timers,
                letter_turns=runtime.bus.letter_locks,
            )
            runtime.install(app)
            app.state.readiness_checks["redis"] = timers.ping
            app.state.clock = the_clock
            app.state.deadlines = service
            app.state.calendar = calendar
            app.state.facts = facts
            app.state.reminders = reminders
            app.state.assessment = assessment
            app.state.timers = timers
            supervision = SupervisionService(
                deadlines=service,
                reminders=reminders,
                assessment=assessment,
                facts=facts,
                settings=settings,
                clock=the_clock,
            )
            app.state.supervision = supervision
            app.state.reports = ReportBuilder(
                clocks=clocks,
                reminders=reminders,
                assessment=assessment,
                facts=facts,
                scores=supervision.scores,
                base_points=supervision.base_points,
            )
            if settings.start_timers:
                await timers.start_worker(wake_handler(service))
            dispatcher = Dispatcher()
            consumers.register(dispatcher, service=service, facts=facts)
            sweeper = asyncio.create_task(
                _sweep_forever(service, interval_s=settings.sweep_interval_s)
            )
            await runtime.start_consuming(dispatcher)
            try:
                yield
            finally:
                await cancel_and_wait([sweeper])
                await timers.stop()

    app = create_service_app(
        service="deadlines",
        title="Deadlines service",
        description=(
            "Working-day calendar, statutory clocks (acceptance, handling, upload, reminder "
            "answer), reminders (催办), assessment (考核扣分) and reports of the public mailbox."
        ),
        version="0.1.0",
        lifespan=lifespan,
        max_body_bytes=settings.max_body_bytes,
        openapi_tags=TAGS,
    )
    app.include_router(clocks_api.router)
    app.include_router(supervision_api.router)
    app.include_router(calendar_api.router)
    app.include_router(reports_api.router)
    app.include_router(clocks_api.admin_router)
    app.include_router(dead_letters_api.router)
    if settings.clock_control:
        app.include_router(clocks_api.clock_router)
    return app
