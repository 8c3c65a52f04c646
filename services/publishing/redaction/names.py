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
    OFFICE_AFTER_RE,
    among_words,
    beside_public_figure,
    contact_names,
    cued_twice,
    enumerated_names,
    glued_between,
    latin_names,
    named_in_office,
    official_at,
    org_somewhere,
    quoted_scholar,
    reported_speech_names,
    signed_with_unit,
    speaker_names,
)
from services.publishing.redaction.name_lexicon import (
    AMBIGUOUS_SURNAMES,
    NAME_FOLLOW,
    NICKNAME_PREFIXES,
    NOT_GIVEN,
    NOT_GIVEN_ALONE,
    NOT_NAMES,
    PERSON_AFTER,
    PLACE_AFTER,
    PLACE_END,
    PLACE_LIST_AFTER,
    PUBLIC_FIGURES,
    ROLE_CUE_RE,
    SOFT_GIVEN,
    STRONG_CUE_RE,
    TITLE_RE,
    is_cjk,
    surname_len,
)
from services.publishing.redaction.name_reading import (
    OOV,
    NameHit,
    Text,
    common_word,
    given_len,
    is_verb,
    is_word,
    name_at,
    title_at,
    word_freq,
    word_tag,
)
from services.publishing.redaction.patterns import PLATE_RE, Hit, normalise
from services.publishing.redaction.persons import Person, find_persons

