"""Rules and directory are data: an edit applies to the next call, without reload or restart."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from services.routing.classify.classifier import classify
from services.routing.classify.rules import DEFAULT_RULES_PATH, RuleSet, load_rules
from services.routing.classify.suggestion import LetterInput
from services.routing.directory.models import Directory, load_directory
from shared.events.vocabulary import Nature, NotAcceptedReason, Route

pytestmark = pytest.mark.unit  # needs no server

LETTER = LetterInput(text="夜市摊位出租，日租金低至50元，欢迎入驻。")


@pytest.fixture
def rules() -> RuleSet:
    return load_rules()


@pytest.fixture(scope="module")
def directory() -> Directory:
    return load_directory()


def test_a_new_cue_applies_to_the_next_letter(rules: RuleSet, directory: Directory) -> None:
    before = classify(LETTER, rules=rules, directory=directory)
    advertising = next(r for r in rules.scope.rules if r.reason is NotAcceptedReason.advertising)
    edited_rule = advertising.model_copy(update={"cues": {**advertising.cues, "欢迎入驻": 5.0}})
    edited = rules.model_copy(
        update={
            "version": rules.version + 1,
            "scope": rules.scope.model_copy(
                update={
                    "rules": [
                        edited_rule if r.reason is NotAcceptedReason.advertising else r
                        for r in rules.scope.rules
                    ]
                }
            ),
        }
    )

    after = classify(LETTER, rules=edited, directory=directory)
    again_before = classify(LETTER, rules=rules, directory=directory)

    assert before.scope.accepted is True
    assert after.scope.reason is NotAcceptedReason.advertising
    assert "欢迎入驻" in after.scope.reasons[0].words
    assert after.rules_version == rules.version + 1
    assert again_before.scope.accepted is True


def test_an_edit_in_place_applies_even_without_a_version_bump(
    rules: RuleSet, directory: Directory
) -> None:
    letter = LetterInput(text="关于夜市摊位的事情，特此来信。")
    before = classify(letter, rules=rules, directory=directory)

    cues = rules.nature.cues[Nature.suggestion]
    rules.nature.cues[Nature.suggestion] = {**cues, "特此来信": 9.0}
    after = classify(letter, rules=rules, directory=directory)

    assert before.nature.value is not Nature.suggestion
    assert after.nature.value is Nature.suggestion


def test_a_directory_edit_applies_to_the_next_letter(directory: Directory) -> None:
    rules = load_rules()
    letter = LetterInput(text="我们想开一家自助洗车店，需要办哪些手续？")
    edited = directory.model_copy(deep=True)
    unit = edited.unit("service-industry")
    assert unit is not None
    unit.keywords.append("洗车")

    before = classify(letter, rules=rules, directory=directory)
    after = classify(letter, rules=rules, directory=edited)

    assert before.competence.lead_unit_id != "service-industry"
    assert after.competence.route is Route.direct
    assert after.competence.lead_unit_id == "service-industry"


def test_the_priority_of_grounds_is_the_order_of_the_rules(
    rules: RuleSet, directory: Directory
) -> None:
    letter = LetterInput(text="法院判决不公，代开发票请加微信，有意者联系。")
    reordered = rules.model_copy(
        update={
            "version": rules.version + 1,
            "scope": rules.scope.model_copy(update={"rules": list(reversed(rules.scope.rules))}),
        }
    )

    first = classify(letter, rules=rules, directory=directory)
    second = classify(letter, rules=reordered, directory=directory)

    assert first.scope.reason is NotAcceptedReason.advertising
    assert second.scope.reason is NotAcceptedReason.other_authority
    assert NotAcceptedReason.advertising in {a.reason for a in second.scope.alternatives}


def test_the_packaged_rules_round_trip() -> None:
    rules = load_rules()

    assert RuleSet.model_validate_json(rules.model_dump_json()) == rules
    assert rules.version >= 1
    assert set(rules.nature.cues) == set(Nature)


def test_a_broken_filler_pattern_is_refused(tmp_path: Path) -> None:
    raw = json.loads(DEFAULT_RULES_PATH.read_text(encoding="utf-8"))
    raw["filler_patterns"].append("(unclosed")
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")

    with pytest.raises(ValidationError, match="filler pattern"):
        load_rules(path)


def test_two_rules_for_one_ground_are_refused() -> None:
    raw = json.loads(DEFAULT_RULES_PATH.read_text(encoding="utf-8"))
    raw["scope"]["rules"].append(raw["scope"]["rules"][0])

    with pytest.raises(ValidationError, match="only one rule"):
        RuleSet.model_validate(raw)
