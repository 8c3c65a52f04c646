"""`mailbox bench intake`: letters per second from the simulator to registered-and-published.

The simulator (served over HTTP on a loopback port, in this process) holds N
generated letters spread over the three platforms; intake, on the local stack
with its own database and exchange, polls every platform until caught up. The
clock runs from the first poll until the N-th distinct `letter.received` has been
confirmed by the broker into a probe queue. Everything is removed afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import resource
import time
from typing import Any

BENCH_TIMEOUT_S = 600.0
SETTLE_TIMEOUT_S = 120.0
Figures = dict[str, Any]


def intake_figures(
    *, letters: int, page_size: int, seed: int, concurrency: int = 64, profile: str | None = None
) -> Figures:
    """Run the benchmark and return its figures (an `error` figure if the stack is down)."""
    try:
        if profile is None:
            return asyncio.run(
                _run(letters=letters, page_size=page_size, seed=seed, concurrency=concurrency)
            )
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
        try:
            return asyncio.run(
                _run(letters=letters, page_size=page_size, seed=seed, concurrency=concurrency)
            )
        finally:
            profiler.disable()
            profiler.dump_stats(profile)
    except TimeoutError as error:  # an OSError too: not the stack being down
        return {"letters": letters, "error": f"timed out: {error or 'a bounded wait ran out'}"}
    except OSError as error:
        return {"letters": letters, "error": f"local stack not reachable: {error}"}


def _peak_rss_mib() -> float:
    # Linux reports ru_maxrss in KiB.
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


async def _run(*, letters: int, page_size: int, seed: int, concurrency: int) -> Figures:
    import aio_pika

    from devkit.simulator.server import running_simulator
    from devkit.simulator.state import SimulatorState
    from services.intake.settings import IntakeSettings
    from services.intake.wiring import OUTBOX_COLLECTIONS, open_intake
    from shared.clock import SystemClock
    from shared.events import Event
    from shared.ids import new_id
    from shared.mongo import make_client
    from shared.runtime import Runtime

    name = f"bench_intake_{new_id('b').lower()}"
    settings = IntakeSettings(
        mongo_db=name,
        exchange_name=name,
        poll_enabled=False,
        log_level="WARNING",
        # Crash recovery only: a sweep has nothing to find in a run without crashes.
        outbox_sweep_interval_s=3600.0,
        outbox_grace_s=3 * 3600.0,
        relay_interval_s=3600.0,
        relay_publish_concurrency=concurrency,
        max_pages_per_cycle=10_000,
        relay_max_pending=max(5000, letters),
    )
    state = SimulatorState()
    per_platform = {pid: len(ids) for pid, ids in state.generate(letters, seed=seed).items()}
    rss_before = _peak_rss_mib()
    connection = await aio_pika.connect_robust(settings.amqp_url)
    seen: set[str] = set()
    all_seen = asyncio.Event()
    figures: Figures = {
        "letters": letters,
        "page_size": page_size,
        "per_platform": per_platform,
        "database": name,
    }
    try:
        channel = await connection.channel()
        exchange = await channel.declare_exchange(name, aio_pika.ExchangeType.TOPIC, durable=True)
        probe = await channel.declare_queue(exclusive=True, auto_delete=True)
        await probe.bind(exchange, routing_key="letter.received")

        async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            await message.ack()
            seen.add(Event.from_json(message.body).id)
            if len(seen) >= letters:
                all_seen.set()

        await probe.consume(on_message, no_ack=False)
        async with (
            running_simulator(state) as sim,
            Runtime.open(
                service="intake",
                settings=settings,
                clock=SystemClock(),
                outbox_collections=OUTBOX_COLLECTIONS,
            ) as runtime,
        ):
            try:
                configs = sim.configs(page_size=page_size)
                async with open_intake(
                    runtime, settings=settings, clock=SystemClock(), configs=configs, poll=False
                ) as intake:
                    started = time.perf_counter()
                    summaries = await asyncio.wait_for(
                        asyncio.gather(*(intake.poller.poll(c.id) for c in configs)),
                        timeout=BENCH_TIMEOUT_S,
                    )
                    registered_s = time.perf_counter() - started
                    await asyncio.wait_for(all_seen.wait(), timeout=BENCH_TIMEOUT_S)
                    published_s = time.perf_counter() - started
                    settled_s: float | None = None
                    with contextlib.suppress(TimeoutError):
                        await intake.relay.drain(timeout_s=SETTLE_TIMEOUT_S)
                        settled_s = round(time.perf_counter() - started, 3)
                    uncleared = intake.relay.pending
                    count = await runtime.db["letters"].count_documents({})
            finally:
                await runtime.bus.delete_topology()
        figures.update(
            {
                "registered": count,
                "events_confirmed": len(seen),
                "pages": sum(s.pages for s in summaries),
                "outcomes": sorted({s.outcome for s in summaries}),
                "letters_per_s": round(letters / published_s, 1),
                "registered_per_s": round(letters / registered_s, 1),
                "seconds_to_registered": round(registered_s, 3),
                "seconds_to_published": round(published_s, 3),
                # Housekeeping after publication; bounded, as FerretDB v1 updates scan.
                "seconds_to_outboxes_cleared": settled_s,
                "outboxes_uncleared_at_end": uncleared,
                "peak_rss_mib": _peak_rss_mib(),
                "rss_before_run_mib": rss_before,
            }
        )
    finally:
        with contextlib.suppress(Exception):
            await connection.close()
        client = make_client(settings.mongo_url)
        await client.drop_database(name)
        await client.close()
    return figures
