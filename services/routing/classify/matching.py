"""Rules and directory compiled into matchers, cached per version and content.

Compiling is cheap, but the classifier runs on every letter; the cache keeps it off the hot
path. The key holds a digest of the content as well as `version`, so an edit that forgets to
raise the version still applies on the next call, and two rule sets sharing a version number
never share matchers.
"""

from __future__ import annotations

import functools
import hashlib
import re
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from pydantic import BaseModel

from services.routing.classify.patterns import Filler, compile_filler
from services.routing.classify.rules import RuleSet, ScopeRule
from services.routing.directory.models import Directory, ExternalRecipient, RecipientKind, Unit
from shared.events.vocabulary import Nature

# A name or alias in the letter ("请市场监管局查处") says more than one topic word.
NAME_WEIGHT = 2.0
KEYWORD_WEIGHT = 1.0
_CACHE_SIZE = 16
_T = TypeVar("_T")
# A clause runs up to and including its punctuation; filler is judged clause by clause.
_CLAUSE = re.compile(r"[^。！？!?；;，,：:\n\r]+[。！？!?；;，,：:\n\r]*|[。！？!?；;，,：:\n\r]+")
_DELIMITERS = "。！？!?；;，,：:\n\r \t"
_LETTERS = re.compile(r"[\w]", re.UNICODE)
# Texts whose prepared forms are kept: repeat detection prepares every recent letter (2,000
# by default) for each letter received, the same texts again and again.
TEXTS_CACHED = 8192


def normalise(text: str) -> str:
    """NFKC (full-width to half-width) and lower case: how letters and keywords are compared."""
    return unicodedata.normalize("NFKC", text).lower()


@functools.lru_cache(maxsize=TEXTS_CACHED)
def letter_chars(text: str) -> str:
    """Only the letters and digits of `text` (no spaces or punctuation)."""
    return "".join(_LETTERS.findall(text))


@dataclass(frozen=True, slots=True)
class CueMatch:
    """Which words of a cue list a text contains, and their summed weight."""

    score: float
    words: tuple[str, ...]


NO_MATCH = CueMatch(score=0.0, words=())


def joined(match: CueMatch) -> str:
    """The matched words as a clerk reads them: 质量问题、拒绝赔偿."""
    return "、".join(match.words)


@dataclass(frozen=True, slots=True)
class CueTable:
    """Weighted words, normalised, longest first."""

    words: tuple[tuple[str, float], ...]

    @classmethod
    def build(cls, cues: Mapping[str, float]) -> CueTable:
        """Normalise the words; on a duplicate after normalising, the larger weight wins."""
        merged: dict[str, float] = {}
        for word, weight in cues.items():
            key = normalise(word).strip()
            if key:
                merged[key] = max(weight, merged.get(key, 0.0))
        ordered = sorted(merged.items(), key=lambda item: (-len(item[0]), item[0]))
        return cls(words=tuple(ordered))

    def match(self, text: str) -> CueMatch:
        """Sum the weights of the words in `text`; a word inside a longer found word is not
        counted again (无证经营 found: 无证 adds nothing)."""
        found: list[tuple[str, float]] = []
        for word, weight in self.words:
            if word in text and not any(word in longer for longer, _ in found):
                found.append((word, weight))
        if not found:
            return NO_MATCH
        return CueMatch(score=sum(weight for _, weight in found), words=tuple(w for w, _ in found))


@dataclass(frozen=True, slots=True)
class CompiledRules:
    """A `RuleSet` ready to apply."""

    rules: RuleSet
    filler: Filler | None
    nature: tuple[tuple[Nature, CueTable], ...]
    nature_title: tuple[tuple[Nature, CueTable], ...]
    scope: tuple[tuple[ScopeRule, CueTable], ...]
    escalate: CueTable
    local: CueTable
    own_mentions: CueTable

    def substantive(self, text: str) -> str:
        """The normalised text without clauses that are only greeting, self-introduction,
        contact details or closing formulas."""
        return _substantive(self.filler, text)


