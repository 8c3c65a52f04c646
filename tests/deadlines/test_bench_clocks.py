"""`mailbox bench deadlines`: the end-to-end clocks figure on the local stack."""

from __future__ import annotations

import orjson
from typer.testing import CliRunner

from services.cli import _register_all, app


def test_bench_opens_every_clock_and_reports_the_rate() -> None:
    _register_all()
    result = CliRunner().invoke(
        app, ["bench", "deadlines", "--count", "200", "--rounds", "1", "--clocks", "20"]
    )

    assert result.exit_code == 0, result.output
    figures = orjson.loads(result.stdout)
    assert "clocks_error" not in figures
    assert figures["clocks_opened"] == 20
    assert figures["clocks_per_s"] > 0
    assert figures["mongo_server"] in ("ferretdb", "mongod")
    assert figures["computations_per_s"] > 0
    # The floor beside it: a bare loop of the writes and messages a clock cannot skip.
    assert "floor_error" not in figures
    assert figures["floor_clocks"] == 20
    assert figures["floor_clocks_per_s"] > 0
    assert figures["clocks_share_of_floor"] > 0
