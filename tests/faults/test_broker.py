"""RabbitMQ restarted in the middle of a run."""

from __future__ import annotations

import pytest

from tests.faults.load import DECIDED, fault_cases, fault_run
from tests.faults.stack import PrivateStack
from tests.faults.verdict import report

pytestmark = pytest.mark.timeout(300)

LETTERS = 15


async def test_rabbitmq_restart_mid_run(fault_stack: PrivateStack) -> None:
    async with fault_run(fault_stack, name="rabbitmq-restart", cases=fault_cases(LETTERS)) as run:

        async def inject() -> None:
            await run.progress.until(
                lambda p: p.passed(*DECIDED) >= LETTERS // 3, what="a third decided"
            )
            await run.strike("restart rabbitmq", fault_stack.restart("rabbitmq"))

        await run.drive(inject())
        verdict, _ = await run.verdict()
        report(run.figures(verdict))
    verdict.assert_clean()
