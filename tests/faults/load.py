"""The fault tests' load: a fixed set of letters driven through a deployment on the private
stack while a fault strikes, then checked (`verdict.py`).

Each run is a fresh deployment (the simulator and the four services as processes, own
namespace and ports) on the private stack. The letters are put on the simulator in waves,
so intake is still polling while the office and the units work the first ones; the fault
is injected when the letters' progress says the run is in the middle, and the drive goes on
through it. People at a browser try again when a service does not answer
(`PatientTransport`); a person whose answer was lost reads the letter again (`actors.act`).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from devkit.actors.people import ActorError, Json, Urls, enrol
from devkit.actors.script import Case, Plan, Troupe
from devkit.demo.runner import DEMO_ENV, seed, wipe_namespace
from devkit.demo.scenarios import SCENARIOS, build_cases
from devkit.launcher import SERVICES, LocalDeployment, free_ports
from devkit.simulator.cli import DEFAULT_ADMIN_TOKEN
from services.routing.directory.models import load_directory
from shared.dead_letters import DeadLetter
from tests.faults.harness import PrivateStack
from tests.faults.verdict import (
    DurableProbe,
    Verdict,
    check_events,
    check_letters,
    check_parked,
    check_uploads,
    parked_messages,
    undrained_queues,
)
from tests.support import unique_name

# Consumer retries (s): longer together than any outage a test causes, so an event that
# failed while a server was down is applied once it is back, never parked.
RETRY_DELAYS_S = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0)
# Production waits minutes before taking over the work of a crashed process (poll leases,
# upload claims, unpublished outboxes); here seconds, so a test ends in one. The figures
# measure recovery with these settings.
FAULT_ENV = {
    **DEMO_ENV,
    "MAILBOX_RELAY_INTERVAL_S": "1",
    "MAILBOX_RETRY_DELAYS_S": "[" + ", ".join(str(d) for d in RETRY_DELAYS_S) + "]",
    "MAILBOX_CONSUMER_MAX_ATTEMPTS": str(len(RETRY_DELAYS_S) + 1),
    "MAILBOX_INTAKE_LEASE_S": "6",
    "MAILBOX_INTAKE_OUTBOX_SWEEP_INTERVAL_S": "1",
    "MAILBOX_INTAKE_OUTBOX_GRACE_S": "4",
    "MAILBOX_PUBLISHING_UPLOAD_CLAIM_S": "8",
    "MAILBOX_PUBLISHING_UPLOAD_BACKOFF_BASE_S": "0.5",
    "MAILBOX_PUBLISHING_UPLOAD_BACKOFF_MAX_S": "4",
    "MAILBOX_DEADLINES_SWEEP_INTERVAL_S": "2",
}
# Longest wait for any one effect while the letters are driven.
EFFECT_TIMEOUT_S = 90.0
# How long a person keeps trying a service that does not answer.
PATIENCE_S = 90.0
SEED_WAVES = 4
SEED_PAUSE_S = 1.5
CONCURRENCY = 24


def plan_named(name: str) -> Plan:
    """A plan of the demo's scenarios, by name."""
    return next(plan for plan, _ in SCENARIOS if plan.name == name)


# Accepted, answered and published online; not accepted (a notice); forwarded (a notice).
DEFAULT_PLANS = ("direct-online", "not-accepted-outside_duties", "forward")


def fault_cases(count: int, *, plans: Sequence[str] = DEFAULT_PLANS) -> list[Case]:
    """`count` letters (the development letters), the plans taken in turn."""
    letters = build_cases(extra=count)[len(SCENARIOS) :]
    chosen = [plan_named(name) for name in plans]
    return [
        Case(key=case.key, plan=chosen[i % len(chosen)], letter=case.letter)
        for i, case in enumerate(letters)
    ]


class PatientTransport(httpx.AsyncBaseTransport):
    """A person at a browser: a service that does not answer is tried again a moment later.

    Retried: a refused connection (nothing was sent), and any failure of a GET. A POST or
    PUT whose answer was lost may have been applied, so it is not repeated here: the person
    reads the letter again (`actors.act`) and acts only if the action is still offered.
    """

    def __init__(self, *, patience_s: float = PATIENCE_S) -> None:
        self._inner = httpx.AsyncHTTPTransport(
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=32)
        )
        self._patience_s = patience_s
        self.retried = 0
        self.lost_answers = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        deadline = time.monotonic() + self._patience_s
        pause = 0.2
        while True:
            try:
                response = await self._inner.handle_async_request(request)
            except (httpx.ConnectError, httpx.ConnectTimeout):
                if time.monotonic() > deadline:
                    raise
            except httpx.TransportError:
                if request.method != "GET" or time.monotonic() > deadline:
                    self.lost_answers += request.method != "GET"
                    raise
            else:
                failed = response.status_code >= 500 and request.method == "GET"
                if not failed or time.monotonic() > deadline:
                    self.lost_answers += response.status_code >= 500
                    return response
                await response.aclose()
            self.retried += 1
            await asyncio.sleep(pause)
            pause = min(pause * 2, 1.0)

    async def aclose(self) -> None:
        await self._inner.aclose()


