"""Names read from the shape of the sentence around them, where no cue word stands before them.

1. an enumeration with a name in it: the other items are names too when they read as one
   (冉建波、谯红于…, 公孙丽、单建华);
2. a contact line: a name right before a phone number (业务员邢志刚138…, `2. 于海 1389…`,
   谷雨辰联系，电话：023-…);
3. reported speech after 的: 医务科的付强说, 买家电的祝文龙说;
4. a speaker's label at the start of a line of a quoted chat (郑晓雯：今天到的土豆又少了);
5. a name in Latin letters after 叫 or 英文名 (叫Nguyen Thi Lan, 英文名 Li Ming), masked 某某.

The place vouches for a name, so a candidate needs only to read as surname + given name and
not be a frequent word (同事, 房东, 代表).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from services.publishing.redaction.name_lexicon import (
    AMBIGUOUS_SURNAMES,
    GRAMMAR_FLAGS,
    NOT_GIVEN,
    ORG_AFTER,
    PLACE_END,
    PUBLIC_FIGURES,
    ROLE_CUES,
    STRONG_CUES,
    is_cjk,
    surname_len,
)
from services.publishing.redaction.name_reading import (
    NameHit,
    Text,
    common_word,
    is_word,
    name_at,
    title_at,
    word_tag,
)
from services.publishing.redaction.patterns import normalise
from services.publishing.redaction.persons import find_persons

ENUMERATION_MARK = "、"
# What may follow the last character of an enumerated name: punctuation, 等, a grammar word.
_ITEM_END = frozenset("、，,。；;：:！!？?）)」”’》\n \t\u3000等")
# A phone number as the contact line writes it: a mobile or a landline with its area code.
_CONTACT_NUMBER_RE = re.compile(
    r"(?:(?:\+|00)?86[ \-]?|[(（]\+?86[)）][ \-]?)?"
    r"(?:1[3-9]|0\d{2,3}|[(（]0\d{2,3}[)）])[\d \-.\u2010-\u2015]{5,}\d"
)
_CONTACT_CUES = (
    "联系电话", "联系方式", "手机号码", "手机号", "电话", "手机", "座机", "联系", "Tel", "TEL",
    "tel", "Mobile",
)  # fmt: skip
_CONTACT_GAP = frozenset(" \t\u3000:：,，（(")
_SPEECH_RE = re.compile(
    r"说|讲|称|表示|回复|答复|答应|承认|解释|告诉|声称|认为|坚持|拒绝|同意|介绍|保证"
)
_MAX_NAME = 4
_SPEAKER_RE = re.compile(r"(?m)^[ \t\u3000]*(?P<name>[\u4e00-\u9fff]{2,4})[:：]")
# 叫 names a person only after a person (越南人，叫…; 她叫…); 品牌叫Apple Store is no name.
_LATIN_NAME_RE = re.compile(
    r"(?:英文名字|英文名|外文名|英文姓名|拼音名|拼音|Name|name|NAME|(?<![店牌号称])名叫|"
    r"(?:[我你他她人妻夫公婆子女友事居生士机服员师长][，,]?)叫做?)[:：\s]*"
    r"(?P<name>[A-Z][a-z]+(?:[ \-·][A-Z][a-z]+){1,3})(?![A-Za-z])"
)


def _reads_as_name(doc: Text, start: int, end: int, *, whole_item: bool = False) -> NameHit | None:
    """text[start:end] as exactly one name, with the checks a vouched-for place still needs."""
    if start < 0 or end - start < 2 or not all(is_cjk(ch) for ch in doc.text[start:end]):
        return None
    hit = name_at(doc, start, strong=True, whole_item=whole_item)
    if hit is None or hit.end != end or common_word(doc.text[start:end]):
        return None
    return hit


def _starts_cleanly(text: str, start: int) -> bool:
    """The name's first character is not the end of the word before it (老师王芳 has no 师王芳)."""
    return start == 0 or not is_cjk(text[start - 1]) or not is_word(text[start - 1 : start + 1])


# What may stand between a line's start and a name that opens the line: space, a list marker.
_LINE_OPENING_RE = re.compile(r"[ \t\u3000]*(?:(?:[(（]?\d{1,3}[.、．)）]|[-•·*])[ \t\u3000]*)?")


def _opens_its_line(text: str, start: int) -> bool:
    """Whether only space or a list marker stands before `start` on its line (1. 向艳丽 …)."""
    line_start = text.rfind("\n", 0, start) + 1
    return _LINE_OPENING_RE.fullmatch(text, line_start, start) is not None


# Word classes a given name does not read as (jieba's tags): 向商家 (n), 于今日 (t), 和以往 (d).
# An adjective does (向艳丽), and so does a word jieba takes for a place (于美丽).
_NOT_GIVEN_FLAGS = frozenset("n t s f v vn r m q d".split())


