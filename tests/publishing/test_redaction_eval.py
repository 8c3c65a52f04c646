"""`mailbox eval redact`: recall, precision and false masks are counted as documented."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from services.cli import _register_all, app
from services.publishing.redaction.evaluation import evaluate

pytestmark = pytest.mark.unit  # needs no server

# Written for this test: a writer's name and mobile, one surname with a title, and a word
# that only looks like a name.
TEXT = "我叫周建新，电话13812345678。物业的钱经理不管事，谢谢。"


def _span(text: str, part: str, kind: str, *, secret: bool = True) -> dict[str, object]:
    start = TEXT.index(part)
    return {"start": start, "end": start + len(part), "kind": kind, "text": part, "secret": secret}


LETTER = {
    "id": "t-1",
    "text": TEXT,
    "pii": [
        _span(TEXT, "周建新", "name"),
        _span(TEXT, "13812345678", "phone"),
        _span(TEXT, "钱经理", "name", secret=False),
    ],
    "keep": ["谢谢"],
}


def test_a_letter_whose_data_is_all_masked_scores_full_recall_and_precision() -> None:
    figures = evaluate([LETTER])
    assert figures["letters"] == 1
    assert figures["recall"] == 1.0
    assert figures["by_kind"]["name"]["recall"] == 1.0
    assert figures["by_kind"]["phone"]["recall"] == 1.0
    assert figures["keep_rate"] == 1.0
    # A mask on the surname-with-title is no false mask, whether it is made or not.
    assert figures["false_masks_per_1000_chars"] == 0.0
    assert figures["precision"] == 1.0


def test_an_unannotated_mask_is_a_false_mask_and_an_unmasked_secret_a_miss() -> None:
    # Remove the phone from the gold: its mask is now false; add a secret nobody masks.
    letter = {
        **LETTER,
        "pii": [LETTER["pii"][0], _span(TEXT, "物业", "name")],
    }
    figures = evaluate([letter], examples=True)
    assert figures["by_kind"]["phone"]["precision"] == 0.0
    per_thousand = round(1000 / len(TEXT), 3)
    assert figures["by_kind"]["phone"]["false_masks_per_1000_chars"] == per_thousand
    assert figures["by_kind"]["name"]["recall"] == 0.5
    assert [miss["at"] for miss in figures["misses"]] == ["2345678。[物业]的钱经理不管事，"]
    assert figures["false_masks"][0]["kind"] == "phone"


def test_the_command_prints_the_figures(tmp_path: Path) -> None:
    path = tmp_path / "gold.jsonl"
    path.write_bytes(orjson.dumps(LETTER) + b"\n")
    _register_all()
    result = CliRunner().invoke(app, ["eval", "redact", str(path)])
    assert result.exit_code == 0, result.output
    assert orjson.loads(result.output)["recall"] == 1.0
