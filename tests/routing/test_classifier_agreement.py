"""Agreement with the labelled dev letters: floors the classifier reaches, figures printed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from services.routing.classify.classifier import classify
from services.routing.classify.evaluation import agreement, output_record
from services.routing.classify.rules import load_rules
from services.routing.classify.suggestion import LetterInput
from services.routing.directory.models import load_directory

pytestmark = pytest.mark.unit  # needs no server

DEV_LETTERS = Path(__file__).resolve().parents[3] / "shared" / "data" / "dev-letters.jsonl"
FLOORS = {
    "nature": 0.9,
    "accepted": 0.95,
    "not_accepted_reason": 0.9,
    "route": 0.9,
}


@pytest.fixture(scope="module")
def figures() -> dict[str, Any]:
    rules, directory = load_rules(), load_directory()
    pairs = []
    for line in DEV_LETTERS.read_bytes().splitlines():
        row = orjson.loads(line)
        letter = LetterInput(title=row["title"], text=row["text"], person=row["person"])
        suggestion = classify(letter, rules=rules, directory=directory)
        pairs.append((output_record(row["id"], suggestion), row["labels"]))
    result = agreement(pairs)
    print(orjson.dumps({k: v for k, v in result.items() if k != "mismatches"}).decode())
    return result


@pytest.mark.parametrize(("field", "floor"), FLOORS.items())
def test_agreement_floor(field: str, floor: float, figures: dict[str, Any]) -> None:
    assert figures[field]["total"] > 0
    assert figures[field]["accuracy"] >= floor, figures["mismatches"]


def test_every_dev_letter_was_scored(figures: dict[str, Any]) -> None:
    count = len(DEV_LETTERS.read_bytes().splitlines())

    assert figures["letters"] == count
    assert figures["not_accepted_reason"]["total"] + figures["route"]["total"] == count
    confusion = figures["nature_confusion"]["table"]
    assert sum(sum(row.values()) for row in confusion.values()) == count


def test_agreement_counts_what_differs() -> None:
    got = {
        "id": "a",
        "nature": "complaint",
        "accepted": True,
        "not_accepted_reason": None,
        "route": "direct",
    }
    labels = {"nature": "report", "accepted": True, "not_accepted_reason": None, "route": "direct"}
    rejected = {**got, "id": "b", "accepted": False, "not_accepted_reason": "repetitive_or_empty"}
    empty_label = {"nature": "complaint", "accepted": False, "not_accepted_reason": "empty"}

    result = agreement([(got, labels), (rejected, empty_label)])

    assert result["nature"] == {"accuracy": 0.5, "correct": 1, "total": 2}
    assert result["accepted"]["correct"] == 2
    assert result["not_accepted_reason"] == {"accuracy": 1.0, "correct": 1, "total": 1}
    assert result["route"] == {"accuracy": 1.0, "correct": 1, "total": 1}
    assert result["all_fields"]["correct"] == 1
    assert result["nature_confusion"]["table"]["report"] == {"complaint": 1}
    assert result["mismatches"] == [
        {"id": "a", "field": "nature", "expected": "report", "got": "complaint"}
    ]