class Progress:
    """How far the letters have come, from the steps their cases recorded."""

    def __init__(self, cases: list[Case]) -> None:
        self.cases = cases

    def passed(self, *prefixes: str) -> int:
        """Letters that recorded a step starting with one of `prefixes`."""
        return sum(any(s.startswith(prefixes) for s in case.path) for case in self.cases)

    async def until(
        self, predicate: Callable[[Progress], bool], *, what: str, timeout_s: float = 120.0
    ) -> None:
        """Wait until the letters have come that far."""
        deadline = time.monotonic() + timeout_s
        while not predicate(self):
            if time.monotonic() > deadline:
                raise AssertionError(f"the run never reached '{what}' within {timeout_s} s")
            await asyncio.sleep(0.05)


DECIDED = ("accepted", "not accepted", "forwarded", "escalated")


@dataclass
class Fault:
    """One fault injected: what, when (s after the drive began, letters finished by then),
    and how long until every service answered ready again."""

    what: str
    at_s: float
    letters_done: int
    recovered_s: float | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "what": self.what,
            "at_s": round(self.at_s, 1),
            "letters_done": self.letters_done,
            "recovered_s": None if self.recovered_s is None else round(self.recovered_s, 1),
        }


@dataclass
class FaultRun:
    """One deployment on the private stack, its letters, and the faults it suffered."""

    name: str
    stack: PrivateStack
    deployment: LocalDeployment
    probe: DurableProbe
    client: httpx.AsyncClient
    transport: PatientTransport
    cases: list[Case]
    troupe: Troupe | None = None
    faults: list[Fault] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    setup_s: float = 0.0
    drive_s: float = 0.0

    @property
    def urls(self) -> Urls:
        return Urls.from_lookup(self.deployment.url)

    @property
    def exchange(self) -> str:
        return self.deployment.env()["MAILBOX_EXCHANGE_NAME"]

    @property
    def progress(self) -> Progress:
        return Progress(self.cases)

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    async def simulator(self, method: str, path: str, **kwargs: Any) -> Json:
        """A call to the simulator's admin API."""
        headers = {"Authorization": f"Bearer {DEFAULT_ADMIN_TOKEN}"}
        response = await self.client.request(
            method, self.urls.simulator + path, headers=headers, **kwargs
        )
        response.raise_for_status()
        body: Json = response.json()
        return body

    async def all_ready(self, *, timeout_s: float = 120.0) -> None:
        """Wait until every service answers /readyz with 200 (its servers reachable)."""
        deadline = time.monotonic() + timeout_s
        async with httpx.AsyncClient(timeout=2.0) as probe:
            for service in SERVICES:
                while True:
                    with contextlib.suppress(httpx.HTTPError):
                        answer = await probe.get(self.deployment.url(service) + "/readyz")
                        if answer.status_code == 200:
                            break
                    if time.monotonic() > deadline:
                        raise AssertionError(f"{service} not ready {timeout_s} s after the fault")
                    await asyncio.sleep(0.2)

    async def strike(self, what: str, action: Awaitable[None]) -> Fault:
        """Inject one fault (the awaitable does it), then time until every service is ready."""
        fault = Fault(what=what, at_s=self.elapsed(), letters_done=self.progress.passed("archived"))
        self.faults.append(fault)
        begun = time.monotonic()
        await action
        await self.all_ready()
        fault.recovered_s = time.monotonic() - begun
        return fault

    async def crash(self, service: str) -> None:
        """kill -9 one service, then start it again (returns once it is ready)."""
        await self.deployment.kill(service)
        await self.deployment.restart(service)

    async def drive(self, inject: Awaitable[None] | None = None) -> None:
        """Seed the letters in waves and drive them all, with the fault injected meanwhile."""
        urls = self.urls
        units = tuple(unit.id for unit in load_directory().units)
        cast = await enrol(self.client, urls=urls, secret=self.deployment.token_secret, units=units)
        troupe = Troupe(cast, self.client, urls, timeout_s=EFFECT_TIMEOUT_S)
        self.troupe = troupe
        gate = asyncio.Semaphore(CONCURRENCY)
        self.started = time.monotonic()

        async def guarded(case: Case) -> None:
            async with gate:
                begun = time.monotonic()
                try:
                    await troupe.drive(case)
                except (ActorError, httpx.HTTPError) as exc:
                    case.error = f"{type(exc).__name__}: {exc}"
                case.seconds = time.monotonic() - begun

        async def seed_waves() -> None:
            size = -(-len(self.cases) // SEED_WAVES)
            for start in range(0, len(self.cases), size):
                if start:
                    await asyncio.sleep(SEED_PAUSE_S)
                await seed(self.client, urls=urls, cases=self.cases[start : start + size])

        work: list[Awaitable[Any]] = [seed_waves(), *(guarded(c) for c in self.cases)]
        if inject is not None:
            work.append(inject)
        await asyncio.gather(*work)
        if any(c.plan.overdue for c in self.cases):
            try:
                await troupe.let_time_pass(self.cases)
            except (ActorError, httpx.HTTPError) as exc:
                for case in self.cases:
                    if case.plan.overdue and not case.error:
                        case.error = f"{type(exc).__name__}: {exc}"
        self.drive_s = time.monotonic() - self.started

    async def verdict(
        self, *, poison_ids: frozenset[str] = frozenset()
    ) -> tuple[Verdict, list[DeadLetter]]:
        """Check letters, uploads, events and queues; the parked messages besides (only the
        test's own poison messages, by message id, may be among them)."""
        verdict = Verdict(letters=len(self.cases))
        clerk = self.troupe.office.clerk if self.troupe is not None else None
        letters: dict[str, Json] = {}
        if clerk is not None:
            for case in self.cases:
                if case.letter_id is not None:
                    letters[case.letter_id] = await clerk.letter(case.letter_id)
        check_letters(verdict, cases=self.cases, letters=letters)
        uploads = await self.simulator("GET", "/_admin/uploads")
        check_uploads(verdict, cases=self.cases, uploads=uploads)
        url = self.stack.amqp_url
        verdict.undrained = await undrained_queues(
            url, exchange=self.exchange, retry_steps=len(RETRY_DELAYS_S)
        )
        check_events(verdict, cases=self.cases, probe=self.probe)
        parked = await parked_messages(url, exchange=self.exchange)
        check_parked(verdict, parked=parked, poison_ids=poison_ids)
        return verdict, parked

    def figures(self, verdict: Verdict, **extra: Any) -> dict[str, Any]:
        """The run's figures: letters, faults, lost, duplicated, and how long it all took."""
        recovered = [f.recovered_s for f in self.faults if f.recovered_s is not None]
        return {
            "fault": self.name,
            "letters": verdict.letters,
            "faults": len(self.faults),
            "lost": verdict.lost,
            "duplicated": verdict.duplicated,
            "recovery_s": round(max(recovered), 1) if recovered else None,
            "setup_s": round(self.setup_s, 1),
            "drive_s": round(self.drive_s, 1),
            "injected": [f.as_json() for f in self.faults],
            "upload_repeats": verdict.upload_repeats,
            "event_redeliveries": verdict.redeliveries,
            "requests_retried": self.transport.retried,
            "answers_lost": self.transport.lost_answers,
            **extra,
        }


@contextlib.asynccontextmanager
async def fault_run(
    stack: PrivateStack,
    *,
    name: str,
    cases: list[Case],
    extra_env: dict[str, str] | None = None,
    instances: int = 1,
) -> AsyncIterator[FaultRun]:
    """A fresh deployment on the private stack with the probe listening; removed afterwards.

    With `instances` > 1 each service runs that many processes (`routing@2`, …) on the same
    databases and queues; people and the other services reach the first one.
    """
    begun = time.monotonic()
    ports = free_ports(("intake", "routing", "deadlines", "publishing", "simulator"))
    deployment = LocalDeployment(
        # Short: FerretDB refuses database names past 63 bytes ("{namespace}_publishing").
        namespace=unique_name("faults"),
        ports=ports,
        extra_env={**stack.service_env(), **FAULT_ENV, **(extra_env or {})},
    )
    await wipe_namespace(deployment)
    probe = DurableProbe(stack.amqp_url, exchange=deployment.env()["MAILBOX_EXCHANGE_NAME"])
    transport = PatientTransport()
    try:
        await probe.start()
        await deployment.start()
        for _ in range(instances - 1):
            for service in SERVICES:
                await deployment.add_instance(service)
        async with httpx.AsyncClient(transport=transport, timeout=30.0) as client:
            yield FaultRun(
                name=name,
                stack=stack,
                deployment=deployment,
                probe=probe,
                client=client,
                transport=transport,
                cases=cases,
                setup_s=time.monotonic() - begun,
            )
    finally:
        # All at once: stopping five processes one after the other takes seconds each.
        await asyncio.gather(*(deployment.stop(name) for name in deployment.processes))
        await probe.close()
        await wipe_namespace(deployment)
