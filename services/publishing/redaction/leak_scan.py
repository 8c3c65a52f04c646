"""The last gate before online publication: refuse a text in which personal data still shows."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict

from services.publishing.redaction.patterns import (
    MASKED_MOBILE_HEAD_RE,
    Masking,
    after_business_cue,
    after_public_phone_cue,
    find_numbers_and_emails,
    normalise,
)
from services.publishing.redaction.person_match import (
    Needle,
    email_needle,
    find_spaced,
    id_needle,
    name_needle,
    phone_needles,
)
from services.publishing.redaction.service import PersonData

_DEFAULT_MASKING = Masking()

# Digits written as Chinese numerals (一三八一二三四五六七八, 幺 as a 1 read out on the phone,
# the capital 壹贰叁 of amounts) are still the number: the scan reads them as digits before its
# number rules. One character for one, so the offsets stay those of the text. Only the scan
# does: the redaction masks none of them, so a number spelt this way waits for a person,
# and ordinary number words (三个月, 二〇二六年) are left as written.
_NUMERALS = str.maketrans(
    {
        **dict.fromkeys("〇零", "0"),
        **dict.fromkeys("一壹幺", "1"),
        **dict.fromkeys("二贰貳两", "2"),
        **dict.fromkeys("三叁參", "3"),
        **dict.fromkeys("四肆", "4"),
        **dict.fromkeys("五伍", "5"),
        **dict.fromkeys("六陆陸", "6"),
        **dict.fromkeys("七柒", "7"),
        **dict.fromkeys("八捌", "8"),
        **dict.fromkeys("九玖", "9"),
    }
)


# A number spelt in numerals is a run of them; a lone numeral between digits (一 as "and
# one", a list's 一) joined to them would make a long number of what redaction left apart.
_NUMERAL_RUN = re.compile("[" + "".join(sorted(chr(c) for c in _NUMERALS)) + "]{2,}")


def numerals_as_digits(norm: str) -> str:
    """The normalised text with each run of Chinese numerals read as digits (same length)."""
    return _NUMERAL_RUN.sub(lambda m: m.group(0).translate(_NUMERALS), norm)


# The crude rule, on purpose unlike the redaction's patterns (no checksums, no area codes): a
# group of digits joined by single spaces, dashes or dots, an ID's final X included.
_DIGIT_GROUP = re.compile(
    r"(?<![\dA-Za-z*])\d(?:(?: ?[\-\u2010-\u2015] ?|[ \-\u2010-\u2015.])?\d)*[Xx]?(?![\dA-Za-z*])"
)
# The crude rule's findings; they may be digits the redaction's patterns leave on purpose
# (an 11-digit run without any cue), which then wait for a person to look.
CRUDE_PATTERNS = frozenset({"long_number", "cued_number"})
_LONG_DIGITS = 11
_CUED_DIGITS = 7
_PERSONAL_CUE = re.compile(
    r"(?:身份证|身份号码|证件|证号|护照|手机|电话|座机|固话|联系方式|微信|QQ|qq|Tel|TEL|tel|"
    r"Phone|phone)[^\d\n]{0,8}$"
)
_SERVICE_CUE = re.compile(r"(?:热线|服务|客服|投诉电话|举报电话)[^\d\n]{0,8}$")
_SERVICE_NUMBER = re.compile(r"(?:400|800|95|96|12|0\d{2,3}[ \-]?(?:12|9))")
_NOT_A_NUMBER_AFTER = re.compile(r"[元万亿%‰年月日号次个块]|\.\d|,\d")
# A code of a thing, not of a person: 发票代码050001900111, 电梯注册代码31105001232026.
_CODE_CUE = re.compile(r"(?:代码|编码|识别码|条码|条形码)[:：\s]*$")
_DATE = re.compile(r"(?:19|20)\d\d([\-./])\d{1,2}\1\d{1,2}")


def crude_number_leaks(norm: str) -> list[Leak]:
    """Digits still in clear that look personal, found without the redaction's patterns.

    Any group of 11 or more digits, and a group of 7 or more right after an ID, phone or
    messaging cue; business numbers (订单号…), service numbers, dates and amounts are none.
    """
    leaks: list[Leak] = []
    for m in _DIGIT_GROUP.finditer(norm):
        digits = sum(ch.isdigit() for ch in m.group())
        if digits < _CUED_DIGITS or _NOT_A_NUMBER_AFTER.match(norm, m.end()):
            continue
        if MASKED_MOBILE_HEAD_RE.match(norm, m.start()):
            continue  # 0086 160 **** 5223: what a masked mobile keeps
        before = max(0, m.start() - 14)
        if _DATE.fullmatch(m.group()) or after_business_cue(norm, m.start()):
            continue
        if _CODE_CUE.search(norm, before, m.start()):
            continue
        if not m.group().startswith("1") and after_public_phone_cue(norm, m.start()):
            continue  # 市民服务中心电话：0731-…: a public body's line, given to be called
        if digits >= _LONG_DIGITS:
            leaks.append(Leak(pattern="long_number", start=m.start(), end=m.end()))
        elif (
            _PERSONAL_CUE.search(norm, before, m.start())
            and not _SERVICE_CUE.search(norm, before, m.start())
            and not _SERVICE_NUMBER.match(m.group())
        ):
            leaks.append(Leak(pattern="cued_number", start=m.start(), end=m.end()))
    return leaks


class Leak(BaseModel):
    """One finding: which pattern still matches, and where (the matched text is left out)."""

    model_config = ConfigDict(frozen=True)

    pattern: str
    start: int
    end: int

    def describe(self) -> str:
        """A message for an operator, without the leaked value itself."""
        return f"{self.pattern} at characters {self.start}–{self.end}"


def leak_scan(text: str, *, person: PersonData | None = None) -> list[Leak]:
    """Every still-matching pattern: ID, phone, landline, e-mail, bank card, the writer's data.

    Besides the redaction's own patterns, `crude_number_leaks` checks the digits with a rule
    of its own, so a number those patterns cannot see is still caught here (reported only
    where no pattern matched, one finding per number).
    """
    norm = normalise(text)
    # Numbers are looked for with numerals read as digits; names in the text as written
    # (张三 is a name, not 张3).
    digits = numerals_as_digits(norm)
    leaks = [
        Leak(pattern=h.kind, start=h.start, end=h.end)
        for h in find_numbers_and_emails(digits, masking=_DEFAULT_MASKING)
    ]
    # One finding per number: the crude rule adds what the patterns did not see.
    leaks.extend(
        c
        for c in crude_number_leaks(digits)
        if not any(p.start < c.end and c.start < p.end for p in leaks)
    )
    if person is not None:
        checks: list[tuple[str, Needle, str]] = []
        if person.name and (needle := name_needle(person.name)):
            checks.append(("person_name", needle, norm))
        if person.phone:
            checks.extend(
                ("person_phone", needle, digits) for needle, _ in phone_needles(person.phone)
            )
        if person.id_number and (needle := id_needle(person.id_number)):
            checks.append(("person_id_number", needle, digits))
        if person.email and (needle := email_needle(person.email)):
            checks.append(("person_email", needle, norm))
        for label, needle, where in checks:
            leaks.extend(Leak(pattern=label, start=s, end=e) for s, e in find_spaced(where, needle))
    return sorted(leaks, key=lambda leak: (leak.start, leak.end, leak.pattern))
