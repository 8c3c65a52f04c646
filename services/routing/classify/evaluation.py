"""Agreement of the classifier's suggestions with labelled letters, as JSON-ready figures.

Labels follow the dev set: `nature`, `accepted`, `not_accepted_reason`, `route` (null when
not accepted). The dev set's older reason names are mapped to the regulation's codes.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from services.routing.classify.suggestion import Suggestion
from shared.events.vocabulary import Nature, NotAcceptedReason

# The dev labels say `judicial` for the Art. 9 ground of other authorities and `empty` for
# repeated/empty content.
LABEL_ALIASES: dict[str, str] = {
    "judicial": NotAcceptedReason.other_authority.value,
    "empty": NotAcceptedReason.repetitive_or_empty.value,
}
_MAX_MISMATCHES = 50


def output_record(letter_id: object, suggestion: Suggestion) -> dict[str, Any]:
    """The `mailbox classify --jsonl` answer for one letter."""
    accepted = suggestion.scope.accepted
    competence = suggestion.competence
    return {
        "id": letter_id,
        "nature": suggestion.nature.value.value,
        "accepted": accepted,
        "not_accepted_reason": None if accepted else _value(suggestion.scope.reason),
        "route": competence.route.value if accepted else None,
        "unit": competence.target_id if accepted else None,
        "why": suggestion.why(),
    }


def _value(reason: NotAcceptedReason | None) -> str | None:
    return reason.value if reason is not None else None


def _reason(label: object) -> object:
    return LABEL_ALIASES.get(label, label) if isinstance(label, str) else label


class _Tally:
    def __init__(self) -> None:
        self.correct = 0
        self.total = 0

    def add(self, ok: bool) -> None:
        self.total += 1
        self.correct += ok

    def figures(self) -> dict[str, Any]:
        accuracy = round(self.correct / self.total, 4) if self.total else None
        return {"accuracy": accuracy, "correct": self.correct, "total": self.total}


def agreement(pairs: Iterable[tuple[Mapping[str, Any], Mapping[str, Any]]]) -> dict[str, Any]:
    """Per-field agreement of (output record, labels) pairs, with a confusion table for nature.

    `not_accepted_reason` is scored among letters labelled not accepted, `route` among those
    labelled accepted (a suggestion of "not accepted" there counts as a wrong route); a field
    without a label is not scored.
    """
    tallies = {name: _Tally() for name in ("nature", "accepted", "not_accepted_reason", "route")}
    every_field = _Tally()
    # Letters labelled with `commerce` (whether the matter is the commission's at all):
    # a foreign matter suggested for an own unit, and a commerce matter for the right one.
    foreign = _Tally()
    commerce = _Tally()
    confusion: defaultdict[str, Counter[str]] = defaultdict(Counter)
    mismatches: list[dict[str, Any]] = []
    letters = 0
    for got, labels in pairs:
        expected = {
            "nature": labels.get("nature"),
            "accepted": labels.get("accepted"),
            "not_accepted_reason": _reason(labels.get("not_accepted_reason")),
            "route": labels.get("route"),
        }
        # A field the labels leave out (the real letters carry no scope label) is not scored.
        checked = {
            name: got[name] == expected[name]
            for name in ("nature", "accepted")
            if expected[name] is not None
        }
        if expected["accepted"] is False:
            checked["not_accepted_reason"] = (
                got["not_accepted_reason"] == expected["not_accepted_reason"]
            )
        elif expected["accepted"] is True:
            checked["route"] = got["route"] == expected["route"]
        for name, ok in checked.items():
            tallies[name].add(ok)
            if not ok and len(mismatches) < _MAX_MISMATCHES:
                mismatches.append(
                    {"id": got["id"], "field": name, "expected": expected[name], "got": got[name]}
                )
        letters += 1
        if checked:
            every_field.add(all(checked.values()))
        to_own_unit = got["accepted"] is True and got["route"] == "direct"
        if labels.get("commerce") is False:
            foreign.add(to_own_unit)
        elif labels.get("commerce") is True:
            unit = labels.get("unit")
            commerce.add(to_own_unit and (unit is None or got["unit"] == unit))
        if expected["nature"] is not None:
            confusion[str(expected["nature"])][str(got["nature"])] += 1
    natures = [nature.value for nature in Nature]
    return {
        "letters": letters,
        **{name: tally.figures() for name, tally in tallies.items()},
        "all_fields": every_field.figures(),
        "foreign_matters_to_own_unit": {
            "share": foreign.figures()["accuracy"],
            "letters": foreign.total,
        },
        "commerce_matters_to_right_unit": commerce.figures(),
        "nature_confusion": {
            "rows": "labelled",
            "columns": "suggested",
            "table": {
                label: {nature: row[nature] for nature in natures if row[nature]}
                for label, row in sorted(confusion.items())
            },
        },
        "mismatches": mismatches,
    }
