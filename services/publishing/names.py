"""Person names in free text, masked as surname + 某 (张三 → 张某, 欧阳娜娜 → 欧阳某).

A segmenter alone misses compound surnames (欧阳 comes out as a place), splits or invents names
(谢谢 is a "name" in jieba's dictionary) and tags places as people (张家界, 高新区). So names come
from four sources, each with its own checks:

1. cues before a name (我叫, 联系人：, 落款, 经理, 工作人员 …) and titles after one (先生, 经理 …);
2. the segmenter: jieba's dictionary names and its HMM names for unknown words, filtered by the
   surname list and by place and organisation endings;
3. compound surnames followed by a given name;
4. a signature line that is nothing but a name.

Every name found once is then masked at each of its occurrences.
"""

from __future__ import annotations

import bisect
import functools
import logging
import re
import warnings
from collections.abc import Iterable
from typing import Any, NamedTuple

from services.publishing.name_lexicon import (
    AMBIGUOUS_SURNAMES,
    GRAMMAR_FLAGS,
    NAME_FOLLOW,
    NICKNAME_PREFIXES,
    NOT_BEFORE_NAME,
    NOT_GIVEN,
    NOT_GIVEN_ALONE,
    NOT_NAMES,
    PLACE_AFTER,
    PLACE_END,
    ROLE_CUE_RE,
    STRONG_CUE_RE,
    TITLE_RE,
    is_cjk,
    surname_len,
    surnames,
)
from services.publishing.pii_patterns import Hit

OOV = "oov"
VERY_COMMON_FREQ = 2000
FAMOUS_WORD_FREQ = 100
# A given name that the dictionary knows as a word is rarely a frequent one.
RARE_WORD_FREQ = 1000
RARE_NAMEY_WORD_FREQ = 5000
# Brands and places of three or more characters protect the names inside them: 周黑鸭 has no 周黑.
PROTECTED_RE = re.compile(
    "|".join(sorted((w for w in NOT_NAMES if len(w) >= 3), key=len, reverse=True))
)
CLAUSE_RE = re.compile(r"[\u4e00-\u9fff]+")
SIGNATURE_RE = re.compile(
    r"(?m)^[ \t\u3000]*(?P<name>[\u4e00-\u9fff]{2,4})[ \t\u3000]*"
    r"(?:\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日|\d{4}[-/.]\d{1,2}[-/.]\d{1,2})?[ \t\u3000]*$"
)


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


class _Text:
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


def _title_at(text: str, pos: int) -> bool:
    return TITLE_RE.match(text, pos) is not None or ROLE_CUE_RE.match(text, pos) is not None


def _given_len(doc: _Text, given: int) -> int:
    """How many characters (0–2) from `given` on make a given name."""
    text = doc.text
    n = 0
    while n < 2 and given + n < len(text):
        ch = text[given + n]
        if not is_cjk(ch) or ch in NOT_GIVEN or _title_at(text, given + n):
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


def name_at(doc: _Text, pos: int, *, strong: bool) -> NameHit | None:
    """The name starting at `pos`, if the text there reads as one."""
    text = doc.text
    sur = surname_len(text, pos)
    if sur == 0:
        return None
    given = pos + sur
    n = _given_len(doc, given)
    if n == 0:
        return None
    end = given + n
    if text[pos:end] in NOT_NAMES or _title_at(text, pos):
        return None  # 司机师傅: the "surname" 师 starts a title
    if any(is_word(text[pos:k]) for k in range(end + 1, min(pos + 4, len(text)) + 1)):
        return None  # 老板娘金口玉言: a name would cut a known word in two
    if any(_very_common(text[pos:k]) for k in range(pos + 2, end + 1)):
        return None  # 此致敬礼！全体业主
    tok = doc.token_at(pos)
    if strong:
        if tok and tok.end - tok.start == 1 and tok.flag in GRAMMAR_FLAGS:
            after = doc.token_at(pos + 1)
            if after and after.end - after.start >= 2 and not is_namey(after.flag):
                return None  # 负责人和相关人员: 和 is a conjunction before a word
        return NameHit(pos, end, text[pos:given])
    if tok is None:
        if not doc.inside_unknown_word(pos):
            return None  # the surname sits inside a word: 感谢 is not 谢
        tok = Token(pos, pos + 1, OOV)
    length = tok.end - tok.start
    if length == 1 and tok.flag in GRAMMAR_FLAGS:
        return None  # 向张经理反映: 向 is a preposition here
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


