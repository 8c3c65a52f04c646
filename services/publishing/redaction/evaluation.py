"""How well `redact` does on annotated letters: recall and precision by kind, false masks.

The letters are JSON objects as in the development set: `text`, optional `person` (the
writer's metadata), `pii` (gold spans `{start, end, kind, secret}` on `text`) and `keep`
(strings that must survive). A gold span with `secret: false` is personal-looking but may
stay (a surname with a title, an official named in a public role when the policy keeps
them): masking it is not a false mask, and leaving it is not a miss.

- recall of a kind: gold secret spans of that kind whose every character is masked and
  whose text no longer stands in the output;
- precision of a kind: masks of that kind that overlap a gold span;
- false masks per 1,000 characters: masks that overlap no gold span, per 1,000 characters
  of the letters.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from services.publishing.redaction.service import PersonData, RedactionConfig, redact

_MAX_EXAMPLES = 60
_CONTEXT = 8


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _context(text: str, start: int, end: int) -> str:
    return (
        f"{text[max(0, start - _CONTEXT) : start]}[{text[start:end]}]{text[end : end + _CONTEXT]}"
    )


def evaluate(
    letters: Iterable[Mapping[str, Any]],
    *,
    config: RedactionConfig | None = None,
    examples: bool = False,
) -> dict[str, Any]:
    """Figures over `letters`; with `examples`, the misses and false masks in context."""
    gold_total: Counter[str] = Counter()
    gold_masked: Counter[str] = Counter()
    masks: Counter[str] = Counter()
    masks_on_gold: Counter[str] = Counter()
    false_masks: Counter[str] = Counter()
    chars = keeps = kept = count = 0
    misses: list[dict[str, Any]] = []
    wrong: list[dict[str, Any]] = []
    for letter in letters:
        count += 1
        text: str = letter["text"]
        chars += len(text)
        person = PersonData.model_validate(letter.get("person") or {})
        result = redact(text, person=person, config=config)
        covered = {i for span in result.spans for i in range(span.start, span.end)}
        gold = [
            (int(p["start"]), int(p["end"]), str(p["kind"]), bool(p.get("secret", True)))
            for p in letter.get("pii", [])
        ]
        for start, end, kind, secret in gold:
            if not secret:
                continue
            gold_total[kind] += 1
            hidden = all(i in covered for i in range(start, end))
            if hidden and text[start:end] not in result.text:
                gold_masked[kind] += 1
            elif examples and len(misses) < _MAX_EXAMPLES:
                misses.append(
                    {"id": letter.get("id"), "kind": kind, "at": _context(text, start, end)}
                )
        for span in result.spans:
            masks[span.kind] += 1
            if any(span.start < end and start < span.end for start, end, _, _ in gold):
                masks_on_gold[span.kind] += 1
            else:
                false_masks[span.kind] += 1
                if examples and len(wrong) < _MAX_EXAMPLES:
                    wrong.append(
                        {
                            "id": letter.get("id"),
                            "kind": span.kind,
                            "at": _context(text, span.start, span.end),
                        }
                    )
        for keep in letter.get("keep", []):
            keeps += 1
            kept += keep in result.text
    kinds = sorted(set(gold_total) | set(masks))
    per_thousand = 1000 / chars if chars else 0.0
    figures: dict[str, Any] = {
        "letters": count,
        "characters": chars,
        "recall": _ratio(sum(gold_masked.values()), sum(gold_total.values())),
        "precision": _ratio(sum(masks_on_gold.values()), sum(masks.values())),
        "false_masks_per_1000_chars": round(sum(false_masks.values()) * per_thousand, 3),
        "keep_rate": _ratio(kept, keeps),
        "by_kind": {
            kind: {
                "gold": gold_total[kind],
                "recall": _ratio(gold_masked[kind], gold_total[kind]),
                "masks": masks[kind],
                "precision": _ratio(masks_on_gold[kind], masks[kind]),
                "false_masks_per_1000_chars": round(false_masks[kind] * per_thousand, 3),
            }
            for kind in kinds
        },
    }
    if examples:
        figures["misses"] = misses
        figures["false_masks"] = wrong
    return figures
