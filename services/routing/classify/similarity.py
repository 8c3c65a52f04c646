"""Repeated letters (Art. 9 内容重复): the same writer, or near-identical text, lately.

Pure: the routing service fetches the recent letters from its database and passes them in.
Similarity is rapidfuzz's, on characters and on jieba words (so reordered sentences still
match), 0–100.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from pydantic import BaseModel, ConfigDict, Field
from rapidfuzz import fuzz

from services.routing.classify.matching import letter_chars
from services.routing.classify.rules import RepeatRules
from services.routing.classify.segmentation import segment
from shared.events.vocabulary import Person

_KEY_SEPARATOR = "|"
_NON_DIGITS = re.compile(r"\D")
# Texts whose words are kept: the recent letters compared (2,000 by default) and then some.
WORDS_CACHED = 4096


class RecentLetter(NamedTuple):
    """An earlier letter to compare with; `writer_key` as made by `writer_key()`."""

    letter_id: str
    writer_key: str
    text: str
    received_at: datetime


class SimilarLetter(BaseModel):
    """An earlier letter of the same writer, or with nearly the same text."""

    model_config = ConfigDict(frozen=True)

    letter_id: str
    similarity: float = Field(ge=0, le=100, description="rapidfuzz similarity of the texts.")
    same_writer: bool
    received_at: datetime
    repeat: bool = Field(description="Similar enough to make the new letter a repeat.")


def _phone_digits(phone: str) -> str:
    digits = _NON_DIGITS.sub("", phone)
    # +86 / 0086 prefixes are the same phone as the bare mobile number.
    for prefix in ("0086", "86"):
        if len(digits) == len(prefix) + 11 and digits.startswith(prefix):
            return digits[len(prefix) :]
    return digits


def writer_key(person: Person | None) -> str:
    """A key for "same writer": ID number, phone and e-mail parts joined by `|` ("" if none).

    Two keys name the same writer when they share any part; a name alone is too common to
    count, and a name with a phone adds nothing to the phone.
    """
    if person is None:
        return ""
    parts: list[str] = []
    if person.id_number and person.id_number.strip():
        parts.append("id:" + person.id_number.strip().upper())
    if person.phone and len(digits := _phone_digits(person.phone)) >= 7:
        parts.append("phone:" + digits)
    if person.email and "@" in person.email:
        parts.append("email:" + person.email.strip().lower())
    return _KEY_SEPARATOR.join(parts)


def same_writer(key: str, other: str) -> bool:
    """Whether two writer keys share a part."""
    if not key or not other:
        return False
    return bool(set(key.split(_KEY_SEPARATOR)) & set(other.split(_KEY_SEPARATOR)))


def _as_utc(moment: datetime) -> datetime:
    # A naive instant is taken as UTC rather than failing a comparison with an aware one.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


@functools.lru_cache(maxsize=WORDS_CACHED)
def _words(text: str) -> str:
    # token_sort_ratio splits on whitespace: jieba's words joined by spaces. Cached: a new
    # letter is compared with every recent one, so each text would be cut once per letter
    # received (jieba was most of routing's time when thousands of letters were recent).
    return " ".join(segment(text))


def text_similarity(text: str, other: str, *, score_cutoff: float = 0) -> float:
    """Similarity 0–100 of two prepared texts: the better of character and word order-free."""
    a, b = letter_chars(text), letter_chars(other)
    if not a or not b:
        return 0.0
    by_chars = fuzz.ratio(a, b, score_cutoff=score_cutoff)
    if by_chars >= 100:
        return 100.0
    by_words = fuzz.token_sort_ratio(_words(text), _words(other), score_cutoff=score_cutoff)
    return round(max(by_chars, by_words), 1)


def find_similar(
    text: str,
    *,
    writer: str,
    received_at: datetime | None,
    recent: Sequence[RecentLetter | tuple[str, str, str, datetime]],
    rules: RepeatRules,
    prepare: Callable[[str], str],
) -> list[SimilarLetter]:
    """Earlier letters within the window by the same writer or with near-identical text,
    most similar first; `prepare` strips filler so greetings do not make letters alike."""
    window = timedelta(days=rules.window_days)
    now = _as_utc(received_at) if received_at is not None else None
    mine = prepare(text)
    long_enough = len(letter_chars(mine)) >= rules.min_chars
    found: list[SimilarLetter] = []
    for item in recent:
        earlier = RecentLetter(*item)
        when = _as_utc(earlier.received_at)
        if now is not None and abs(now - when) > window:
            continue
        same = same_writer(writer, earlier.writer_key)
        theirs = prepare(earlier.text)
        comparable = long_enough and len(letter_chars(theirs)) >= rules.min_chars
        if same:
            similarity = text_similarity(mine, theirs) if comparable else 0.0
            repeat = comparable and similarity >= rules.same_writer_min_similarity
        elif comparable:
            cutoff = rules.near_identical_min_similarity
            similarity = text_similarity(mine, theirs, score_cutoff=cutoff)
            repeat = similarity >= cutoff
            if not repeat:
                continue
        else:
            continue
        found.append(
            SimilarLetter(
                letter_id=earlier.letter_id,
                similarity=similarity,
                same_writer=same,
                received_at=earlier.received_at,
                repeat=repeat,
            )
        )
    found.sort(key=lambda letter: (letter.repeat, letter.similarity), reverse=True)
    return found[: rules.max_reported]