def _cue_names(doc: _Text) -> Iterable[NameHit]:
    text = doc.text
    for m in STRONG_CUE_RE.finditer(text):
        hit = name_at(doc, m.end(), strong=True)
        if hit:
            yield hit
    for m in ROLE_CUE_RE.finditer(text):
        if doc.token_at(m.end()) is None and not doc.inside_unknown_word(m.end()):
            continue  # 老师傅: the cue is part of a longer word
        hit = name_at(doc, m.end(), strong=False)
        if hit:
            yield hit
    for m in TITLE_RE.finditer(text):
        if m.group() == "某":
            continue
        for back in (4, 3, 2):
            start = m.start() - back
            if start < 0:
                continue
            hit = name_at(doc, start, strong=False)
            if hit and hit.end == m.start():
                yield hit
                break


def _plausible(text: str, start: int, end: int, sur: int) -> bool:
    """Checks for a name found without a cue, where precision matters more."""
    word = text[start:end]
    given = word[sur:]
    if sur == 1 and word[0] in AMBIGUOUS_SURNAMES:
        return False
    if start > 0 and text[start - 1] in NOT_BEFORE_NAME:
        return False
    if len(word) == 2 and (end >= len(text) or text[end] not in NAME_FOLLOW):
        return False  # 高亮匹配, 公钥的: a two-character "name" needs a name-like sequel
    if start > 0 and word[0] in PLACE_END and is_cjk(text[start - 1]):
        return False  # 春晖路华润: the 路 ends a street
    if not 1 <= len(given) <= 2 or word in NOT_NAMES:
        return False
    if any(ch in NOT_GIVEN for ch in given) or (len(given) == 1 and given in NOT_GIVEN_ALONE):
        return False
    if word[-1] in PLACE_END or PLACE_AFTER.match(text, end):
        return False
    if common_word(word[: sur + 1]):
        return False  # 银行卡 is tagged a name in the dictionary, but 银行 is a bank
    if given[0] == "一" or given[-1] == word[0]:
        return False  # 管一管, 看一看: a verb repeated, not 管某
    if start > 0 and text[start - 1] in NICKNAME_PREFIXES:
        return False  # 小刘骗了我: 小刘 is a nickname, the surname alone
    return not _title_at(text, start + sur)


def _segmenter_names(doc: _Text) -> Iterable[NameHit]:
    text = doc.text
    _, compound = surnames()
    for c_start, c_end in doc.clauses:
        clause = text[c_start:c_end]
        tokens = segment(clause, hmm=False)
        yield from _surname_word_names(doc, c_start, clause, tokens)
        run: list[Token] = []
        for tok in (*tokens, Token(len(clause), len(clause), "")):
            word = clause[tok.start : tok.end]
            if tok.end - tok.start == 1:
                run.append(tok)
                continue
            yield from _run_names(doc, c_start, clause, run)
            run = []
            start = c_start + tok.start
            if is_namey(tok.flag) and 3 <= len(word) <= 4 and not _dictionary_famous(word):
                sur = surname_len(word, 0)
                if sur and _plausible(text, start, c_start + tok.end, sur):
                    yield NameHit(start, c_start + tok.end, word[:sur])
            elif word in compound:
                n = _given_len(doc, c_start + tok.end)
                end = c_start + tok.end + n
                if n and _plausible(text, start, end, 2):
                    yield NameHit(start, end, word)


def _surname_word_names(
    doc: _Text, offset: int, clause: str, tokens: tuple[Token, ...]
) -> Iterable[NameHit]:
    """A lone surname before a rare two-character word: 谭 国庆, 杜 建平, 唐 小龙.

    Given names are often words themselves, so the dictionary splits the name there. Frequent
    words (领导, 平时) and a surname that reads as a grammar word, a measure word after a
    numeral (一张图片) or a place (高新区) are left alone.
    """
    freq: dict[str, int] = _posseg().dt.tokenizer.FREQ
    for i in range(len(tokens) - 1):
        sur, given = tokens[i], tokens[i + 1]
        if sur.end - sur.start != 1 or given.end - given.start != 2:
            continue
        if not surname_len(clause, sur.start) or sur.flag in GRAMMAR_FLAGS | {"a", "v"}:
            continue
        if i > 0 and tokens[i - 1].flag in {"m", "q", "r", "mq"}:
            continue
        word = clause[given.start : given.end]
        limit = RARE_NAMEY_WORD_FREQ if is_namey(given.flag) else RARE_WORD_FREQ
        if freq.get(word, 0) >= limit:
            continue
        start, end = offset + sur.start, offset + given.end
        if _plausible(doc.text, start, end, 1):
            yield NameHit(start, end, clause[sur.start])