# How sure the NER must be of a name no cue confirms (`persons.Person.margin`): decided on the
# annotated real letters, where a lower threshold costs more false masks than it finds names.
NER_MARGIN = -0.5
NER_MARGIN_SHORT = 1.0
# A candidate the dictionary has seen this often with a tag that is no name's is a word.
DICTIONARY_WORD_FREQ = 5
_NAME_TAGS = frozenset({"nr", "nrfg", "ns", "nz", OOV})
# A two-character "given name" this frequent in the dictionary is a word (男子, 金子).
EVERYDAY_GIVEN_FREQ = 1000
# ... as a noun, verb or adjective: 建国 (a place), 和平 (a proper noun) are also given names.
_EVERYDAY_TAGS = frozenset({"n", "v", "a", "vn", "an", "ad", "d"})
# What ends a hamlet's name after 家 (陈家冲, 李家垸), besides a place's usual endings.
_HAMLET_END = PLACE_END | frozenset("冲垸屋铺垄坳岗冈圳")
# Grammar characters that are a given name's last when punctuation follows (刘明向，).
_PREPOSITIONS = frozenset("向于以从对跟与")
# Words that end a name before them: adverbs, prepositions, conjunctions (竟然, 因为, 和).
_GRAMMAR_WORD_TAGS = frozenset({"d", "p", "c"})
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
        # ... but 本人晏光明，: a name that punctuation closes after it is one.
        hit = _compound_after_cue(doc, m.end()) or (
            _after_strong_cue(doc, m.end()) if strong else _closed_after_self(doc, m.end())
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


# After a strong cue, a surname and one or two characters that punctuation or space closes
# are the name even where the dictionary reads a word (我叫喻和平，; 联系人：范熙 ).
_CLOSED_NAME_RE = re.compile(r"[\u4e00-\u9fff]{2,4}(?=[\s，,。.；;、：:（(！!]|$)")


def _closed_name(doc: Text, pos: int) -> NameHit | None:
    m = _CLOSED_NAME_RE.match(doc.text, pos)
    sur = surname_len(doc.text, pos)
    if m is None or not sur or not 1 <= m.end() - pos - sur <= 2:
        return None
    word = m.group()
    if common_word(word) or title_at(doc.text, pos + sur) or word in NOT_NAMES or is_verb(word):
        return None
    if word[-1] in PLACE_END or org_somewhere(doc.text, word):
        return None  # 本人华锦城（…）: an estate, its 物业 elsewhere
    tok = doc.token_at(pos)
    grammar = sur == 1 and tok and tok.end == pos + 1 and tok.flag in _GRAMMAR_WORD_TAGS
    if grammar and is_word(word[1:]):
        return None  # 本人和家人，法人和股东: a conjunction or preposition before a word
    return NameHit(pos, m.end(), word[:sur])


def _closed_after_self(doc: Text, pos: int) -> NameHit | None:
    """A closed name after 本人, which is also "my": not a word (本人党费，) nor 于/和 + word."""
    hit = _closed_name(doc, pos)
    if hit is None or doc.text[pos] in AMBIGUOUS_SURNAMES or is_word(doc.text[pos : hit.end]):
        return None
    return hit


def _after_strong_cue(doc: Text, pos: int) -> NameHit | None:
    """The name right after a strong cue; the closed reading wins when longer (我叫邱丽会，)."""
    hit = name_at(doc, pos, strong=True)
    closed = _closed_name(doc, pos)
    if closed is not None and (hit is None or closed.end > hit.end):
        return closed
    return hit


def _strong_cue_names(doc: Text) -> Iterable[NameHit]:
    for m in STRONG_CUE_RE.finditer(doc.text):
        hit = _after_strong_cue(doc, m.end())
        if hit:
            yield hit


def _role_named(doc: Text) -> Iterable[NameHit]:
    """A role word that names someone (骑手叫幸东升, 司机姓名任浩然): as strong as 我叫."""
    for m in ROLE_CUE_RE.finditer(doc.text):
        if "叫" in m.group() or "姓名" in m.group():
            hit = _after_strong_cue(doc, m.end())
            if hit:
                yield hit


def _confirmed(doc: Text, hits: Iterable[NameHit]) -> Iterable[NameHit]:
    """The hits the NER also reads as (part of) a person: a weak cue only confirms."""
    persons = find_persons(doc.text)
    for hit in hits:
        if any(p.start < hit.end and hit.start < p.end for p in persons):
            yield hit


def _cue_names(doc: Text) -> Iterable[NameHit]:
    """Names after a role word (经理, 邻居 …) or before a title (先生, 教授 …)."""
    text = doc.text
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


def _ner_name(doc: Text, start: int, end: int) -> NameHit | None:
    """A person the NER proposed, if it reads as a private person's full name.

    The NER also tags a surname with a title (杨书记), nicknames (老王), public figures, and
    words that only begin with a surname when a letter's style is far from its news text; a
    place or an organisation's ending (翁家湾村) or a title right after the surname rules the
    candidate out.
    """
    text = doc.text
    word = text[start:end]
    if _nickname(word):
        return NameHit(start, end, word[0])  # 导游阿强 → 阿某: the given name names
    sur = surname_len(word, 0)
    given = word[sur:]
    if not sur or not 1 <= len(given) <= 2 or not all(is_cjk(ch) for ch in word):
        return None
    if word in NOT_NAMES or word in PUBLIC_FIGURES or title_at(text, start + sur):
        return None
    tag = word_tag(word)
    if tag == "nrt" or (word_freq(word) >= DICTIONARY_WORD_FREQ and tag not in _NAME_TAGS):
        return None  # 斯特拉: a transliteration; 焦煤, 索求: words the dictionary knows
    inner_ok = SOFT_GIVEN if len(given) == 2 else frozenset()
    if given[0] in NOT_GIVEN - inner_ok or any(ch in NOT_GIVEN for ch in given[1:]):
        return None  # 温可欣, 李以琳: a soft grammar character inside a two-character given name
    if len(given) == 1 and given in NOT_GIVEN_ALONE:
        return None
    if len(given) == 2 and given[0] == "家" and given[1] in _HAMLET_END:
        return None  # 陈家冲: a hamlet
    place_after = PLACE_AFTER.match(text, end) and not OFFICE_AFTER_RE.match(text, end)
    if word[-1] in PLACE_END or place_after or common_word(word):
        return None  # 翁家湾村, 邵安房地产; but 邹康健县长 is a person
    if len(given) == 2 and (given[0] == given[1] == word[0] or _everyday(given)):
        return None  # 牛牛牛, 邓男子: the "given name" is an everyday word
    if len(given) == 2 and _word_then_word(text, start, sur, given):
        return None  # 跪谢隆恩: 跪谢 + 隆恩; 莫票子: 莫 (don't) + 票子
    if start > 0 and text[start - 1] == word[0] and len(given) == 2 and given[0] == given[1]:
        return None  # 许许多多: a doubled word, no 许多多
    if start > 0 and text[start - 1] in NICKNAME_PREFIXES and sur == 1 and len(given) == 1:
        return None  # 小刘: a nickname, the surname alone
    return NameHit(start, end, word[:sur])


# A given name the dictionary has seen this often as a word, after a surname that reads as a
# grammar word (莫, 但, 于), makes the pair a grammar word and a word.
_GRAMMAR_SURNAME_GIVEN_FREQ = 100


def _word_then_word(text: str, start: int, sur: int, given: str) -> bool:
    """Whether the text reads as two words where the NER sees surname + given name.

    The surname ends a word that starts before it (跪谢 / 隆恩, 叩谢 / 鸿恩), or it is itself a
    grammar word before an everyday word (莫 / 金子).
    """
    if not is_word(given):
        return False
    if sur == 1 and start > 0 and is_cjk(text[start - 1]) and is_word(text[start - 1 : start + 1]):
        return True
    grammar = sur == 1 and word_tag(text[start]) in _GRAMMAR_WORD_TAGS
    everyday = word_freq(given) >= _GRAMMAR_SURNAME_GIVEN_FREQ and word_tag(given) not in _NAME_TAGS
    return grammar and everyday


def _nickname(word: str) -> bool:
    """阿 + a given name's character (阿强), not a kinship word (阿姨, 阿婆) or a brand."""
    if len(word) != 2 or word[0] != "阿" or not is_cjk(word[1]):
        return False
    return word[1] not in NOT_GIVEN | NOT_GIVEN_ALONE and not is_word(word)


def _everyday(word: str) -> bool:
    return word_freq(word) >= EVERYDAY_GIVEN_FREQ and word_tag(word) in _EVERYDAY_TAGS


def _extended(doc: Text, hit: NameHit, person_starts: frozenset[int]) -> NameHit:
    """surname + one character, extended by a third the NER left out (陈军 + 建为 → 陈军建).

    The NER cuts a three-character name before a character it rarely sees in names; the third
    counts when it starts no word and a boundary follows it (punctuation, 的, 说, a title, a
    grammar word, another person: 陈立伟周海涛).
    """
    text, end = doc.text, hit.end
    if end - hit.start != 1 + len(hit.surname) or end + 1 >= len(text):
        return hit
    third, after = text[end], text[end + 1]
    if third in _PREPOSITIONS and not is_cjk(after) and not after.isalnum():
        return hit._replace(end=end + 1)  # 邢立向（…: a preposition has no object there
    if not is_cjk(third) or third in NOT_GIVEN or third in NOT_GIVEN_ALONE or title_at(text, end):
        return hit
    if OFFICE_AFTER_RE.match(text, end + 1) and not is_word(text[end - 1 : end + 1]):
        return hit._replace(end=end + 1)  # 王德小院士: an office after the third, whatever 小院 is
    if is_word(text[end : end + 2]) or is_word(text[end - 1 : end + 1]):
        return hit
    bounded = not is_cjk(after) or after in NOT_GIVEN or after in NAME_FOLLOW
    # 余连三竟然…: an adverb, a preposition or a conjunction starts right after the third.
    grammar_after = word_tag(text[end + 1 : end + 3]) in _GRAMMAR_WORD_TAGS
    extend = bounded or grammar_after or title_at(text, end + 1) or end + 1 in person_starts
    return hit._replace(end=end + 1) if extend else hit


def _ner_names(doc: Text) -> Iterable[NameHit]:
    """NER persons that pass the checks, each name once its surest occurrence is sure enough.

    The thresholds on the NER's margin come from real letters: a two-character name needs
    more than a three-character one, whose given name is rarely an everyday word.
    """
    text = doc.text
    best: dict[str, float] = {}
    hits: list[NameHit] = []
    places: set[str] = set()
    persons = find_persons(text)
    starts = frozenset(p.start for p in persons)
    for person in persons:
        if PLACE_AFTER.match(text, person.end) and not OFFICE_AFTER_RE.match(text, person.end):
            places.add(text[person.start : person.end])  # 邵安房地产: a company throughout
        person = _surname_alone(doc, person)
        hit = _ner_name(doc, person.start, person.end)
        if hit is None:
            continue
        short = hit.end - hit.start - len(hit.surname) == 1
        if short and is_word(text[hit.end - 1 : hit.end + 1]):
            continue  # 蒋步入小学: the given name is the first half of a word
        # The NER's own reading decides how sure it must be; a third character added after.
        threshold = NER_MARGIN_SHORT if short else NER_MARGIN
        if person.margin >= threshold:
            hit = _extended(doc, hit, starts)
        word = text[hit.start : hit.end]
        hits.append(hit)
        # 以侯强为首, 侯强等人, a name that ends a signature line: a person, however unsure
        # the NER is.
        vouched = PERSON_AFTER.match(text, hit.end) or _signs_line(text, hit.start, hit.end)
        sure = 0.0 if vouched else person.margin - threshold
        best[word] = max(best.get(word, -1e9), sure)
    for hit in hits:
        word = text[hit.start : hit.end]
        if word in places or best[word] < 0 or org_somewhere(text, word):
            continue
        if not PLACE_LIST_AFTER.match(text, hit.end) and not among_words(text, hit.end):
            yield hit  # 黄辰、鸭嘴铺等地, 龙某，鸿运，福星: places or firms


# After a lone surname the NER proposes, a "given name" the dictionary has seen this often is
# the next word (当时, 起诉); a given name that is a rare word stays one (开立, 存立: 吴存立).
_SURNAME_ALONE_GIVEN_FREQ = 100
_ASPECT_AFTER = re.compile(r"[了着过]")


def _surname_alone(doc: Text, person: Person) -> Person:
    """A person the NER reads as a lone surname (客运[吴]存立的…), widened to the name it starts.

    Only where the NER is as sure as of a two-character name, and the text reads as a name
    from the surname on (`name_at`: no word cut in two, no title, no grammar word).
    """
    if person.end - person.start != 1 or person.margin < NER_MARGIN_SHORT:
        return person
    if surname_len(doc.text, person.start) != 1:
        return person
    hit = name_at(doc, person.start, strong=False)
    if hit is None or hit.end - hit.start < 2:
        return person
    given = doc.text[person.end : hit.end]
    if word_freq(given) >= _SURNAME_ALONE_GIVEN_FREQ or _ASPECT_AFTER.match(doc.text, hit.end):
        return person  # 钱当时…, 赵起诉…, 时侯停住了: the surname alone, then a word
    return person._replace(end=hit.end)


_SIGNATURE_BEFORE_RE = re.compile(r"(?:^|\n|\s{2})\s*$")
_LINE_END_RE = re.compile(
    r"[^\S\n]*(?:\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日|\d{4}[-/.]\d{1,2}[-/.]\d{1,2})?"
    r"[^\S\n]*(?:\n|$)"
)


def _signs_line(text: str, start: int, end: int) -> bool:
    """Whether the name closes its line after a wide gap (…县人    刘某   2026年1月2日⏎)."""
    before = _SIGNATURE_BEFORE_RE.search(text, max(0, start - 8), start) is not None
    return before and _LINE_END_RE.match(text, end) is not None


def _signature_names(doc: Text) -> Iterable[NameHit]:
    for m in SIGNATURE_RE.finditer(doc.text):
        hit = name_at(doc, m.start("name"), strong=True)
        if hit and hit.end == m.end("name") and not is_word(m.group("name")):
            yield hit


def find_names(text: str, *, known: Iterable[str] = ()) -> list[NameHit]:
    """Person names in `text`, each occurrence of each name, plus occurrences of `known` names."""
    doc = Text(text)
    found: dict[str, str] = {}
    # The writer says who is meant: a namesake of a public figure (我叫王安石) is masked.
    named = [
        *_strong_cue_names(doc),
        *_role_named(doc),
        *_self_named(doc),
        *_signature_names(doc),
        *signed_with_unit(doc),
        *contact_names(doc),
        *latin_names(text),
    ]
    # The text only suggests a person: a public figure or a quoted scholar stays.
    cued = list(_cue_names(doc))
    suggested = [
        hit
        for hit in (
            *_confirmed(doc, cued),
            *named_in_office(doc, cued),
            *cued_twice(doc, cued),
            *_ner_names(doc),
            *reported_speech_names(doc),
            *_confirmed(doc, speaker_names(doc)),
        )
        if text[hit.start : hit.end] not in PUBLIC_FIGURES
        and not quoted_scholar(text, hit.start, hit.end)
        and not beside_public_figure(text, hit.start, hit.end)
    ]
    direct = [*named, *suggested]
    direct.extend(glued_between(doc, direct))
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


def find_name_hits(
    text: str,
    *,
    suffix: str,
    known: Iterable[str] = (),
    writer_text: str | None = None,
    keep_officials: bool = False,
) -> list[Hit]:
    """Name masks as hits: surname + suffix (某); a name without a known surname → 某某.

    `text` is what is matched (simplified characters); the surname kept comes from
    `writer_text`, the same text in the writer's own characters (陳某, not 陈某).
    `keep_officials`: names an official role word stands next to stay (乡长陈建国同志).
    """
    shown = text if writer_text is None else writer_text
    return [
        Hit(
            h.start,
            h.end,
            "name",
            shown[h.start : h.start + len(h.surname)] + suffix if h.surname else suffix * 2,
        )
        for h in find_names(text, known=known)
        if not (keep_officials and official_at(text, h.start, h.end))
    ]
