"""Reading a person name at a position: the segmenter, its dictionary, and the checks on a name.

Shared by the finders in `names.py` (cues, segmenter, signatures) and `name_context.py`
(enumerations, contact lines, reported speech).
"""

from __future__ import annotations

import bisect
import functools
import logging
import re
import warnings
from typing import Any, NamedTuple

from services.publishing.redaction.name_lexicon import (
    GRAMMAR_FLAGS,
    NICKNAME_PREFIXES,
    NOT_GIVEN,
    NOT_GIVEN_ALONE,
    NOT_NAMES,
    PLACE_AFTER,
    ROLE_CUE_RE,
    TITLE_RE,
    is_cjk,
    surname_len,
)

OOV = "oov"
VERY_COMMON_FREQ = 2000
VERB_FREQ = 5
FAMOUS_WORD_FREQ = 100
MEASURE_FLAGS = frozenset({"q", "m", "mq"})
NOT_GRAMMAR_AFTER_CUE = MEASURE_FLAGS | {"r"}
NUMERAL_BEFORE = frozenset("一二三四五六七八九十百千万两几半每这那哪某此该")
CLAUSE_RE = re.compile(r"[\u4e00-\u9fff]+")


class Token(NamedTuple):
    """A segmenter token, offsets relative to the segmented string."""

    start: int
    end: int
    flag: str


class NameHit(NamedTuple):
    """A person name found in a text."""

    start: int
    end: int
    surname: str


@functools.cache
def _posseg() -> Any:
    # Imported and initialised once, on first use: loading the dictionary takes ~0.6 s.
    # jieba's source has invalid escape sequences; compiling it without cached bytecode warns,
    # which a warnings-as-errors test run would turn into a SyntaxError.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", SyntaxWarning)
        import jieba
        import jieba.posseg

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba.posseg


def is_namey(flag: str) -> bool:
    """A tag a name can have: the dictionary's person tags, or a word the dictionary lacks."""
    return flag.startswith("nr") or flag == OOV


@functools.lru_cache(maxsize=65536)
def segment(chunk: str, *, hmm: bool) -> tuple[Token, ...]:
    """Tagged tokens of a run of Chinese characters (memoised: letters repeat phrases).

    Boundaries come from jieba's word segmenter (its 4-state HMM finds unknown words such as
    names) and tags from its dictionary; `jieba.posseg`'s own HMM tagger would be ~6× slower
    and adds little here, because an unknown word is what a name candidate is. Words the
    dictionary lacks are tagged `OOV`.
    """
    posseg = _posseg()
    tags: dict[str, str] = posseg.dt.word_tag_tab
    tokens: list[Token] = []
    pos = 0
    for word in posseg.dt.tokenizer.cut(chunk, HMM=hmm):
        tokens.append(Token(pos, pos + len(word), tags.get(word, OOV)))
        pos += len(word)
    return tuple(tokens)


