"""Redaction on the held-out letters: written unlike the dev set, never tuned on letter by letter.

The letters (tests/publishing/data/heldout-letters.jsonl, built from heldout-letters.src.txt)
go through `mailbox redact --jsonl` as an office would run it; every annotated secret must be
masked, every keep string must survive, and the leak scan must agree with the masks.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import orjson
import pytest
import typer
from typer.testing import CliRunner

from devkit.bench import redact as bench
from services.publishing.cli import register
from services.publishing.redaction.leak_scan import leak_scan
from services.publishing.redaction.service import PersonData

pytestmark = pytest.mark.unit  # needs no server

DATA = Path(__file__).resolve().parent / "data"
HELDOUT = DATA / "heldout-letters.jsonl"
# Kinds the leak scan checks by pattern: a letter's original text must be refused for each.
_PATTERN_KINDS = {"phone", "landline", "id_number", "email", "bank_card", "account", "plate"}


@pytest.fixture(scope="module")
def letters() -> list[dict[str, Any]]:
    return bench.load_letters(HELDOUT)


@pytest.fixture(scope="module")
def redacted(letters: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    root = typer.Typer()
    register(root)
    stdin = "".join(
        orjson.dumps({"id": x["id"], "text": x["text"], "person": x["person"]}).decode() + "\n"
        for x in letters
    )
    result = CliRunner().invoke(root, ["redact", "--jsonl"], input=stdin)
    assert result.exit_code == 0, result.stdout
    out = [orjson.loads(line) for line in result.stdout.splitlines()]
    return {o["id"]: o for o in out}


def test_the_jsonl_is_built_from_the_markup() -> None:
    spec = importlib.util.spec_from_file_location("build_heldout", DATA / "build_heldout.py")
    assert spec is not None and spec.loader is not None
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    source = "\n".join(
        line
        for line in build.SOURCE.read_text(encoding="utf-8").splitlines()
        if not line.startswith("#")
    )
    built = [build.parse_letter(b) for b in source.split("=== ")[1:] if b.strip()]
    assert built == bench.load_letters(HELDOUT)
    assert len(built) >= 40


def test_heldout_every_secret_span_is_masked(
    letters: list[dict[str, Any]], redacted: dict[str, dict[str, Any]]
) -> None:
    missed = []
    total = 0
    for letter in letters:
        out = redacted[letter["id"]]
        covered = {i for s in out["spans"] for i in range(s["start"], s["end"])}
        for pii in letter["pii"]:
            total += 1
            inside = all(i in covered for i in range(pii["start"], pii["end"]))
            if not inside or pii["text"] in out["text"]:
                missed.append((letter["id"], pii["kind"], pii["text"]))
    print(f"held-out recall: {total - len(missed)}/{total}")
    assert total >= 200
    assert missed == []


def test_heldout_every_keep_string_survives(
    letters: list[dict[str, Any]], redacted: dict[str, dict[str, Any]]
) -> None:
    damaged = [
        (letter["id"], keep)
        for letter in letters
        for keep in letter["keep"]
        if keep not in redacted[letter["id"]]["text"]
    ]
    total = sum(len(letter["keep"]) for letter in letters)
    print(f"held-out keep-rate: {total - len(damaged)}/{total}")
    assert total >= 300
    assert damaged == []


def test_heldout_leak_scan_agrees_with_the_masks(
    letters: list[dict[str, Any]], redacted: dict[str, dict[str, Any]]
) -> None:
    for letter in letters:
        person = PersonData.model_validate(letter["person"])
        assert leak_scan(redacted[letter["id"]]["text"], person=person) == [], letter["id"]
        found = leak_scan(letter["text"], person=person)
        for pii in letter["pii"]:
            if pii["kind"] in _PATTERN_KINDS:
                assert any(leak.start < pii["end"] and pii["start"] < leak.end for leak in found), (
                    letter["id"],
                    pii["text"],
                )


def test_heldout_quality_figures_as_the_bench_reports_them(
    letters: list[dict[str, Any]],
) -> None:
    figures = bench.quality(letters)
    assert figures["recall"] == 1.0
    assert figures["keep_rate"] == 1.0
    assert figures["leak_scan_refusals"] == 0