def _grammar_word_then_word(doc: Text, start: int) -> bool:
    """A one-character preposition or conjunction, then a word that is no given name."""
    tok = doc.token_at(start)
    if tok is None or tok.end - tok.start != 1 or tok.flag not in GRAMMAR_FLAGS:
        return False
    after = doc.token_at(start + 1)
    return after is not None and after.flag in _NOT_GIVEN_FLAGS


def _name_ending_at(doc: Text, end: int, *, own_line: bool = False) -> NameHit | None:
    """The name that ends exactly at `end`: longest reading first, but 和王芳 is 和 + 王芳.

    `own_line`: a candidate that opens its line (after space or a list marker at most)
    stands alone, so a surname that is also a grammar word reads as the surname there
    (`向艳丽 130…`: no verb follows 向 for it to be a preposition). Mid-sentence, after a
    comma or a colon, 向商家 138… stays a preposition and a noun.
    """
    text = doc.text
    readings: list[NameHit] = []
    for length in range(_MAX_NAME, 1, -1):
        start = end - length
        if start < 0 or (length == _MAX_NAME and surname_len(text, start) != 2):
            continue
        alone = (
            own_line and _opens_its_line(text, start) and not _grammar_word_then_word(doc, start)
        )
        hit = _reads_as_name(doc, start, end, whole_item=alone)
        if hit and _starts_cleanly(text, start):
            readings.append(hit)
    if len(readings) > 1 and text[readings[0].start] in AMBIGUOUS_SURNAMES:
        return readings[1]
    return readings[0] if readings else None


def _item_ends(text: str, end: int) -> bool:
    if end >= len(text):
        return True
    return text[end] in _ITEM_END or text[end] in NOT_GIVEN or title_at(text, end)


def _neighbours(doc: Text, hit: NameHit) -> Iterator[NameHit]:
    text = doc.text
    if hit.end < len(text) and text[hit.end] == ENUMERATION_MARK:
        start = hit.end + 1
        for length in range(min(_MAX_NAME, len(text) - start), 1, -1):
            end = start + length
            bounded = end == len(text) or text[end] in _ITEM_END
            found = _reads_as_name(doc, start, end, whole_item=bounded)
            if found and _item_ends(text, found.end):
                yield found
                break
    if hit.start > 0 and text[hit.start - 1] == ENUMERATION_MARK:
        found = _name_ending_at(doc, hit.start - 1)
        if found:
            yield found


def enumerated_names(doc: Text, found: Iterable[NameHit]) -> list[NameHit]:
    """Names listed with 、 next to a name already found, item by item along the list."""
    seen = {(h.start, h.end) for h in found}
    queue = list(found)
    new: list[NameHit] = []
    while queue:
        for hit in _neighbours(doc, queue.pop()):
            if (hit.start, hit.end) not in seen:
                seen.add((hit.start, hit.end))
                new.append(hit)
                queue.append(hit)
    return new


def _before_contact_cue(norm: str, pos: int) -> int:
    """Where the text before a number ends once separators and 电话/手机/Tel are skipped."""
    while True:
        while pos > 0 and norm[pos - 1] in _CONTACT_GAP:
            pos -= 1
        cue = next((c for c in _CONTACT_CUES if norm.endswith(c, 0, pos)), None)
        if cue is None:
            return pos
        pos -= len(cue)


def contact_names(doc: Text) -> Iterator[NameHit]:
    """A name right before a phone number, with at most separators and 电话/手机/联系 between."""
    norm = normalise(doc.text)
    for m in _CONTACT_NUMBER_RE.finditer(norm):
        end = _before_contact_cue(norm, m.start())
        hit = _name_ending_at(doc, end, own_line=True)
        if hit:
            yield hit


def reported_speech_names(doc: Text) -> Iterator[NameHit]:
    """`的` + a name + a verb of saying or answering: 医务科的付强说."""
    text = doc.text
    start = text.find("的")
    while start != -1:
        start += 1
        for length in range(_MAX_NAME, 1, -1):
            end = start + length
            if _SPEECH_RE.match(text, end):
                hit = _reads_as_name(doc, start, end)
                if hit:
                    yield hit
                    break
        start = text.find("的", start)


def speaker_names(doc: Text) -> Iterator[NameHit]:
    """The speaker of a line of a quoted chat: a name and a colon opening the line."""
    for m in _SPEAKER_RE.finditer(doc.text):
        hit = _reads_as_name(doc, m.start("name"), m.end("name"))
        if hit:
            yield hit


