"""The platforms (the simulator) fail 30 % of calls with a 5xx and let 10 % time out."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.platforms.config import default_platform_configs, dump_platform_configs
from tests.faults.harness import PrivateStack
from tests.faults.load import fault_cases, fault_run
from tests.faults.verdict import report

pytestmark = pytest.mark.timeout(300)

LETTERS = 15
FAULTS = {"error_rate": 0.3, "timeout_rate": 0.1, "stall_s": 3.0, "seed": 6}
# The services give up on a platform call after 1 s (production: 10 s), so a stalled call
# (3 s) is a timeout on their side and the run stays short.
CLIENT = {"timeout_s": 1.0, "backoff_base_s": 0.2, "backoff_max_s": 0.5}


async def test_platforms_fail_and_time_out(fault_stack: PrivateStack, tmp_path: Path) -> None:
    platforms = tmp_path / "platforms.json"
    configs = [c.model_copy(update=CLIENT) for c in default_platform_configs()]
    platforms.write_bytes(dump_platform_configs(configs, reveal_tokens=True))
    env = {
        "MAILBOX_INTAKE_PLATFORMS_FILE": str(platforms),
        "MAILBOX_PUBLISHING_PLATFORMS_FILE": str(platforms),
    }
    cases = fault_cases(LETTERS)
    async with fault_run(fault_stack, name="platform-faults", cases=cases, extra_env=env) as run:
        await run.simulator("PUT", "/_admin/faults", json={"faults": FAULTS})
        await run.drive()
        stats = await run.simulator("GET", "/_admin/stats")
        verdict, _ = await run.verdict()
        errors = sum(int(p["errors_injected"]) for p in stats.values())
        timeouts = sum(int(p["timeouts_injected"]) for p in stats.values())
        requests = sum(int(p["requests"]) for p in stats.values())
        figures = run.figures(verdict)
        figures |= {"faults": errors + timeouts, "errors": errors, "timeouts": timeouts}
        report({**figures, "platform_requests": requests})
    assert errors > 0
    assert timeouts > 0
    verdict.assert_clean()
