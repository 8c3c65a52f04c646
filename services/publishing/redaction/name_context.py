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
)
from services.publishing.redaction.patterns import normalise

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


def latin_names(text: str) -> Iterator[NameHit]:
    """A name in Latin letters after 叫 / 英文名; it has no surname to keep (surname "")."""
    for m in _LATIN_NAME_RE.finditer(text):
        yield NameHit(m.start("name"), m.end("name"), "")


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
