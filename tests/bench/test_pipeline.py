"""`mailbox bench pipeline`: a small run through the four services; every figure present and sane.

Timings are not asserted (the machine is shared); what is asserted is that every letter got
through, every stage was measured, every service's memory was read and the baselines ran.
"""

from __future__ import annotations

import orjson
import pytest
from typer.testing import CliRunner

from devkit.bench.pipeline import TARGET_STAGES
from devkit.launcher import SERVICES
from services.cli import _register_all, app

pytestmark = pytest.mark.timeout(600)

LETTERS = 10
LATENCY_LETTERS = 10


def test_a_small_run_gets_every_letter_published_and_reports_every_figure() -> None:
    _register_all()
    result = CliRunner().invoke(
        app,
        [
            "bench",
            "pipeline",
            "--letters",
            str(LETTERS),
            "--latency-letters",
            str(LATENCY_LETTERS),
            "--rate",
            "50",
            "--baseline-n",
            "100",
            "--timeout-s",
            "240",
        ],
    )

    assert result.exit_code == 0, result.output
    figures = orjson.loads(result.stdout)
    throughput, latency = figures["throughput"], figures["latency"]
    assert figures["actors"]["errors"] == 0, figures["actors"]["first_errors"]
    assert figures["actors"]["errors_by_kind"] == {}
    assert figures["actors"]["letters_worked"] == LETTERS + LATENCY_LETTERS
    assert throughput["published"] == LETTERS
    assert throughput["not_accepted"] == 1
    assert throughput["letters_per_s"] > 0
    assert throughput["http_requests_per_letter"] >= 4
    assert latency["published"] == LATENCY_LETTERS
    for phase in (throughput, latency):
        stages = phase["stages"]
        accepted = phase["letters"] - 1  # one in ten is not accepted
        assert stages["received_to_suggested"]["n"] == phase["letters"]
        assert stages["accepted_to_clock_opened"]["n"] == accepted
        assert stages["approved_to_uploaded"]["n"] == accepted
        assert stages["not_accepted_to_uploaded"]["n"] == 1
        for stage in stages.values():
            assert 0 <= stage["p50_ms"] <= stage["p95_ms"] <= stage["p99_ms"] <= stage["max_ms"]
        assert phase["put_to_published"]["n"] == phase["letters"]
        assert phase["put_to_published"]["p50_ms"] > 0
    # Each letter's life puts at least its receipt, suggestion, decision and publication on
    # the exchange.
    assert figures["events_per_letter"] >= 4
    for name in (*SERVICES, "simulator", "bench_driver"):
        assert figures["peak_memory_mib"][name] > 10, name
    assert figures["baseline"]["broker"]["messages"] == 100
    assert figures["baseline"]["broker"]["messages_per_s"] > 0
    assert figures["baseline"]["database"]["insert_and_update_per_s"] > 0
    assert all(ratio > 0 for ratio in figures["ratios"].values())
    targets = figures["targets"]
    assert isinstance(targets["letters_per_s_met"], bool)
    assert isinstance(targets["p99_met"], bool)
    assert set(TARGET_STAGES) <= set(latency["stages"])
