"""The demo: the product on the local stack, with a scripted office and units at work.

`play(...)` is the part the end-to-end tests share: enrol the people, put the letters on
the simulator, drive every letter along its plan concurrently, let the deadlines clock run
for the overdue ones, and collect what each service shows (final states, clocks, uploads,
the month's report). `run_demo(...)` adds the deployment around it: wipe the namespace,
start the simulator and the four services as processes, play, stop (or keep them up).
"""

from __future__ import annotations

import asyncio
import signal
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aio_pika
import httpx
from redis.asyncio import Redis

from devkit.actors.people import ActorError, Cast, Json, Urls, enrol
from devkit.actors.script import Case, Troupe
from devkit.demo.mail import MailSink, ReceivedMail
from devkit.demo.scenarios import DEV_LETTERS, build_cases, simulator_payloads
from devkit.launcher import SERVICES, LocalDeployment
from devkit.simulator.cli import DEFAULT_ADMIN_TOKEN
from services.routing.directory.models import load_directory
from shared.clock import to_shanghai
from shared.events.topology import SUBSCRIPTIONS, dead_queue_name, queue_name, retry_queue_name
from shared.mongo import make_client

# Faster loops than production's defaults, so a letter's whole life fits in seconds.
DEMO_ENV = {
    "MAILBOX_INTAKE_POLL_INTERVAL_S": "1",
    "MAILBOX_PUBLISHING_UPLOAD_POLL_INTERVAL_S": "1",
    "MAILBOX_PUBLISHING_ARCHIVE_INTERVAL_S": "2",
    "MAILBOX_ROUTING_NOTICE_SWEEP_INTERVAL_S": "2",
    "MAILBOX_LOG_LEVEL": "WARNING",
}
# Letters driven at once (each is a handful of people taking turns on it).
CONCURRENCY = 24


@dataclass
class Outcome:
    """What the demo (or an end-to-end session) saw at the end."""

    cases: list[Case]
    urls: Urls
    cast: Cast
    uploads: list[Json] = field(default_factory=list)
    upload_duplicates: int = 0
    emails: list[ReceivedMail] = field(default_factory=list)
    reports: dict[str, Json] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def month(self) -> str:
        """The month the letters came in (the first report)."""
        return next(iter(self.reports), "")

    def failures(self) -> list[Case]:
        """Cases that failed or did not end where their plan says."""
        return [c for c in self.cases if c.error or _final_state(c) != c.plan.final_state]

    def uploads_of(self, case: Case) -> list[Json]:
        """What the case's platform received for its letter."""
        letter = case.letter
        return [
            u
            for u in self.uploads
            if u["platform_id"] == letter.platform and u["external_id"] == letter.external_id
        ]


def _final_state(case: Case) -> str | None:
    return None if case.final is None else str(case.final["state"])


Listener = Callable[[Case, str], None]


async def play(
    deployment: LocalDeployment,
    *,
    cases: list[Case],
    listener: Listener | None = None,
    phase: Callable[[str], None] | None = None,
    timeout_s: float = 120.0,
    mail: MailSink | None = None,
    passwords: bool = False,
) -> Outcome:
    """Enrol, seed the simulator, drive every case, let time pass, collect the results.

    With `passwords`, every person also gets a first password to sign in with.
    """
    started = time.monotonic()
    say = phase or (lambda _text: None)
    urls = Urls.from_lookup(deployment.url)
    units = tuple(unit.id for unit in load_directory().units)
    for case in cases:
        case.listener = listener
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=32)
    async with httpx.AsyncClient(timeout=30.0, limits=limits) as client:
        say("enrolling the office and the units")
        cast = await enrol(
            client, urls=urls, secret=deployment.token_secret, units=units, passwords=passwords
        )
        troupe = Troupe(cast, client, urls, timeout_s=timeout_s)
        say(f"putting {len(cases)} letters on the simulator's three platforms")
        await seed(client, urls=urls, cases=cases)
        say("the office and the units at work")
        gate = asyncio.Semaphore(CONCURRENCY)

        async def guarded(case: Case) -> None:
            async with gate:
                begun = time.monotonic()
                try:
                    await troupe.drive(case)
                except (ActorError, httpx.HTTPError) as exc:
                    case.error = str(exc)
                case.seconds = time.monotonic() - begun

        await asyncio.gather(*(guarded(c) for c in cases))
        if any(c.plan.overdue for c in cases):
            say("time passes on the deadlines service: overdue letters, reminders, deductions")
            try:
                await troupe.let_time_pass(cases)
            except (ActorError, httpx.HTTPError) as exc:
                for case in cases:
                    if case.plan.overdue and not case.error:
                        case.error = str(exc)
        say("reading clocks, uploads and the month's report")
        for case in cases:
            if case.letter_id is not None:
                try:
                    await troupe.clocks(case)
                except (ActorError, httpx.HTTPError) as exc:
                    case.error = case.error or f"clocks of {case.letter_id}: {exc}"
        outcome = Outcome(cases=cases, urls=urls, cast=cast)
        await _collect(client, troupe=troupe, outcome=outcome)
        if mail is not None:
            outcome.emails = list(mail.messages)
    outcome.seconds = time.monotonic() - started
    return outcome


async def seed(client: httpx.AsyncClient, *, urls: Urls, cases: list[Case]) -> None:
    """Put the cases' letters on the simulator (each platform gets its own)."""
    headers = {"Authorization": f"Bearer {DEFAULT_ADMIN_TOKEN}"}
    for platform, letters in simulator_payloads(cases).items():
        response = await client.post(
            urls.simulator + "/_admin/letters",
            json={"platform_id": platform, "letters": letters},
            headers=headers,
        )
        if response.status_code != 200:
            raise ActorError(f"the simulator refused the letters: {response.text[:300]}")


