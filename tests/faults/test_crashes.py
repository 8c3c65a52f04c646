"""kill -9 of each service in turn in the middle of a run, each started again at once."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.faults.harness import PrivateStack
from tests.faults.load import DECIDED, Progress, fault_cases, fault_run
from tests.faults.verdict import report

pytestmark = pytest.mark.timeout(300)

LETTERS = 24
# When each service dies: intake while letters still arrive, routing and deadlines while
# the office decides, publishing once replies are being approved (uploads under way).
WHEN: dict[str, Callable[[Progress], bool]] = {
    "intake": lambda p: p.passed("registered") >= 2,
    "routing": lambda p: p.passed(*DECIDED) >= LETTERS // 4,
    "deadlines": lambda p: p.passed(*DECIDED) >= LETTERS // 2,
    "publishing": lambda p: p.passed("approved") >= 2,
}


async def test_each_service_killed_in_turn(fault_stack: PrivateStack) -> None:
    cases = fault_cases(LETTERS)
    async with fault_run(fault_stack, name="kill-9-each-service", cases=cases) as run:

        async def inject() -> None:
            for service, when in WHEN.items():
                await run.progress.until(when, what=f"time to kill {service}")
                await run.strike(f"kill -9 {service}", run.crash(service))

        await run.drive(inject())
        verdict, _ = await run.verdict()
        report(run.figures(verdict))
    verdict.assert_clean()