class Text:
    """A text with lazily segmented clauses (runs of Chinese characters)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.clauses = [m.span() for m in CLAUSE_RE.finditer(text)]
        self._clause_starts = [s for s, _ in self.clauses]
        self._hmm: dict[int, dict[int, Token]] = {}

    def _clause_of(self, pos: int) -> tuple[int, int] | None:
        i = bisect.bisect_right(self._clause_starts, pos) - 1
        if i < 0 or pos >= self.clauses[i][1]:
            return None
        return self.clauses[i]

    def token_at(self, pos: int) -> Token | None:
        """The HMM token starting at `pos` (absolute offsets), if a token starts there."""
        clause = self._clause_of(pos)
        if clause is None:
            return None
        start, end = clause
        table = self._hmm.get(start)
        if table is None:
            table = {
                start + t.start: Token(start + t.start, start + t.end, t.flag)
                for t in segment(self.text[start:end], hmm=True)
            }
            self._hmm[start] = table
        return table.get(pos)

    def inside_unknown_word(self, pos: int) -> bool:
        """Whether `pos` is inside (not at the start of) a word the dictionary lacks.

        The HMM sometimes glues a name to its cue (队长马 / 六): such a word does not hide a
        name the way a known word (感谢, 老师傅) does.
        """
        if self.token_at(pos) is not None:
            return False
        for back in range(1, 4):
            tok = self.token_at(pos - back)
            if tok is not None:
                return tok.end > pos and tok.flag == OOV
        return False


def title_at(text: str, pos: int) -> bool:
    return TITLE_RE.match(text, pos) is not None or ROLE_CUE_RE.match(text, pos) is not None


def given_len(doc: Text, given: int) -> int:
    """How many characters (0–2) from `given` on make a given name."""
    text = doc.text
    n = 0
    while n < 2 and given + n < len(text):
        ch = text[given + n]
        if not is_cjk(ch) or ch in NOT_GIVEN or title_at(text, given + n):
            break
        if n == 1:
            tok = doc.token_at(given + 1)
            # 刘洋来电: a dictionary word starts at the second character, so the name is 刘洋.
            if tok and tok.end - tok.start >= 2 and not is_namey(tok.flag):
                break
        n += 1
    if n == 1 and text[given] in NOT_GIVEN_ALONE:
        return 0
    return n


def _after_numeral(text: str, pos: int) -> bool:
    """Whether a measure-word reading is possible: 一张, 两张, 3张, 这张."""
    return pos > 0 and (text[pos - 1] in NUMERAL_BEFORE or text[pos - 1].isdigit())


def name_at(doc: Text, pos: int, *, strong: bool, whole_item: bool = False) -> NameHit | None:
    """The name starting at `pos`, if the text there reads as one.

    `whole_item`: punctuation on both sides makes the candidate a list item of its own, so a
    name may start with a frequent or a grammar word (、和平安等) as long as the segmenter keeps
    the surname a word of its own (和 / 平安, but 文明 / 办 and 安全帽 are no names).
    """
    text = doc.text
    sur = surname_len(text, pos)
    if sur == 0:
        return None
    given = pos + sur
    n = given_len(doc, given)
    if n == 0:
        return None
    end = given + n
    if text[pos:end] in NOT_NAMES or title_at(text, pos):
        return None  # 司机师傅: the "surname" 师 starts a title
    if is_verb(text[pos:end]):
        return None  # 负责人商讨…: a verb the dictionary knows, not 商 + 讨
    if any(is_word(text[pos:k]) for k in range(end + 1, min(pos + 4, len(text)) + 1)):
        return None  # 老板娘金口玉言: a name would cut a known word in two
    tok = doc.token_at(pos)
    surname_alone = whole_item and tok is not None and tok.end - tok.start == sur
    if not surname_alone and any(very_common(text[pos:k]) for k in range(pos + 2, end + 1)):
        return None  # 此致敬礼！全体业主
    if strong:
        # After a strong cue only a conjunction, preposition or adverb reads as grammar: a
        # surname tagged pronoun (任), numeral (许) or measure word is the name, and so is a
        # compound surname the segmenter split (上 / 官军).
        grammar = tok is not None and tok.flag in GRAMMAR_FLAGS - NOT_GRAMMAR_AFTER_CUE
        if sur == 1 and tok and tok.end - tok.start == 1 and grammar and not surname_alone:
            after = doc.token_at(pos + 1)
            if after and after.end - after.start >= 2 and not is_namey(after.flag):
                return None  # 负责人和相关人员: 和 is a conjunction before a word
        return NameHit(pos, end, text[pos:given])
    if tok is None:
        if not doc.inside_unknown_word(pos):
            return None  # the surname sits inside a word: 感谢 is not 谢
        tok = Token(pos, pos + 1, OOV)
    length = tok.end - tok.start
    measure = tok.flag in MEASURE_FLAGS and not _after_numeral(text, pos)
    if length == 1 and tok.flag in GRAMMAR_FLAGS and not measure:
        return None  # 向张经理反映: 向 is a preposition here; 母亲张淑珍 has no numeral for 张
    if length >= 2 and not is_namey(tok.flag) and not (sur == 2 and length == 2):
        return None  # 高兴, 南岸区, 周末
    if n == 2 and sur == 1 and is_namey(tok.flag) and length == 2:
        after = doc.token_at(given + 1)
        if after and after.end - after.start == 1 and after.flag in GRAMMAR_FLAGS | {"v"}:
            end = given + 1  # 李明看了: the segmenter knows 李明 ends before 看
    if PLACE_AFTER.match(text, end):
        return None
    if pos > 0 and text[pos - 1] in NICKNAME_PREFIXES:
        return None
    return NameHit(pos, end, text[pos:given])


def is_verb(chunk: str) -> bool:
    """A verb the dictionary has seen at least a few times (商讨, 代收, 回复)."""
    return word_tag(chunk).startswith("v") and word_freq(chunk) >= VERB_FREQ


def common_word(chunk: str) -> bool:
    """A frequent dictionary word that is not a name (银行, 高兴), so not a surname + given."""
    dt = _posseg().dt
    tag: str = dt.word_tag_tab.get(chunk, "")
    freq: int = dt.tokenizer.FREQ.get(chunk, 0)
    return freq >= 50 and not tag.startswith("nr")


def dictionary_famous(word: str) -> bool:
    # The dictionary's frequent "person" words are mostly transliterated places and brands
    # (阿富汗, 西门子, 夏威夷); a letter's private people are rare or absent there.
    freq: int = _posseg().dt.tokenizer.FREQ.get(word, 0)
    return freq >= FAMOUS_WORD_FREQ


def very_common(chunk: str) -> bool:
    # Frequent enough that even after 我叫 it is the word, not a name (全体, 高兴, 文明).
    freq: int = _posseg().dt.tokenizer.FREQ.get(chunk, 0)
    return freq >= VERY_COMMON_FREQ


def word_freq(word: str) -> int:
    """How often the segmenter's dictionary has seen `word` (0 for an unknown word)."""
    freq: int = _posseg().dt.tokenizer.FREQ.get(word, 0)
    return freq


def word_tag(word: str) -> str:
    """The dictionary's part-of-speech tag of `word` (OOV for an unknown word)."""
    tag: str = _posseg().dt.word_tag_tab.get(word, OOV)
    return tag


def is_word(chunk: str) -> bool:
    """Whether the segmenter's dictionary knows `chunk` as a word."""
    freq: dict[str, int] = _posseg().dt.tokenizer.FREQ
    return freq.get(chunk, 0) > 0
