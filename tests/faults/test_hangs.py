"""RabbitMQ and the MongoDB-wire server hung (SIGSTOP, then SIGCONT) in the middle of a run.

A hung server is not a stopped one: its connections stay open, new ones are accepted by
the kernel, nothing is answered. While it hangs, every service's /readyz must say so
within seconds (503, the server's check false), an API call that needs the database
must answer 503 rather than wait, and once it answers again everything recovers by
itself: nothing lost, nothing twice.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from devkit.actors.people import CLERK, mint
from devkit.launcher import SERVICES
from tests.faults.harness import PrivateStack, Server
from tests.faults.load import DECIDED, FaultRun, fault_cases, fault_run
from tests.faults.verdict import report

pytestmark = pytest.mark.timeout(300)

LETTERS = 15
# Longer than anything may take to notice the hang, so a call that waits for the server
# instead of failing shows as one that does not answer in time.
HUNG_S = 12.0
# The readiness checks wait 2 s each (MAILBOX_READINESS_TIMEOUT_S); polling and a loaded
# machine add the rest.
READY_WITHIN_S = 6.0
# The test's own bound on one answer: a hang fails it.
ANSWER_TIMEOUT_S = 6.0
# A path of each service that reads the database: a letter of a well-formed id that no
# letter has (the token's revocation is checked in memory, not in the database).
_NO_SUCH_LETTER = "ltr_" + "0" * 26
READS_DATABASE = {
    "intake": f"/letters/{_NO_SUCH_LETTER}",
    "routing": f"/letters/{_NO_SUCH_LETTER}",
    "deadlines": f"/letters/{_NO_SUCH_LETTER}/clocks",
    "publishing": f"/letters/{_NO_SUCH_LETTER}",
}


async def _reports_not_ready(run: FaultRun, service: str, *, check: str) -> float:
    """Seconds until the service's /readyz answers 503 with `check` false."""
    begun = time.monotonic()
    url = run.deployment.url(service) + "/readyz"
    async with httpx.AsyncClient(timeout=ANSWER_TIMEOUT_S) as probe:
        while True:
            answer = await probe.get(url)  # a /readyz that hangs fails the test here
            if answer.status_code == 503 and answer.json()["checks"].get(check) is False:
                return time.monotonic() - begun
            if time.monotonic() - begun > READY_WITHIN_S:
                raise AssertionError(f"{service} /readyz still {answer.text} while {check} hangs")
            await asyncio.sleep(0.2)


async def _reads_while_hung(run: FaultRun, service: str) -> tuple[int, float]:
    """An API call that needs the database: its status and how long it took."""
    token = mint(CLERK, secret=run.deployment.token_secret)
    begun = time.monotonic()
    async with httpx.AsyncClient(timeout=ANSWER_TIMEOUT_S) as client:
        answer = await client.get(
            run.deployment.url(service) + READS_DATABASE[service],
            headers={"Authorization": f"Bearer {token}"},
        )
    return answer.status_code, time.monotonic() - begun


@pytest.mark.parametrize(
    ("server", "check", "name", "label"),
    [
        ("mongo", "mongo", "mongo-sigstop", "SIGSTOP the MongoDB-wire server"),
        ("rabbitmq", "rabbitmq", "rabbitmq-sigstop", "SIGSTOP rabbitmq (beam.smp)"),
    ],
    ids=["mongo", "rabbitmq"],
)
async def test_server_hung_mid_run(
    fault_stack: PrivateStack, server: Server, check: str, name: str, label: str
) -> None:
    noticed: dict[str, float] = {}
    reads: dict[str, tuple[int, float]] = {}
    async with fault_run(fault_stack, name=name, cases=fault_cases(LETTERS)) as run:

        async def hang() -> None:
            async with fault_stack.hung(server):
                stopped = time.monotonic()
                seconds = await asyncio.gather(
                    *(_reports_not_ready(run, s, check=check) for s in SERVICES)
                )
                noticed.update(zip(SERVICES, seconds, strict=True))
                if server == "mongo":
                    answers = await asyncio.gather(*(_reads_while_hung(run, s) for s in SERVICES))
                    reads.update(zip(SERVICES, answers, strict=True))
                await asyncio.sleep(max(0.0, HUNG_S - (time.monotonic() - stopped)))

        async def inject() -> None:
            await run.progress.until(
                lambda p: p.passed(*DECIDED) >= LETTERS // 3, what="a third decided"
            )
            await run.strike(f"{label} for {HUNG_S:.0f} s", hang())

        await run.drive(inject())
        verdict, _ = await run.verdict()
        extra: dict[str, Any] = {"not_ready_after_s": {s: round(t, 1) for s, t in noticed.items()}}
        if reads:
            extra["reads_while_hung"] = {s: [c, round(t, 1)] for s, (c, t) in reads.items()}
        report(run.figures(verdict, **extra))
    assert set(noticed) == set(SERVICES)
    for service, (status, _) in reads.items():
        assert status == 503, f"{service} answered {status} while the database hung"
    verdict.assert_clean()