def _run_names(doc: _Text, offset: int, clause: str, run: list[Token]) -> Iterable[NameHit]:
    """HMM names inside a run of single characters the dictionary did not know (邓洋玉)."""
    if len(run) < 2:
        return
    r_start, r_end = run[0].start, run[-1].end
    chunk = clause[r_start:r_end]
    if not any(surname_len(chunk, i) for i in range(len(chunk) - 1)):
        return
    for tok in segment(chunk, hmm=True):
        if not is_namey(tok.flag):
            continue
        word = chunk[tok.start : tok.end]
        sur = surname_len(word, 0)
        start = offset + r_start + tok.start
        end = start + len(word)
        if sur and _plausible(doc.text, start, end, sur) and not _runs_on(doc.text, start, end):
            yield NameHit(start, end, word[:sur])


def _runs_on(text: str, start: int, end: int) -> bool:
    """Whether an HMM name is more likely part of a longer name: 春晖路恒大名都 is not 路恒."""
    if start > 0 and (text[start - 1] in PLACE_END or text[start] in PLACE_END):
        return is_cjk(text[start - 1])
    return end < len(text) and is_word(text[end - 1 : end + 1])


def common_word(chunk: str) -> bool:
    """A frequent dictionary word that is not a name (银行, 高兴), so not a surname + given."""
    dt = _posseg().dt
    tag: str = dt.word_tag_tab.get(chunk, "")
    freq: int = dt.tokenizer.FREQ.get(chunk, 0)
    return freq >= 50 and not tag.startswith("nr")


def _dictionary_famous(word: str) -> bool:
    # The dictionary's frequent "person" words are mostly transliterated places and brands
    # (阿富汗, 西门子, 夏威夷); a letter's private people are rare or absent there.
    freq: int = _posseg().dt.tokenizer.FREQ.get(word, 0)
    return freq >= FAMOUS_WORD_FREQ


def _very_common(chunk: str) -> bool:
    # Frequent enough that even after 我叫 it is the word, not a name (全体, 高兴, 文明).
    freq: int = _posseg().dt.tokenizer.FREQ.get(chunk, 0)
    return freq >= VERY_COMMON_FREQ


def is_word(chunk: str) -> bool:
    """Whether the segmenter's dictionary knows `chunk` as a word."""
    freq: dict[str, int] = _posseg().dt.tokenizer.FREQ
    return freq.get(chunk, 0) > 0


def _signature_names(doc: _Text) -> Iterable[NameHit]:
    for m in SIGNATURE_RE.finditer(doc.text):
        hit = name_at(doc, m.start("name"), strong=True)
        if hit and hit.end == m.end("name") and not is_word(m.group("name")):
            yield hit


def find_names(text: str, *, known: Iterable[str] = ()) -> list[NameHit]:
    """Person names in `text`, each occurrence of each name, plus occurrences of `known` names."""
    doc = _Text(text)
    found: dict[str, str] = {}
    for hit in (*_cue_names(doc), *_segmenter_names(doc), *_signature_names(doc)):
        found.setdefault(text[hit.start : hit.end], hit.surname)
    for name in known:
        length = surname_len(name, 0)
        if length and len(name) > length:
            found.setdefault(name, name[:length])
    protected = [m.span() for m in PROTECTED_RE.finditer(text)]
    hits: list[NameHit] = []
    for name, surname in found.items():
        start = text.find(name)
        while start != -1:
            end = start + len(name)
            if not any(s < end and start < e for s, e in protected):
                hits.append(NameHit(start, end, surname))
            start = text.find(name, end)
    return hits


def find_name_hits(text: str, *, suffix: str, known: Iterable[str] = ()) -> list[Hit]:
    """Name masks as hits: surname + suffix (某)."""
    return [Hit(h.start, h.end, "name", h.surname + suffix) for h in find_names(text, known=known)]
