"""Two instances of each service on one stack, and one of each killed (kill -9) mid-run and
left dead: the survivors take over its queue share, its poll leases, its upload claims and
its unpublished outbox entries. Nothing lost, nothing twice."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from devkit.launcher import SERVICES
from tests.faults.harness import PrivateStack
from tests.faults.load import DECIDED, Progress, fault_cases, fault_run
from tests.faults.verdict import report

pytestmark = pytest.mark.timeout(420)

LETTERS = 24
INSTANCES = 2
# When each second instance dies, as in test_crashes: intake while letters still arrive,
# routing and deadlines while the office decides, publishing while uploads are under way.
WHEN: dict[str, Callable[[Progress], bool]] = {
    "intake": lambda p: p.passed("registered") >= 2,
    "routing": lambda p: p.passed(*DECIDED) >= LETTERS // 4,
    "deadlines": lambda p: p.passed(*DECIDED) >= LETTERS // 2,
    "publishing": lambda p: p.passed("approved") >= 2,
}


async def test_two_instances_of_each_service_one_of_each_killed(
    fault_stack: PrivateStack,
) -> None:
    cases = fault_cases(LETTERS)
    async with fault_run(
        fault_stack, name="two-instances-one-killed", cases=cases, instances=INSTANCES
    ) as run:
        running = sorted(run.deployment.processes)
        assert running == sorted(["simulator", *SERVICES, *(f"{s}@2" for s in SERVICES)])

        async def inject() -> None:
            for service, when in WHEN.items():
                await run.progress.until(when, what=f"time to kill {service}@2")
                # Not started again: its work must be taken over by the first instance.
                await run.strike(f"kill -9 {service}@2", run.deployment.kill(f"{service}@2"))

        await run.drive(inject())
        killed = {
            name: process.proc.returncode
            for name, process in run.deployment.processes.items()
            if "@" in name and process.proc is not None
        }
        verdict, _ = await run.verdict()
        report(run.figures(verdict, instances=INSTANCES))
    assert killed == {f"{s}@2": -9 for s in SERVICES}
    verdict.assert_clean()