# A surname with a given name in pinyin (邢yu, 于xiao) after a role, an office or 化名: the
# surname stays (邢某). Without such a cue a surname before Latin letters is too often a word's
# first character (丁cun: a village, 官方qq, 和logo).
_PINYIN_CUES = ("化名", "别名", "控制人", "实控人")
_PINYIN_CUE_RE = re.compile(
    r"(?:"
    + "|".join(sorted({*ROLE_CUES, *STRONG_CUES, *_PINYIN_CUES}, key=len, reverse=True))
    + r")[:：\s]*(?:是|为)?(?P<name>[\u4e00-\u9fff]{1,2}[a-z]{2,8})(?![A-Za-z0-9])"
)


def latin_names(text: str) -> Iterator[NameHit]:
    """A name in Latin letters after 叫 / 英文名; it has no surname to keep (surname "")."""
    for m in _LATIN_NAME_RE.finditer(text):
        yield NameHit(m.start("name"), m.end("name"), "")
    for m in _PINYIN_CUE_RE.finditer(text):
        start = m.start("name")
        sur = surname_len(text, start)
        if sur and not is_cjk(text[start + sur]):
            yield NameHit(start, m.end("name"), text[start : start + sur])


# Public offices: a name right next to one is an official named in that role (乡长陈建国同志,
# 贺某某厅长), which the office may decide to publish (`RedactionConfig.mask_officials`).
_OFFICES = (
    "省长", "市长", "区长", "县长", "乡长", "镇长", "村长", "厅长", "局长", "处长", "科长", "股长",
    "所长", "站长", "院长", "校长", "书记", "支书", "主任", "部长", "主席", "委员", "代表", "院士",
    "警官", "民警", "队长", "工作人员", "网格员",
)  # fmt: skip
_OFFICE_BEFORE_RE = re.compile("(?:" + "|".join(_OFFICES) + ")$")
OFFICE_AFTER_RE = re.compile("副?(?:" + "|".join(_OFFICES) + ")")


def official_at(text: str, start: int, end: int) -> bool:
    """Whether a public office's title stands right before or right after the name."""
    before = _OFFICE_BEFORE_RE.search(text, max(0, start - 4), start) is not None
    return before or OFFICE_AFTER_RE.match(text, end) is not None


# A scholar quoted in a public statement: 科学家… or …教授 in a sentence that says what the
# scholar found or said (中国电工学会赵某某教授指出…). A public voice, not a private person.
_SCHOLAR_BEFORE_RE = re.compile(r"(?:科学家|学家|学者|专家)$")
_SCHOLAR_AFTER_RE = re.compile(r"(?:教授|研究员|学者|专家)")
_STATEMENT_RE = re.compile(r"指出|表示|认为|证明|研究|发现|提出|主张|呼吁|论证")
_POLITICAL_RE = re.compile(r"政协|人大|党委|常委|代表")
_SENTENCE_END = "。！？!?；;\n"


def quoted_scholar(text: str, start: int, end: int) -> bool:
    """Whether the name is a scholar's quoted in their public role (see above)."""
    before = _SCHOLAR_BEFORE_RE.search(text, max(0, start - 3), start) is not None
    if not before and _SCHOLAR_AFTER_RE.match(text, end) is None:
        return False
    if _POLITICAL_RE.search(text, max(0, start - 10), start):
        return False  # 全国政协委员某某教授: named in a political office, an official
    stop = min((i for i in (text.find(c, end) for c in _SENTENCE_END) if i != -1), default=-1)
    return _STATEMENT_RE.search(text, end, stop if stop != -1 else len(text)) is not None


# A historical or public figure and whoever a letter names together with them (朱熹偕同张某同游):
# the company of a quoted figure is history, not a private person.
_FIGURES = "|".join(sorted(PUBLIC_FIGURES, key=len, reverse=True))
_WITH = r"(?:偕同|携同|陪同|同|与|和|及|、)"
_FIGURE_BEFORE_RE = re.compile(rf"(?:{_FIGURES}){_WITH}$")
_FIGURE_AFTER_RE = re.compile(rf"{_WITH}(?:{_FIGURES})")


def beside_public_figure(text: str, start: int, end: int) -> bool:
    """Whether a public figure is named together with the candidate (朱熹偕同张某, 张某与李白)."""
    before = _FIGURE_BEFORE_RE.search(text, max(0, start - 6), start) is not None
    return before or _FIGURE_AFTER_RE.match(text, end) is not None


def org_somewhere(text: str, word: str) -> bool:
    """Whether an organisation's or a place's ending follows `word` anywhere (罗滋村)."""
    start = text.find(word)
    while start != -1:
        end = start + len(word)
        if ORG_AFTER.match(text, end) and not OFFICE_AFTER_RE.match(text, end):
            return True
        start = text.find(word, end)
    return False


