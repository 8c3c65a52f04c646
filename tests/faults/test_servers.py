"""RabbitMQ and the MongoDB-wire server restarted, and Redis flushed, in the middle of a run."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from tests.faults.harness import PrivateStack, Server
from tests.faults.load import DECIDED, DEFAULT_PLANS, fault_cases, fault_run
from tests.faults.verdict import report

pytestmark = pytest.mark.timeout(300)

LETTERS = 15


@pytest.mark.parametrize(
    ("server", "name", "label"),
    [
        ("rabbitmq", "rabbitmq-restart", "restart rabbitmq"),
        ("mongo", "mongo-restart", "restart the MongoDB-wire server"),
    ],
    ids=["rabbitmq", "mongo"],
)
async def test_server_restarted_mid_run(
    fault_stack: PrivateStack, server: Server, name: str, label: str
) -> None:
    async with fault_run(fault_stack, name=name, cases=fault_cases(LETTERS)) as run:

        async def inject() -> None:
            await run.progress.until(
                lambda p: p.passed(*DECIDED) >= LETTERS // 3, what="a third decided"
            )
            await run.strike(label, fault_stack.restart(server))

        await run.drive(inject())
        verdict, _ = await run.verdict()
        report(run.figures(verdict))
    verdict.assert_clean()


OVERDUE = ("overdue-answered", "overdue-unanswered")


async def test_redis_flushed_mid_run(fault_stack: PrivateStack) -> None:
    """The deadlines timers of running clocks are lost; the sweep does their work."""
    cases = fault_cases(LETTERS, plans=(*DEFAULT_PLANS, *OVERDUE))
    late = [c for c in cases if c.plan.overdue]
    flushed: set[bytes] = set()
    survived: set[bytes] = set()
    async with fault_run(fault_stack, name="redis-flush", cases=cases) as run:
        queue = f"arq:{run.exchange}:deadlines"
        redis = Redis.from_url(fault_stack.redis_url)

        async def inject() -> None:
            # Once every letter meant to go overdue has its handling clock (and its timer).
            await run.progress.until(
                lambda _: all("writer contacted" in c.path for c in late),
                what="the overdue letters' clocks running",
            )
            flushed.update(await redis.zrange(queue, 0, -1))
            await run.strike("FLUSHALL redis", fault_stack.flush_redis())
            survived.update(await redis.zrange(queue, 0, -1))

        try:
            await run.drive(inject())
        finally:
            await redis.aclose()
        verdict, _ = await run.verdict()
        report(run.figures(verdict, timers_flushed=len(flushed)))
    # Each overdue letter's handling clock had its timer, and none outlived the flush (a
    # timer armed after it is another job).
    assert len(flushed) >= len(late)
    assert not flushed & survived
    verdict.assert_clean()
