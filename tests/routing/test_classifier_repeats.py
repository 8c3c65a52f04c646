"""Repeated letters: the same writer or near-identical text within the window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.routing.classify.classifier import classify
from services.routing.classify.rules import RuleSet, load_rules
from services.routing.classify.similarity import (
    RecentLetter,
    same_writer,
    text_similarity,
    writer_key,
)
from services.routing.classify.suggestion import EvidenceKind, LetterInput
from services.routing.directory.models import Directory, load_directory
from shared.events.vocabulary import NotAcceptedReason, Person

pytestmark = pytest.mark.unit  # needs no server

NOW = datetime(2026, 3, 16, 9, 30, tzinfo=UTC)
COMPLAINT = "我在观音桥商场办的预付卡，商家突然关门跑路，卡里还有三千元无法退还，请帮忙追回。"
WRITER = Person(name="张三", phone="138 0013 8000", id_number="50010619800101123x")
OTHER = Person(name="李四", phone="13900139000")


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return load_rules()


@pytest.fixture(scope="module")
def directory() -> Directory:
    return load_directory()


def _letter(text: str, person: Person | None) -> LetterInput:
    return LetterInput(title="", text=text, person=person, received_at=NOW)


def test_writer_keys_match_on_any_shared_part() -> None:
    key = writer_key(WRITER)

    assert "phone:13800138000" in key
    assert "id:50010619800101123X" in key
    assert same_writer(key, writer_key(Person(phone="+86 138-0013-8000")))
    assert same_writer(key, writer_key(Person(id_number="50010619800101123X")))
    assert not same_writer(key, writer_key(OTHER))
    assert not same_writer(key, writer_key(Person(name="张三")))
    assert writer_key(None) == ""


def test_same_writer_same_matter_within_the_window_is_a_repeat(
    rules: RuleSet, directory: Directory
) -> None:
    earlier = RecentLetter(
        "L-1",
        writer_key(WRITER),
        "尊敬的领导：您好！商家在观音桥商场卖的预付卡，老板突然关门跑路，卡里还有三千元退不了，请帮忙。",
        NOW - timedelta(days=3),
    )

    suggestion = classify(
        _letter(COMPLAINT, WRITER), rules=rules, directory=directory, recent=[earlier]
    )

    [similar] = suggestion.similar_letters
    assert similar.letter_id == "L-1"
    assert similar.same_writer is True
    assert similar.repeat is True
    assert rules.repeats.same_writer_min_similarity <= similar.similarity < 100
    assert suggestion.scope.reason is NotAcceptedReason.repetitive_or_empty
    reason = suggestion.scope.reasons[0]
    assert reason.kind is EvidenceKind.similar_letter
    assert reason.letter_id == "L-1"


def test_same_writer_on_another_matter_is_reported_not_rejected(
    rules: RuleSet, directory: Directory
) -> None:
    earlier = RecentLetter(
        "L-2",
        writer_key(WRITER),
        "建议在南岸区增设便民夜市，方便居民消费。",
        NOW - timedelta(days=1),
    )

    suggestion = classify(
        _letter(COMPLAINT, WRITER), rules=rules, directory=directory, recent=[earlier]
    )

    [similar] = suggestion.similar_letters
    assert similar.same_writer is True
    assert similar.repeat is False
    assert suggestion.scope.accepted is True


def test_near_identical_text_from_another_writer_is_a_repeat(
    rules: RuleSet, directory: Directory
) -> None:
    earlier = RecentLetter("L-3", writer_key(OTHER), COMPLAINT.replace("三千", "3千"), NOW)

    suggestion = classify(
        _letter(COMPLAINT, WRITER), rules=rules, directory=directory, recent=[earlier]
    )

    [similar] = suggestion.similar_letters
    assert similar.same_writer is False
    assert similar.similarity >= rules.repeats.near_identical_min_similarity
    assert suggestion.scope.reason is NotAcceptedReason.repetitive_or_empty


def test_reordered_sentences_are_still_near_identical() -> None:
    first = "商家突然关门跑路。预付卡里还有三千元无法退还。请尽快帮忙追回。"
    second = "预付卡里还有三千元无法退还。请尽快帮忙追回。商家突然关门跑路。"

    assert text_similarity(first, second) >= 92


def test_a_merely_related_letter_of_another_writer_is_ignored(
    rules: RuleSet, directory: Directory
) -> None:
    earlier = RecentLetter(
        "L-4", writer_key(OTHER), "在南坪万达办的健身卡，老板跑路了，卡里钱退不了。", NOW
    )

    suggestion = classify(
        _letter(COMPLAINT, WRITER), rules=rules, directory=directory, recent=[earlier]
    )

    assert suggestion.similar_letters == []
    assert suggestion.scope.accepted is True


@pytest.mark.parametrize("days", [31, 400])
def test_outside_the_window_nothing_is_found(
    days: int, rules: RuleSet, directory: Directory
) -> None:
    assert rules.repeats.window_days < days
    recent = [
        RecentLetter("L-5", writer_key(WRITER), COMPLAINT, NOW - timedelta(days=days)),
        RecentLetter("L-6", writer_key(OTHER), COMPLAINT, NOW - timedelta(days=days)),
    ]

    suggestion = classify(
        _letter(COMPLAINT, WRITER), rules=rules, directory=directory, recent=recent
    )

    assert suggestion.similar_letters == []
    assert suggestion.scope.accepted is True


def test_the_window_is_a_rule(rules: RuleSet, directory: Directory) -> None:
    wider = rules.model_copy(
        update={
            "version": rules.version + 1,
            "repeats": rules.repeats.model_copy(update={"window_days": 90}),
        }
    )
    recent = [("L-7", writer_key(WRITER), COMPLAINT, NOW - timedelta(days=60))]

    narrow = classify(_letter(COMPLAINT, WRITER), rules=rules, directory=directory, recent=recent)
    wide = classify(_letter(COMPLAINT, WRITER), rules=wider, directory=directory, recent=recent)

    assert narrow.similar_letters == []
    assert [s.letter_id for s in wide.similar_letters] == ["L-7"]
    assert wide.scope.reason is NotAcceptedReason.repetitive_or_empty


def test_greetings_alone_do_not_make_letters_alike(rules: RuleSet, directory: Directory) -> None:
    boilerplate = (
        "尊敬的领导：您好！我叫王五，家住渝中区解放碑88号。{}"
        "我的联系电话是13700137000。望尽快处理，谢谢！"
    )
    earlier = RecentLetter("L-8", writer_key(OTHER), boilerplate.format("建议增设便民夜市。"), NOW)

    suggestion = classify(
        _letter(boilerplate.format("举报有人无证经营加油点。"), None),
        rules=rules,
        directory=directory,
        recent=[earlier],
    )

    assert suggestion.similar_letters == []