def cued_twice(doc: Text, hits: list[NameHit]) -> Iterable[NameHit]:
    """A full name that cues point at in two places (刺绣大师X…, X大师说…): no NER needed."""
    text = doc.text
    where: dict[str, set[str]] = {}
    for hit in hits:
        if is_word(text[hit.end - 1 : hit.end + 1]):
            continue  # 出售时应严格: the last character starts a word
        around = text[max(0, hit.start - 2) : hit.start] + text[hit.end : hit.end + 2]
        where.setdefault(text[hit.start : hit.end], set()).add(around)
    for hit in hits:
        word = text[hit.start : hit.end]
        full = len(word) - len(hit.surname) == 2
        # two different settings: a sentence a letter repeats is one cue
        if not full or len(where.get(word, ())) < 2 or word[-1] in PLACE_END:
            continue
        if not common_word(word) and not org_somewhere(text, word):
            yield hit


# A body's or a place's name, a full name, then that body's office (某某村石某某书记, 某某局王某某
# 局长): an official named in the office, whether or not the NER sees the name.
_BODY_END_RE = re.compile(r"(?:村|镇|乡|社区|街道|居委会|村委会|派出所|局|站)$")


def named_in_office(doc: Text, hits: list[NameHit]) -> Iterator[NameHit]:
    """The title-cued full names that a body's name leads to."""
    text = doc.text
    for hit in hits:
        if len(hit.surname) != 1 or hit.end - hit.start != 3:
            continue
        if not OFFICE_AFTER_RE.match(text, hit.end) or is_word(text[hit.end - 1 : hit.end + 1]):
            continue
        if _BODY_END_RE.search(text, max(0, hit.start - 3), hit.start) is None:
            continue
        if not common_word(text[hit.start : hit.end]) and not is_word(text[hit.start : hit.end]):
            yield hit


# A signature with the writer's school or unit between the name and the date, after a wide gap
# (…。　　某某  某某大学  某某专业　　2020年3月2日).
_SIGNATURE_WITH_UNIT_RE = re.compile(
    r"(?:^|\n|[ \t\u3000\xa0]{2})[ \t\u3000\xa0]*(?P<name>[\u4e00-\u9fff]{2,3})[ \t\u3000\xa0]{2,}"
    r"[^\n]{2,30}?[ \t\u3000\xa0]{2,}"
    r"(?:\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日|\d{4}[-/.]\d{1,2}[-/.]\d{1,2})"
    r"[ \t\u3000\xa0]*(?:\n|$)"
)


def signed_with_unit(doc: Text) -> Iterator[NameHit]:
    """The name of a signature line that gives the writer's unit before the date."""
    for m in _SIGNATURE_WITH_UNIT_RE.finditer(doc.text):
        hit = name_at(doc, m.start("name"), strong=True)
        if hit and hit.end == m.end("name") and not is_word(m.group("name")):
            yield hit


# The next items of a comma list: 某某，鸿运，福星，… .
_NEXT_ITEMS_RE = re.compile(
    r"[，、,](?P<a>[\u4e00-\u9fff]{2,4})[，、,](?P<b>[\u4e00-\u9fff]{2,4})[，、,。]"
)
_PERSON_TAGS = frozenset({"nr", "nrfg", "nrt"})


def among_words(text: str, end: int) -> bool:
    """Whether the next two items of the candidate's list are nouns no person bears (brands).

    Nouns only: 同伙孙某，打电话、发传单 lists what a person did.
    """
    m = _NEXT_ITEMS_RE.match(text, end)
    if m is None:
        return False
    return all(_thing(w) for w in (m["a"], m["b"]))


def _thing(word: str) -> bool:
    tag = word_tag(word)
    return is_word(word) and tag.startswith("n") and tag not in _PERSON_TAGS


def glued_between(doc: Text, found: Iterable[NameHit]) -> Iterator[NameHit]:
    """A name written between two found names without a mark, where the NER reads one run.

    (对吴某唐某孙某默许纵容: the NER's one "person" 吴某唐某孙某 starts and ends with names found
    elsewhere; what lies between, a surname and one or two characters, is a third name.)
    """
    text = doc.text
    names = {text[h.start : h.end] for h in found}
    for person in find_persons(text):
        run = text[person.start : person.end]
        if len(run) < 6:
            continue
        for first in (w for w in names if run.startswith(w)):
            for last in (w for w in names if run.endswith(w)):
                middle = run[len(first) : len(run) - len(last)]
                sur = surname_len(middle, 0)
                if sur and 1 <= len(middle) - sur <= 2 and all(is_cjk(ch) for ch in middle):
                    start = person.start + len(first)
                    yield NameHit(start, start + len(middle), middle[:sur])