@functools.lru_cache(maxsize=TEXTS_CACHED)
def _substantive(filler: Filler | None, text: str) -> str:
    normalised = normalise(text)
    if filler is None:
        return normalised.strip()
    kept = [
        clause
        for clause in _CLAUSE.findall(normalised)
        if not filler.fullmatch(clause.strip(_DELIMITERS))
    ]
    return "".join(kept).strip()


@dataclass(frozen=True, slots=True)
class CompiledDirectory:
    """A `Directory` ready to apply: cue tables per unit, department and district."""

    directory: Directory
    units: tuple[tuple[Unit, CueTable], ...]
    departments: tuple[tuple[ExternalRecipient, CueTable], ...]
    districts: tuple[tuple[ExternalRecipient, CueTable], ...]


def keyword_weight(keyword: str) -> float:
    """Longer keywords are more specific: 2 characters weigh 1, each more adds a quarter, up to 2.

    So 拖欠工资 (a department's matter) outweighs 餐馆 (where it happened).
    """
    return KEYWORD_WEIGHT * (1 + 0.25 * (min(len(normalise(keyword)), 6) - 2)) if keyword else 0.0


def _entry_cues(entry: Unit | ExternalRecipient) -> CueTable:
    cues = {keyword: max(keyword_weight(keyword), KEYWORD_WEIGHT) for keyword in entry.keywords}
    for name in (entry.name, *entry.aliases):
        cues[name] = NAME_WEIGHT
    return CueTable.build(cues)


def _compile_rules(rules: RuleSet) -> CompiledRules:
    return CompiledRules(
        rules=rules,
        filler=compile_filler(rules.filler_patterns),
        nature=tuple((nature, CueTable.build(cues)) for nature, cues in rules.nature.cues.items()),
        nature_title=tuple(
            (nature, CueTable.build(cues)) for nature, cues in rules.nature.title_cues.items()
        ),
        scope=tuple((rule, CueTable.build(rule.cues)) for rule in rules.scope.rules),
        escalate=CueTable.build(rules.competence.escalate_cues),
        local=CueTable.build(rules.competence.local_cues),
        own_mentions=CueTable.build(rules.competence.own_mentions),
    )


def _compile_directory(directory: Directory) -> CompiledDirectory:
    def recipients(kind: RecipientKind) -> Iterable[ExternalRecipient]:
        return (r for r in directory.recipients if r.kind is kind)

    return CompiledDirectory(
        directory=directory,
        units=tuple((unit, _entry_cues(unit)) for unit in directory.units),
        departments=tuple(
            (r, _entry_cues(r)) for r in recipients(RecipientKind.municipal_department)
        ),
        # A district is located by its names only: its name alone ("沙坪坝龙湖天街") does not
        # make a matter the district's.
        districts=tuple(
            (r, CueTable.build(dict.fromkeys((r.name, *r.aliases), NAME_WEIGHT)))
            for r in recipients(RecipientKind.district_government)
        ),
    )


class _Cache:
    """A small LRU of compiled objects keyed by (type, version, content digest)."""

    def __init__(self) -> None:
        self._items: OrderedDict[tuple[str, int, bytes], object] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, model: BaseModel, *, version: int, build: Callable[[], _T]) -> _T:
        digest = hashlib.blake2b(model.model_dump_json().encode(), digest_size=16).digest()
        key = (type(model).__name__, version, digest)
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]  # type: ignore[return-value]
        built = build()
        with self._lock:
            self._items[key] = built
            while len(self._items) > _CACHE_SIZE:
                self._items.popitem(last=False)
        return built


_cache = _Cache()


def compiled_rules(rules: RuleSet) -> CompiledRules:
    """The rule set compiled, from the cache when this version and content were seen."""
    return _cache.get(rules, version=rules.version, build=lambda: _compile_rules(rules))


def compiled_directory(directory: Directory) -> CompiledDirectory:
    """The directory compiled, from the cache when this version and content were seen."""
    return _cache.get(
        directory, version=directory.version, build=lambda: _compile_directory(directory)
    )
