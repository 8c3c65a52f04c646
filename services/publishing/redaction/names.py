"""Person names in free text, masked as surname + 某 (张三 → 张某, 欧阳娜娜 → 欧阳某).

A segmenter alone misses compound surnames (欧阳 comes out as a place), splits or invents names
(谢谢 is a "name" in jieba's dictionary) and tags places as people (张家界, 高新区). So names come
from five sources, each with its own checks:

1. cues before a name (我叫, 联系人：, 落款, 经理, 顾问, 工作人员 …) and titles after one (先生 …);
2. the segmenter: jieba's dictionary names and its HMM names for unknown words, filtered by the
   surname list and by place and organisation endings;
3. compound surnames followed by a given name;
4. a signature line that is nothing but a name;
5. the sentence's shape (`name_context.py`): the other items of a list with a name in it, a
   name right before a phone number, 的 + a name + 说, a chat line's speaker, and a name in
   Latin letters after 叫 or 英文名.

Every name found once is then masked at each of its occurrences.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from services.publishing.redaction.name_context import (
    contact_names,
    enumerated_names,
    latin_names,
    reported_speech_names,
    speaker_names,
)
from services.publishing.redaction.name_lexicon import (
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
    SOFT_GIVEN,
    STRONG_CUE_RE,
    TITLE_RE,
    is_cjk,
    surname_len,
    surnames,
)
from services.publishing.redaction.name_reading import (
    NameHit,
    Text,
    Token,
    common_word,
    dictionary_famous,
    given_len,
    is_namey,
    is_word,
    name_at,
    segment,
    title_at,
    word_freq,
)
from services.publishing.redaction.patterns import PLATE_RE, Hit, normalise

# A given name that the dictionary knows as a word is rarely a frequent one.
RARE_WORD_FREQ = 1000
RARE_NAMEY_WORD_FREQ = 5000
# Brands and places of three or more characters protect the names inside them: 周黑鸭 has no 周黑.
PROTECTED_RE = re.compile(
    "|".join(sorted((w for w in NOT_NAMES if len(w) >= 3), key=len, reverse=True))
)
SIGNATURE_RE = re.compile(
    r"(?m)^[ \t\u3000]*(?P<name>[\u4e00-\u9fff]{2,4})[ \t\u3000]*"
    r"(?:\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日|\d{4}[-/.]\d{1,2}[-/.]\d{1,2})?[ \t\u3000]*$"
)


# Cues with which the writer names themself or signs: what follows is a name, even one the
# dictionary reads otherwise (我叫令狐冲, 本人夏侯惇), and a space-separated list after them is
# a list of names (签名：王小明 张三 李四).
SELF_CUE_RE = re.compile(
    r"(?:我叫|我名叫|本人叫|本人姓名|本人|来信人|写信人|举报人|投诉人|反映人|落款)"
    r"[!！,，:：\s]*(?:是|为)?[:：\s]*|(?:签名|署名|具名)[:：\s]+"
)
# Compound surnames that read as ordinary words after 本人 (本人第五次投诉, 本人东方红).
_WORDY_COMPOUNDS = frozenset({"第五", "东方", "西门", "东门", "百里", "长孙", "公羊"})
_LIST_GAP_RE = re.compile(r"[ \t\u3000]+")
_LIST_ITEM_RE = re.compile(r"[\u4e00-\u9fff]{2,4}(?![\u4e00-\u9fff])")


def _compound_after_cue(doc: Text, pos: int) -> NameHit | None:
    """A compound surname + one or two characters right after a self-naming cue."""
    text = doc.text
    if surname_len(text, pos) != 2 or text[pos : pos + 2] in _WORDY_COMPOUNDS:
        return None
    tok = doc.token_at(pos)
    if tok is not None and 3 <= tok.end - pos <= 4:
        return NameHit(pos, tok.end, text[pos : pos + 2])  # 令狐冲, 宇文化及: one known word
    n = given_len(doc, pos + 2)
    return NameHit(pos, pos + 2 + n, text[pos : pos + 2]) if n else None


def _self_named(doc: Text) -> Iterable[NameHit]:
    text = doc.text
    for m in SELF_CUE_RE.finditer(text):
        # 本人 is also "myself" before a verb (本人第五次投诉): only a compound surname counts.
        strong = not m.group().startswith("本人") or m.group().startswith(("本人叫", "本人姓名"))
        hit = _compound_after_cue(doc, m.end()) or (
            name_at(doc, m.end(), strong=True) if strong else None
        )
        while hit is not None:
            yield hit
            gap = _LIST_GAP_RE.match(text, hit.end)
            item = gap and _LIST_ITEM_RE.match(text, gap.end())
            if not item:
                break
            hit = _compound_after_cue(doc, item.start()) or name_at(doc, item.start(), strong=True)
            if hit is not None and (hit.end != item.end() or common_word(item.group())):
                hit = None


def _cue_names(doc: Text) -> Iterable[NameHit]:
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


def _plausible(text: str, start: int, end: int, sur: int, *, glued: bool = False) -> bool:
    """Checks for a name found without a cue, where precision matters more.

    `glued`: the segmenter's HMM read the whole candidate as one unknown word, so a
    grammar-like character inside it (温可欣, 李以琳) is part of the name.
    """
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
    inner_ok = SOFT_GIVEN if glued and len(given) == 2 else frozenset()
    if given[0] in NOT_GIVEN - inner_ok or any(ch in NOT_GIVEN for ch in given[1:]):
        return False
    if len(given) == 1 and given in NOT_GIVEN_ALONE:
        return False
    if word[-1] in PLACE_END or PLACE_AFTER.match(text, end):
        return False
    if common_word(word[: sur + 1]):
        return False  # 银行卡 is tagged a name in the dictionary, but 银行 is a bank
    if given[0] == "一" or given[-1] == word[0]:
        return False  # 管一管, 看一看: a verb repeated, not 管某
    if start > 0 and text[start - 1] in NICKNAME_PREFIXES:
        return False  # 小刘骗了我: 小刘 is a nickname, the surname alone
    return not title_at(text, start + sur)


def _segmenter_names(doc: Text) -> Iterable[NameHit]:
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
            if is_namey(tok.flag) and 3 <= len(word) <= 4 and not dictionary_famous(word):
                sur = surname_len(word, 0)
                if sur and _plausible(text, start, c_start + tok.end, sur):
                    yield NameHit(start, c_start + tok.end, word[:sur])
            elif word in compound:
                n = given_len(doc, c_start + tok.end)
                end = c_start + tok.end + n
                if n and _plausible(text, start, end, 2):
                    yield NameHit(start, end, word)


def _surname_word_names(
    doc: Text, offset: int, clause: str, tokens: tuple[Token, ...]
) -> Iterable[NameHit]:
    """A lone surname before a rare two-character word: 谭 国庆, 杜 建平, 唐 小龙.

    Given names are often words themselves, so the dictionary splits the name there. Frequent
    words (领导, 平时) and a surname that reads as a grammar word, a measure word after a
    numeral (一张图片) or a place (高新区) are left alone.
    """
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
        if word_freq(word) >= limit:
            continue
        start, end = offset + sur.start, offset + given.end
        if _plausible(doc.text, start, end, 1):
            yield NameHit(start, end, clause[sur.start])


def _run_names(doc: Text, offset: int, clause: str, run: list[Token]) -> Iterable[NameHit]:
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
        plausible = _plausible(doc.text, start, end, sur, glued=True)
        if sur and plausible and not _runs_on(doc.text, start, end):
            yield NameHit(start, end, word[:sur])


def _runs_on(text: str, start: int, end: int) -> bool:
    """Whether an HMM name is more likely part of a longer name: 春晖路恒大名都 is not 路恒."""
    if start > 0 and (text[start - 1] in PLACE_END or text[start] in PLACE_END):
        return is_cjk(text[start - 1])
    return end < len(text) and is_word(text[end - 1 : end + 1])


def _signature_names(doc: Text) -> Iterable[NameHit]:
    for m in SIGNATURE_RE.finditer(doc.text):
        hit = name_at(doc, m.start("name"), strong=True)
        if hit and hit.end == m.end("name") and not is_word(m.group("name")):
            yield hit


def find_names(text: str, *, known: Iterable[str] = ()) -> list[NameHit]:
    """Person names in `text`, each occurrence of each name, plus occurrences of `known` names."""
    doc = Text(text)
    found: dict[str, str] = {}
    direct = [
        *_cue_names(doc),
        *_self_named(doc),
        *_segmenter_names(doc),
        *_signature_names(doc),
        *contact_names(doc),
        *reported_speech_names(doc),
        *speaker_names(doc),
        *latin_names(text),
    ]
    for hit in (*direct, *enumerated_names(doc, direct)):
        found.setdefault(text[hit.start : hit.end], hit.surname)
    for name in known:
        length = surname_len(name, 0)
        if length and len(name) > length:
            found.setdefault(name, name[:length])
    protected = [m.span() for m in PROTECTED_RE.finditer(text)]
    # A plate's province character is never the end of a name: 农三渝A12345 is 农三 + 渝A12345.
    protected.extend(m.span() for m in PLATE_RE.finditer(normalise(text)))
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
    """Name masks as hits: surname + suffix (某); a name without a known surname → 某某."""
    return [
        Hit(h.start, h.end, "name", h.surname + suffix if h.surname else suffix * 2)
        for h in find_names(text, known=known)
    ]
