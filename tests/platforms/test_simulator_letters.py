"""Letters the simulator serves: generated ones are realistic and repeatable, loaded ones
are spread over the platforms by id."""

from __future__ import annotations

import random
import re
from collections import Counter
from pathlib import Path

import pytest

from devkit.simulator.letters import (
    assign_platform,
    draft_letter,
    id_check_digit,
    load_jsonl_letters,
)
from devkit.simulator.state import SimulatorState

pytestmark = pytest.mark.unit  # needs no server

DEV_LETTERS = Path(__file__).resolve().parents[3] / "shared" / "data" / "dev-letters.jsonl"


def test_the_same_seed_writes_the_same_letters() -> None:
    first = [draft_letter(random.Random(7)) for _ in range(3)]
    again = [draft_letter(random.Random(7)) for _ in range(3)]
    other = [draft_letter(random.Random(8)) for _ in range(3)]
    assert first == again
    assert first != other


def test_generated_letters_vary_and_carry_valid_personal_data() -> None:
    rng = random.Random(11)
    drafts = [draft_letter(rng) for _ in range(300)]
    natures = Counter(d.nature for d in drafts)
    assert set(natures) == {"suggestion", "help", "complaint", "report", "consultation", "other"}
    assert len({d.person.name for d in drafts}) > 100
    for draft in drafts:
        person = draft.person
        assert person.id_number is not None and len(person.id_number) == 18
        assert id_check_digit(person.id_number[:17]) == person.id_number[17]
        assert person.phone is not None
        assert re.fullmatch(r"1[3-9]\d{9}|023-6\d{7}", person.phone)
        assert draft.title and draft.text
    assert any(d.person.name and d.person.name in d.text for d in drafts)
    assert any(d.person.email for d in drafts)


def test_a_known_id_number_has_its_check_digit() -> None:
    # GB 11643's worked example.
    assert id_check_digit("11010519491231002") == "X"


def test_the_same_seed_fills_the_platforms_the_same_way() -> None:
    one, two = SimulatorState(), SimulatorState()
    assert one.generate(50, seed=4) == two.generate(50, seed=4)
    assert sum(len(ids) for ids in one.generate(10, seed=5).values()) == 10


@pytest.mark.skipif(not DEV_LETTERS.exists(), reason=f"{DEV_LETTERS} is not on this machine")
def test_dev_letters_are_spread_over_the_platforms_by_id() -> None:
    letters = load_jsonl_letters(DEV_LETTERS)
    state = SimulatorState()
    counts = state.load_letters(letters)
    assert sum(counts.values()) == len(letters) == 240
    assert all(count > 40 for count in counts.values())
    ids = list(state.feeds)
    for pid, feed in state.feeds.items():
        assert all(assign_platform(e.external_id or "", ids) == pid for e in feed.entries)
    times = [letter.submitted_at for letter in letters]
    assert times == sorted(times) and len(set(times)) == len(times)
    assert letters[0].person.name and letters[0].person.id_number


def test_a_broken_jsonl_line_is_reported_with_its_number(tmp_path: Path) -> None:
    path = tmp_path / "letters.jsonl"
    path.write_text('{"id": "a", "title": "t", "text": "x", "person": {}}\n{"id": "b"}\n')
    with pytest.raises(ValueError, match=r"letters.jsonl:2"):
        load_jsonl_letters(path)
