"""`mailbox deadline` and `mailbox bench deadlines`, through typer's test runner."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import orjson
import pytest
import typer
from typer.testing import CliRunner

from devkit.bench import cli as bench_cli
from services.deadlines import cli as deadlines_cli
from services.deadlines.calendar.working_days import WorkingCalendar

pytestmark = pytest.mark.unit  # needs no server

EXAMPLE = ["deadline", "--start", "2026-09-30T16:00:00+08:00", "--days", "3"]


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    root = typer.Typer()
    bench = typer.Typer()
    root.add_typer(bench, name="bench")
    deadlines_cli.register(root)
    bench_cli.register(bench)
    return root


@pytest.fixture(scope="module")
def runner() -> CliRunner:
    return CliRunner()


def _expected_due(start: str, days: int) -> str:
    due = WorkingCalendar.build().due(datetime.fromisoformat(start), working_days=days)
    return due.due.isoformat()


def test_plain_form_prints_the_due_instant(app: typer.Typer, runner: CliRunner) -> None:
    result = runner.invoke(app, EXAMPLE)

    assert result.exit_code == 0, result.output
    assert result.stdout == "2026-10-10T23:59:59+08:00\n"


def test_json_form(app: typer.Typer, runner: CliRunner) -> None:
    result = runner.invoke(app, [*EXAMPLE, "--json"])

    assert result.exit_code == 0, result.output
    assert orjson.loads(result.stdout) == {"due": "2026-10-10T23:59:59+08:00", "provisional": False}


def test_json_form_marks_an_unconfirmed_year(app: typer.Typer, runner: CliRunner) -> None:
    args = ["deadline", "--start", "2026-12-24T10:00:00+08:00", "--days", "10", "--json"]

    unconfirmed = orjson.loads(runner.invoke(app, args).stdout)
    confirmed = orjson.loads(runner.invoke(app, [*args, "--confirmed-year", "2027"]).stdout)

    assert unconfirmed["provisional"] is True
    assert confirmed["provisional"] is False
    assert unconfirmed["due"] == confirmed["due"] == _expected_due("2026-12-24T10:00:00+08:00", 10)


def test_close_of_business_option(app: typer.Typer, runner: CliRunner) -> None:
    result = runner.invoke(app, [*EXAMPLE, "--close-of-business", "17:30:00"])

    assert result.exit_code == 0, result.output
    assert result.stdout == "2026-10-10T17:30:00+08:00\n"


def test_overrides_file(app: typer.Typer, runner: CliRunner, tmp_path: Path) -> None:
    overrides = tmp_path / "overrides.jsonl"
    overrides.write_bytes(
        orjson.dumps({"day": "2026-10-09", "kind": "holiday", "note": "test notice"}) + b"\n"
    )

    result = runner.invoke(app, [*EXAMPLE, "--overrides", str(overrides)])

    assert result.exit_code == 0, result.output
    assert result.stdout == "2026-10-12T23:59:59+08:00\n"


def test_jsonl_answers_every_line_in_order(app: typer.Typer, runner: CliRunner) -> None:
    requests = [
        ("2026-09-30T16:00:00+08:00", 3),
        ("2026-12-24T02:00:00Z", 10),
        ("2026-02-13T09:00:00+08:00", 1),
    ]
    stdin = b"".join(
        orjson.dumps({"start": start, "days": days}) + b"\n" for start, days in requests
    )

    result = runner.invoke(app, ["deadline", "--jsonl"], input=stdin)

    assert result.exit_code == 0, result.output
    answers = [orjson.loads(line) for line in result.stdout.splitlines()]
    assert [(a["start"], a["days"]) for a in answers] == requests
    assert [a["due"] for a in answers] == [_expected_due(start, days) for start, days in requests]
    assert [a["provisional"] for a in answers] == [False, True, False]


def test_jsonl_reports_a_bad_line_and_carries_on(app: typer.Typer, runner: CliRunner) -> None:
    stdin = "\n".join(
        [
            '{"start": "2026-09-30T16:00:00+08:00", "days": 3}',
            '{"start": "2026-09-30T16:00:00", "days": 3}',
            "not json",
            "",
            '{"start": "2026-09-30T16:00:00+08:00", "days": 0}',
            '{"start": "2026-09-30T16:00:00+08:00", "days": "3"}',
            '{"start": "2026-09-30T16:00:00+08:00", "days": 1}',
        ]
    )

    result = runner.invoke(app, ["deadline", "--jsonl"], input=stdin)

    assert result.exit_code == 1
    answers = [orjson.loads(line) for line in result.stdout.splitlines()]
    assert answers[0]["due"] == "2026-10-10T23:59:59+08:00"
    assert [a["line"] for a in answers[1:5]] == [2, 3, 5, 6]
    assert "offset" in answers[1]["error"]
    assert "JSON" in answers[2]["error"]
    assert "working_days" in answers[3]["error"]
    assert "integer" in answers[4]["error"]
    assert answers[5]["due"] == "2026-10-08T23:59:59+08:00"
    assert len(answers) == 6


@pytest.mark.parametrize(
    "args",
    [
        ["deadline", "--start", "2026-09-30T16:00:00", "--days", "3"],
        ["deadline", "--start", "2026-09-30T16:00:00+08:00", "--days", "0"],
        ["deadline", "--start", "yesterday", "--days", "3"],
        ["deadline", "--start", "2026-09-30T16:00:00+08:00"],
        ["deadline", "--jsonl", "--days", "3"],
        [*EXAMPLE, "--close-of-business", "5pm"],
    ],
)
def test_bad_arguments_are_usage_errors(
    app: typer.Typer, runner: CliRunner, args: list[str]
) -> None:
    result = runner.invoke(app, args)

    assert result.exit_code == 2
    assert result.stdout == ""


def test_bench_prints_json_figures(app: typer.Typer, runner: CliRunner) -> None:
    # The end-to-end clocks figure needs the local stack; it has its own test.
    args = ["bench", "deadlines", "--count", "500", "--rounds", "2", "--clocks", "0"]
    result = runner.invoke(app, args)

    assert result.exit_code == 0, result.output
    figures = orjson.loads(result.stdout)
    assert figures["computations_per_s"] > 0
    assert figures["computations_per_round"] == 500
    assert figures["rounds"] == 2
    assert 0 < figures["provisional_share"] < 1