async def _collect(client: httpx.AsyncClient, *, troupe: Troupe, outcome: Outcome) -> None:
    headers = {"Authorization": f"Bearer {DEFAULT_ADMIN_TOKEN}"}
    response = await client.get(outcome.urls.simulator + "/_admin/uploads", headers=headers)
    if response.status_code == 200:
        body = response.json()
        outcome.uploads = body["uploads"]
        outcome.upload_duplicates = int(body.get("duplicate_attempts", 0))
    # The letters came in this month; reminders and deductions fall in the month the
    # deadlines clock was moved to, when that is another one.
    months = [f"{to_shanghai(datetime.now(UTC)):%Y-%m}"]
    try:
        moved = await troupe.admin.deadlines.post("/admin/clock", body={"advance_s": 0})
        months.append(f"{to_shanghai(datetime.fromisoformat(moved['now'])):%Y-%m}")
    except ActorError:
        pass  # a deployment without clock control: its clock is the wall clock
    for month in dict.fromkeys(months):
        try:
            outcome.reports[month] = await troupe.office.clerk.deadlines.get(
                "/reports/monthly", month=month
            )
        except ActorError as exc:
            outcome.reports[month] = {"error": str(exc)}


async def wipe_namespace(deployment: LocalDeployment) -> None:
    """Drop the namespace's databases, exchange, queues and timers (a rerun starts clean)."""
    env = deployment.env()
    client = make_client(env["MAILBOX_MONGO_URL"])
    try:
        for service in SERVICES:
            await client.drop_database(env[f"MAILBOX_{service.upper()}_MONGO_DB"])
    finally:
        await client.close()
    exchange = env["MAILBOX_EXCHANGE_NAME"]
    connection = await aio_pika.connect(env["MAILBOX_AMQP_URL"])
    try:
        channel = await connection.channel()
        for service in SUBSCRIPTIONS:
            names = [queue_name(exchange, service), dead_queue_name(exchange, service)]
            names += [retry_queue_name(exchange, service, step=step) for step in range(10)]
            for name in names:
                await channel.queue_delete(name)
        await channel.exchange_delete(exchange)
    finally:
        await connection.close()
    redis = Redis.from_url(env["MAILBOX_REDIS_URL"])
    try:
        queue = f"arq:{exchange}:deadlines"
        for member in await redis.zrange(queue, 0, -1):
            await redis.delete(b"arq:job:" + member)
        await redis.delete(queue)
    finally:
        await redis.aclose()


class DemoError(RuntimeError):
    """The demo cannot run (a port taken, a server down); the message says what to do."""


def check_ports_free(deployment: LocalDeployment) -> None:
    """DemoError naming the first port something else listens on."""
    for name, port in deployment.ports.items():
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            # As uvicorn binds: a port left in TIME_WAIT by a stopped run is free to use.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", port))
            except OSError as exc:
                raise DemoError(
                    f"port {port} ({name}) is in use: is another demo still running"
                    " (--keep-running)? Stop it first."
                ) from exc


@dataclass
class DemoOptions:
    """What `mailbox demo` was asked for."""

    namespace: str = "demo"
    letters: int = 0
    keep_running: bool = False
    timeout_s: float = 120.0
    dev_letters: Path = DEV_LETTERS
    ports: dict[str, int] | None = None
    extra_env: dict[str, str] = field(default_factory=dict)


def smtp_env(port: int) -> dict[str, str]:
    """Publishing's settings for sending e-mail replies to the sink on `port`."""
    return {
        "MAILBOX_PUBLISHING_SMTP_HOST": "127.0.0.1",
        "MAILBOX_PUBLISHING_SMTP_PORT": str(port),
    }


def demo_deployment(options: DemoOptions, *, smtp_port: int | None = None) -> LocalDeployment:
    """The demo's deployment: its namespace, ports, faster loops and the mail sink."""
    mail = smtp_env(smtp_port) if smtp_port else {}
    deployment = LocalDeployment(
        namespace=options.namespace, extra_env={**DEMO_ENV, **mail, **options.extra_env}
    )
    if options.ports:
        deployment.ports = {**deployment.ports, **options.ports}
    return deployment


async def run_demo(
    options: DemoOptions,
    *,
    listener: Listener | None = None,
    phase: Callable[[str], None] | None = None,
    on_ready: Callable[[Outcome], Any] | None = None,
) -> Outcome:
    """Wipe, start the services, play every case, then stop (or wait for Ctrl-C)."""
    say = phase or (lambda _text: None)
    # The services run in sessions of their own: a TERM must stop them too, as Ctrl-C does.
    main = asyncio.current_task()
    if main is not None:
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, main.cancel)
    mail = MailSink()
    deployment = demo_deployment(options, smtp_port=await mail.start())
    cases = build_cases(extra=options.letters, dev_path=options.dev_letters)
    try:
        check_ports_free(deployment)
        say(f"wiping namespace '{options.namespace}' (databases, exchange, timers)")
        await wipe_namespace(deployment)
        say(
            "starting the simulator, the four services and the console"
            f" (e-mail to a sink on :{mail.port})"
        )
        await deployment.start()
        outcome = await play(
            deployment,
            cases=cases,
            listener=listener,
            phase=phase,
            timeout_s=options.timeout_s,
            mail=mail,
            # Only a demo left running is explored by people signing in.
            passwords=options.keep_running,
        )
        if on_ready is not None:
            on_ready(outcome)
        if options.keep_running:
            await asyncio.Event().wait()  # until Ctrl-C cancels the run
        return outcome
    finally:
        await deployment.stop_all()
        await mail.stop()
