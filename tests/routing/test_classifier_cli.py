"""`mailbox classify`, through typer's test runner."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest
import typer
from typer.testing import CliRunner

from services.routing import cli as routing_cli
from services.routing.classify.rules import DEFAULT_RULES_PATH

pytestmark = pytest.mark.unit  # needs no server

DEV_LETTERS = Path(__file__).resolve().parents[3] / "shared" / "data" / "dev-letters.jsonl"
ANSWER_KEYS = {"id", "nature", "accepted", "not_accepted_reason", "route", "unit", "why"}


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    root = typer.Typer()
    routing_cli.register(root)
    return root


@pytest.fixture(scope="module")
def runner() -> CliRunner:
    return CliRunner()


def _lines(text: str) -> list[dict[str, object]]:
    return [orjson.loads(line) for line in text.splitlines()]


def test_jsonl_in_and_out(app: typer.Typer, runner: CliRunner) -> None:
    letters = [
        {
            "id": "a",
            "title": "预付卡",
            "text": "商场的预付卡商家跑路，卡里钱无法退还。",
            "person": None,
        },
        {"id": "b", "title": "", "text": "在超市买的食品过期变质，商家拒绝赔偿。"},
        {"id": "c", "text": "专业代开发票，价格优惠，有意者加微信。", "person": {"phone": "1"}},
        {"id": "d", "text": "涉及多个部门，不知道该找哪个部门。"},
    ]
    stdin = "\n".join(json.dumps(letter, ensure_ascii=False) for letter in letters) + "\n"

    result = runner.invoke(app, ["classify", "--jsonl"], input=stdin)

    assert result.exit_code == 0, result.output
    answers = _lines(result.stdout)
    assert [a["id"] for a in answers] == ["a", "b", "c", "d"]
    assert all(set(a) == ANSWER_KEYS for a in answers)
    direct, forward, advert, escalate = answers
    assert (direct["route"], direct["unit"], direct["nature"]) == (
        "direct",
        "market-order",
        "complaint",
    )
    assert (forward["route"], forward["unit"]) == ("forward", "market-regulation")
    assert advert["accepted"] is False
    assert advert["not_accepted_reason"] == "advertising"
    assert advert["route"] is None
    assert advert["unit"] is None
    assert (escalate["route"], escalate["unit"]) == ("escalate", "city-mailbox-office")
    assert all(isinstance(a["why"], str) and a["why"] for a in answers)


def test_a_bad_line_is_reported_and_the_rest_answered(app: typer.Typer, runner: CliRunner) -> None:
    stdin = "\n".join(
        [
            "{not json",
            '{"id": "no-text"}',
            '["a list"]',
            '{"id": "ok", "text": "请问家电以旧换新补贴怎么申请？"}',
            '{"id": "p", "text": "你好", "person": {"nickname": "x"}}',
        ]
    )

    result = runner.invoke(app, ["classify", "--jsonl"], input=stdin)

    assert result.exit_code == 1
    answers = _lines(result.stdout)
    assert [a.get("line") for a in answers] == [1, 2, 3, None, 5]
    assert "not JSON" in str(answers[0]["error"])
    assert "text" in str(answers[1]["error"])
    assert answers[3]["id"] == "ok"
    assert answers[3]["nature"] == "consultation"
    assert "nickname" in str(answers[4]["error"])
    assert answers[1]["id"] == "no-text"  # an error record names the letter when it can


def test_bad_lines_are_reported_as_by_mailbox_redact(app: typer.Typer, runner: CliRunner) -> None:
    stdin = (
        b"\xef\xbb\xbf" + json.dumps({"id": "bom", "text": "你好"}).encode() + b"\n"
        b'{"text": "no id"}\n{"id": 7, "text": "an integer id"}\n'
        b'{"id": "x", "text": "\xff"}\n'
    )
    result = runner.invoke(app, ["classify", "--jsonl"], input=stdin)
    answers = _lines(result.stdout)
    assert answers[0]["id"] == "bom"
    assert answers[1] == {"line": 2, "error": '"id" must be a non-empty string'}
    assert answers[2] == {"line": 3, "error": '"id" must be a non-empty string'}
    assert str(answers[3]["error"]).startswith("not UTF-8: byte 0xff")


def test_other_rules_from_a_file(app: typer.Typer, runner: CliRunner, tmp_path: Path) -> None:
    raw = json.loads(DEFAULT_RULES_PATH.read_text(encoding="utf-8"))
    raw["version"] += 1
    raw["nature"]["substantive_default"] = "help"
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")
    stdin = '{"id": "1", "text": "关于步行街改造的一些情况。"}\n'

    default = runner.invoke(app, ["classify", "--jsonl"], input=stdin)
    edited = runner.invoke(app, ["classify", "--jsonl", "--rules", str(path)], input=stdin)

    assert _lines(default.stdout)[0]["nature"] == "complaint"
    assert _lines(edited.stdout)[0]["nature"] == "help"


def test_a_broken_directory_file_is_a_usage_error(
    app: typer.Typer, runner: CliRunner, tmp_path: Path
) -> None:
    path = tmp_path / "directory.json"
    path.write_text('{"units": []}', encoding="utf-8")

    result = runner.invoke(app, ["classify", "--jsonl", "--directory", str(path)], input="")

    assert result.exit_code == 2
    assert "--directory" in result.output


def test_evaluate_prints_agreement_figures(app: typer.Typer, runner: CliRunner) -> None:
    result = runner.invoke(app, ["classify", "--evaluate", str(DEV_LETTERS)])

    assert result.exit_code == 0, result.output
    figures = orjson.loads(result.stdout)
    assert figures["letters"] == len(DEV_LETTERS.read_bytes().splitlines())
    for field in ("nature", "accepted", "not_accepted_reason", "route"):
        assert 0 <= figures[field]["accuracy"] <= 1
    assert set(figures["nature_confusion"]["table"]) <= {
        "suggestion",
        "help",
        "complaint",
        "report",
        "consultation",
        "other",
    }
    assert figures["skipped"] == []


def test_evaluate_skips_unlabelled_lines(
    app: typer.Typer, runner: CliRunner, tmp_path: Path
) -> None:
    path = tmp_path / "letters.jsonl"
    path.write_text(
        '{"id": "1", "text": "你好"}\n'
        '{"id": "2", "text": "你好", "labels": {"nature": "other", "accepted": false,'
        ' "not_accepted_reason": "empty", "route": null}}\n',
        encoding="utf-8",
    )

    figures = orjson.loads(runner.invoke(app, ["classify", "--evaluate", str(path)]).stdout)

    assert figures["letters"] == 1
    assert figures["not_accepted_reason"]["accuracy"] == 1.0
    assert figures["skipped"] == [{"line": 1, "error": 'no "labels" object'}]


def test_one_mode_is_required(app: typer.Typer, runner: CliRunner) -> None:
    neither = runner.invoke(app, ["classify"])
    both = runner.invoke(app, ["classify", "--jsonl", "--evaluate", str(DEV_LETTERS)])

    assert neither.exit_code == both.exit_code == 2
