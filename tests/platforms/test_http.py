"""The HTTP adapter's own behaviour: back-off bounds, connection failures, who closes what."""

from __future__ import annotations

import random

import httpx
import pytest

from devkit.simulator.server import free_port, running_simulator
from shared.platforms import HttpPlatformClient, PlatformUnavailable, default_platform_configs

pytestmark = pytest.mark.unit  # needs no server


def test_backoff_is_full_jitter_under_a_growing_capped_ceiling() -> None:
    config = default_platform_configs()[0].model_copy(
        update={"backoff_base_s": 0.5, "backoff_max_s": 3.0}
    )
    client = HttpPlatformClient(config, http=httpx.AsyncClient(), rng=random.Random(1))
    for attempt, ceiling in ((1, 0.5), (2, 1.0), (3, 2.0), (4, 3.0), (9, 3.0)):
        delays = [client.backoff_s(attempt) for _ in range(300)]
        assert all(0 <= delay <= ceiling for delay in delays)
        # Full jitter spreads over the whole range, not only near the ceiling.
        assert min(delays) < ceiling * 0.1 and max(delays) > ceiling * 0.9


async def test_nothing_listening_is_unavailable_after_the_attempts() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    config = default_platform_configs(simulator_url=url)[0].model_copy(
        update={"max_attempts": 3, "backoff_base_s": 0.01, "timeout_s": 1.0}
    )
    async with HttpPlatformClient(config) as client:
        with pytest.raises(PlatformUnavailable) as info:
            await client.poll(cursor=None, limit=10)
    assert info.value.attempts == 3
    assert "connection failed" in info.value.message


async def test_a_shared_http_client_is_left_open_for_its_owner() -> None:
    async with running_simulator() as sim, httpx.AsyncClient() as http:
        for config in sim.configs():
            client = HttpPlatformClient(config, http=http)
            page = await client.poll(cursor=None, limit=1)
            assert page.letters == []
            await client.aclose()
        assert not http.is_closed
        own = HttpPlatformClient(sim.configs()[0])
        await own.aclose()
        with pytest.raises(RuntimeError):
            await own.poll(cursor=None, limit=1)
