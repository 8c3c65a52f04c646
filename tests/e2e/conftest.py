"""One deployment per test session: the simulator and the four services as processes.

The session gets its own namespace (databases, exchange, timers) and free loopback ports,
listens to every event on the exchange from before the first letter arrives, plays every
scenario of the demo once (letters driven concurrently), and tears everything down at
the end. The tests then read what each service shows through its public API.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from devkit.actors.people import CLERK, Api, Person
from devkit.actors.script import Case
from devkit.demo.mail import MailSink
from devkit.demo.runner import DEMO_ENV, Outcome, play, smtp_env, wipe_namespace
from devkit.demo.scenarios import build_cases
from devkit.launcher import LocalDeployment, free_ports
from tests.support import EventProbe, unique_name

# Longest wait for any one asynchronous effect while the letters are driven.
EFFECT_TIMEOUT_S = 90.0


@dataclass
class Lifecycle:
    """The deployment, every event it published, and what the actors saw."""

    deployment: LocalDeployment
    probe: EventProbe
    outcome: Outcome
    client: httpx.AsyncClient
    mail: MailSink

    def case(self, plan_name: str) -> Case:
        """The case played along the named plan."""
        return next(c for c in self.outcome.cases if c.plan.name == plan_name)

    def api(self, person: Person = CLERK) -> Api:
        """A person's API client (the office clerk by default)."""
        return self.outcome.cast.api(person, client=self.client, urls=self.outcome.urls)


@pytest.fixture(scope="session")
async def lifecycle() -> AsyncIterator[Lifecycle]:
    """Start everything, play every scenario once, and clean up after the session."""
    ports = free_ports(("intake", "routing", "deadlines", "publishing", "simulator", "smtp"))
    mail = MailSink()
    await mail.start(ports.pop("smtp"))
    deployment = LocalDeployment(
        namespace=unique_name("e2e"), ports=ports, extra_env={**DEMO_ENV, **smtp_env(mail.port)}
    )
    await wipe_namespace(deployment)
    probe = EventProbe(deployment.env()["MAILBOX_EXCHANGE_NAME"])
    try:
        await deployment.start()
        await probe.start()
        outcome = await play(deployment, cases=build_cases(), timeout_s=EFFECT_TIMEOUT_S, mail=mail)
        async with httpx.AsyncClient(timeout=30.0) as client:
            yield Lifecycle(deployment, probe, outcome, client, mail)
    finally:
        await probe.close()
        await deployment.stop_all()
        await mail.stop()
        await wipe_namespace(deployment)
