"""`mailbox eval classify`: the share of foreign matters suggested for an own unit, and of
commerce matters suggested for the right unit, beside the per-field accuracy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from services.cli import _register_all, app
from services.routing.classify.evaluation import agreement

pytestmark = pytest.mark.unit  # needs no server


def _got(letter_id: str, *, route: str | None, unit: str | None) -> dict[str, Any]:
    return {
        "id": letter_id,
        "nature": "complaint",
        "accepted": route is not None,
        "not_accepted_reason": None,
        "route": route,
        "unit": unit,
    }


def test_foreign_and_commerce_matters_are_counted_apart() -> None:
    pairs: list[tuple[dict[str, Any], dict[str, Any]]] = [
        (_got("a", route="direct", unit="office"), {"nature": "complaint", "commerce": False}),
        (_got("b", route="forward", unit="housing"), {"nature": "complaint", "commerce": False}),
        (
            _got("c", route="direct", unit="market-order"),
            {"commerce": True, "unit": "market-order"},
        ),
        (_got("d", route="direct", unit="office"), {"commerce": True, "unit": "e-commerce"}),
        (_got("e", route="direct", unit="office"), {"nature": "complaint"}),
    ]
    figures = agreement(pairs)
    assert figures["foreign_matters_to_own_unit"] == {"share": 0.5, "letters": 2}
    assert figures["commerce_matters_to_right_unit"]["correct"] == 1
    assert figures["commerce_matters_to_right_unit"]["total"] == 2


def test_the_command_prints_the_figures(tmp_path: Path) -> None:
    path = tmp_path / "labelled.jsonl"
    letter = {
        "id": "x",
        "title": "小区电梯长期故障无人维修",
        "text": "我们小区的电梯坏了三个月，物业一直不修，请住建部门督促。",
        "labels": {"nature": "complaint", "commerce": False},
    }
    path.write_bytes(orjson.dumps(letter) + b"\n")
    _register_all()
    result = CliRunner().invoke(app, ["eval", "classify", str(path)])
    assert result.exit_code == 0, result.output
    figures = orjson.loads(result.output)
    assert figures["letters"] == 1
    assert figures["foreign_matters_to_own_unit"]["letters"] == 1
    assert "table" in figures["nature_confusion"]


def test_a_field_without_a_label_is_not_scored() -> None:
    pairs: list[tuple[dict[str, Any], dict[str, Any]]] = [
        (_got("a", route="forward", unit="housing"), {"nature": "complaint", "commerce": False}),
        (_got("b", route="forward", unit="housing"), {"nature": "report", "commerce": False}),
        (_got("c", route="forward", unit="housing"), {"commerce": False}),
    ]

    figures = agreement(pairs)

    assert figures["letters"] == 3
    assert figures["accepted"]["total"] == 0  # no letter carries a scope label
    assert figures["nature"] == {"accuracy": 0.5, "correct": 1, "total": 2}
    assert figures["all_fields"]["total"] == 2
    assert figures["nature_confusion"]["table"] == {
        "complaint": {"complaint": 1},
        "report": {"complaint": 1},
    }
