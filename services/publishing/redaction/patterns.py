"""Patterns for personal numbers and e-mail addresses (Art. 24), shared by redaction and leak scan.

Every finder works on the *normalised* text (see `normalise`), which has the same length as the
original, so offsets found here are offsets in the original text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import NamedTuple

# Same-length mapping: full-width digits, letters and signs become ASCII so that one set of
# patterns sees `１３８…` and `138…` alike; anything longer would shift the offsets.
_FULLWIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_FULLWIDTH.update({0x3000: 0x20, 0x00A0: 0x20})
for _keep in "（）：，；！？":  # Chinese punctuation stays, the address and cue patterns use it
    _FULLWIDTH.pop(ord(_keep), None)
_TRANSLATE = str.maketrans({chr(k): chr(v) for k, v in _FULLWIDTH.items()})

# One optional separator between digit groups: a space, a dot or any dash, a dash with a space
# on either side too (138 - 1234 - 5678).
SEP = r"(?:[ \t]?[\-\u2010-\u2015][ \t]?|[ \t.])"

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
PROVINCES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 "
    "61 62 63 64 65 71 81 82 83 91".split()
)
CARD_FIRST_DIGITS = frozenset("345689")

# Numbers after these words are business identifiers, not a person's: an order number that
# happens to pass a checksum must survive (订单号2024031512345678901 is a `keep` string).
_BUSINESS_CUE = re.compile(
    r"(?:订单|单|运单|快递单|物流单|流水|交易|编|合同|批次|工单|受理|案|文|发票|序列|产品|"
    r"商品|条形|票|凭证|备案|许可证|执照|信用代码|代码|注册|登记|取件|取货|提货|验证|兑换|"
    r"报告|证书|预售证|施工证|规划证|资质证|合格证)(?:号码|编号|号|码)[:：\s]*$"
)
_CARD_CUE = re.compile(r"(?:卡号|银行卡|储蓄卡|信用卡|借记卡|账号|帐号|账户|帐户|卡)[^\d\n]{0,6}$")
_LOCAL_PHONE_CUE = re.compile(
    r"(?:电话|座机|固话|手机|联系方式|致电|拨打|来电|号码|Tel|TEL|tel|Phone|PHONE|phone)[^\d\n]{0,6}$"
)
_HOTLINE_CUE = re.compile(r"(?:热线|服务电话|客服电话|投诉电话|举报电话|服务号码)[^\d\n]{0,6}$")
# After these cues a number is the person's whatever its checksum or length: a mistyped ID
# (wrong check digit, 17 digits) or a mobile missing a digit is still theirs.
_ID_CUE = re.compile(
    r"(?:身份证|身份号码|公民身份号|证件号|证件号码|(?<!预售|施工|规划|资质|合格|许可)证号|护照号)"
    r"(?:号码|号)?[^\d\n]{0,6}$"
)
_PHONE_CUE = re.compile(
    r"(?:手机|手机号|电话|联系电话|联系方式|座机|固话|来电号码|Tel|TEL|tel|Phone|PHONE|phone)"
    r"(?:号码|号)?[^\d\n]{0,6}$"
)
# A public body's own line, as a reply gives it (市民服务中心电话：…, 区信访局（电话：…）):
# citizens are told to call it, so it stays; a person's mobile never does.
_PUBLIC_PHONE_CUE = re.compile(
    r"(?:委员会|管委会|政府|局|委|办公室|办|中心|所|站|队|法院|检察院|医院|法庭|大厅|窗口|街道|"
    r"社区|居委会|村委会|办事处|热线)(?:的|[（(])?(?:联系|咨询|值班|办公|服务|投诉|举报|受理|监督)?"
    r"(?:电话|座机)(?:号码)?(?:为|是)?[:：\s]*$"
)
_IM_CUE = re.compile(r"(?:微信|weixin|WeChat|wechat|vx|VX|wx)(?:号码|号|ID|id)?[^\d\n]{0,6}$")

MOBILE_RE = re.compile(
    rf"(?<!\d)(?P<cc>(?:\+|00)?86{SEP}?|[(（]\+?86[)）]{SEP}?)?"
    rf"(?P<num>1{SEP}?[3-9](?:{SEP}?\d){{9}})(?!\d)"
)
LANDLINE_RE = re.compile(
    rf"(?<!\d)(?P<num>(?:[(（]0(?:10|2\d|[3-9]\d{{2}})[)）]{SEP}?|0(?:10|2\d|[3-9]\d{{2}}){SEP}?)"
    rf"[1-9]\d{{2,3}}{SEP}?\d{{4}})(?P<ext>(?:转|-|#|ext\.?)\d{{1,5}})?(?!\d)"
)
LOCAL_PHONE_RE = re.compile(r"(?<![\d\-])[2-9]\d{2,3}[ \-]?\d{4}(?![\d\-])")
# Any grouping (6-8-4, 4-4-4-4-2 …): the check digit, region and birth date keep it precise.
ID18_RE = re.compile(rf"(?<![\d])\d(?:{SEP}?\d){{16}}{SEP}?[\dXx](?![\dA-Za-z])")
ID15_RE = re.compile(r"(?<!\d)\d{15}(?!\d)")
# A disability certificate number (残疾人证号) is the ID number plus its category and grade.
DISABILITY_RE = re.compile(r"(?<!\d)(?P<id>\d{17}[\dXx])[1-7][1-4](?![\dA-Za-z])")
CARD_RE = re.compile(
    r"(?<![\d])(?:\d{16,19}|\d{4}(?P<s>[ \-])\d{4}(?P=s)\d{4}(?P=s)\d{4}(?:(?P=s)?\d{1,3})?)"
    r"(?![\dXx])"
)
# An account after its cue (卡号, 账号 …): bank cards have 16–19 digits, accounts up to 25.
CARD_CUED_RE = re.compile(r"(?<!\d)\d(?:[ \-]?\d){11,24}(?![\dXx])")
# A run of 7–20 digits (an ID may end in X) after a personal cue; never a part of a longer run.
CUED_NUMBER_RE = re.compile(
    rf"(?<![\dA-Za-z])\d(?:{SEP}?\d){{5,19}}(?:{SEP}?[\dXx])(?!{SEP}?[\dA-Za-z])"
)
# What a masked mobile with its country code keeps before the stars (0086 160 **** 5223): no
# number of its own. Digits before a platform's stars (身份证4303221956*******) still are.
MASKED_MOBILE_HEAD_RE = re.compile(rf"(?:\+|00)?86{SEP}?1\d{{2}}{SEP}?\*")
# What makes a cued run no personal number: a date (2024-03-15), an amount (1234567元), a
# service number (400-820-1234).
_CUED_NOT_AFTER = re.compile(r"\.\d|[元万亿%‰年月日号次个块]")
_DATE_RUN = re.compile(r"(?:19|20)\d\d(?P<s>[\-.])\d{1,2}(?P=s)\d{1,2}$")
_SERVICE_PREFIXES = ("400", "800", "95", "96", "12")
EMAIL_RE = re.compile(
    r"(?<![A-Za-z0-9._%+\-])(?P<local>[A-Za-z0-9][A-Za-z0-9._%+\-]*)@"
    r"(?P<domain>[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,})"
)

# Instant-messaging accounts are contact data like a phone; only right after their cue, since
# a bare 9-digit number or a Latin word could be anything.
_ACCOUNT_GAP = r"[:：\s]*(?:是|为)?[:：\s]*"
QQ_RE = re.compile(rf"(?:QQ|qq|Qq|扣扣)(?:号码|号)?{_ACCOUNT_GAP}(?P<v>[1-9]\d{{4,11}})(?!\d)")
WECHAT_RE = re.compile(
    rf"(?:微信|weixin|WeChat|wechat|vx|VX|wx)(?:号码|号|ID|id)?{_ACCOUNT_GAP}"
    r"(?P<v>[A-Za-z][A-Za-z0-9_\-]{5,19})(?![A-Za-z0-9_\-@])"
)
# A licence plate identifies its keeper as a phone number does: province, issuing-office letter,
# then five characters (six for new-energy vehicles) or four and 学/警/挂. I and O are never used,
# and a serial has at least three digits, so model names (新MATE60) do not match.
# The provinces' characters, their other names (楚 蜀 黔 滇 陇 秦) as anonymised letters use
# them for any province, Hong Kong and Macao, and 某 where a letter hid the province.
PLATE_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼楚蜀黔滇陇秦港澳某"
_PLATE_CHAR = "[A-HJ-NP-Za-hj-np-z0-9]"
# Letters in either case: letters write 渝a12345 and 湘e 98325 as often as the plate shows them.
# A list may glue its next item's number on (1、渝A12345 2、…: `渝A123452、`): five characters
# then a list number read as a plate and the number.
PLATE_RE = re.compile(
    rf"(?P<region>[{PLATE_PROVINCES}][A-HJ-NP-Za-hj-np-z])(?P<sep>[·•・.\- ]?)"
    rf"(?P<serial>{_PLATE_CHAR}{{5}}(?=\d{{1,2}}[、.](?!\d))|{_PLATE_CHAR}{{5,6}}(?![A-Za-z0-9])"
    rf"|{_PLATE_CHAR}{{4}}[学警挂])"
)
# A plate's serial written without its province after the cue: 车牌号是07492.
PLATE_CUED_RE = re.compile(
    rf"(?:车牌|牌照)(?:号码|号)?{_ACCOUNT_GAP}(?P<serial>{_PLATE_CHAR}{{5,6}})(?![A-Za-z0-9])"
)
PLATE_MIN_DIGITS = 3


class Hit(NamedTuple):
    """A found piece of personal data: where, what, and what replaces it."""

    start: int
    end: int
    kind: str
    replacement: str


class Masking(NamedTuple):
    """How many digits each kind keeps; a plain tuple so this module needs no config model."""

    mobile_head: int = 3
    mobile_tail: int = 4
    landline_tail: int = 2
    id_head: int = 6
    id_tail: int = 4
    card_head: int = 0
    card_tail: int = 4
    email_local_keep: int = 1
    plate_tail: int = 0


def normalise(text: str) -> str:
    """Map full-width characters to ASCII without changing the length."""
    return text.translate(_TRANSLATE)


def mask_digits(chunk: str, *, head: int, tail: int) -> str:
    """Replace digits (and a final X) with `*`, keeping `head` first and `tail` last ones."""
    positions = [i for i, ch in enumerate(chunk) if ch.isdigit() or ch in "Xx"]
    if head + tail >= len(positions):
        # Keeping that many would publish the whole number: mask all but the area or head part.
        head, tail = min(head, len(positions) // 2), 0
    masked = set(positions[head : len(positions) - tail])
    return "".join("*" if i in masked else ch for i, ch in enumerate(chunk))


def id_check_ok(digits17: str, check: str) -> bool:
    """ISO 7064 MOD 11-2 check digit of a mainland resident ID number."""
    total = sum(int(d) * w for d, w in zip(digits17, ID_WEIGHTS, strict=True))
    return ID_CHECK[total % 11] == check.upper()


def _date_ok(year: int, month: int, day: int) -> bool:
    return 1 <= month <= 12 and 1 <= day <= 31 and 1800 <= year <= 2100


def is_id18(raw: str) -> bool:
    """Whether an 18-character string is a plausible ID number with a valid check digit."""
    if raw[:2] not in PROVINCES or not raw[:17].isdigit():
        return False
    if not _date_ok(int(raw[6:10]), int(raw[10:12]), int(raw[12:14])):
        return False
    return id_check_ok(raw[:17], raw[17])


def is_id15(raw: str) -> bool:
    """Whether a 15-digit string is a plausible first-generation ID number."""
    if raw[:2] not in PROVINCES:
        return False
    return _date_ok(1900 + int(raw[6:8]), int(raw[8:10]), int(raw[10:12]))


def luhn_ok(digits: str) -> bool:
    """Luhn check used by bank cards."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _digits(chunk: str) -> str:
    return "".join(ch for ch in chunk if ch.isdigit() or ch in "Xx").upper()


def after_business_cue(norm: str, start: int) -> bool:
    """Whether a number at `start` follows a business identifier's cue (订单号, 取件码 …)."""
    return _BUSINESS_CUE.search(norm, max(0, start - 12), start) is not None


# What makes the cue a person's own line after all: a dwelling (住所, 寓所 …) or the writer
# speaking of their own office (我办公室电话, 本人单位座机) in the clause before it.
_OWN_LINE = re.compile(
    r"(?:住所|寓所|居所|家庭|家里|宅|我|本人|我的|我们家)[^，。；！？,;\n]{0,6}$"
)


def after_public_phone_cue(norm: str, start: int) -> bool:
    """Whether a landline at `start` is given as a public body's (市民服务中心电话：…)."""
    cue = _PUBLIC_PHONE_CUE.search(norm, max(0, start - 16), start)
    if cue is None:
        return False
    return _OWN_LINE.search(norm, max(0, cue.start() - 8), cue.start() + 3) is None


def find_id_numbers(norm: str, *, masking: Masking) -> Iterator[Hit]:
    """18-digit ID numbers with a valid check digit (6-8-4 / 6-4-4-4 spacing) and 15-digit ones."""
    for m in ID18_RE.finditer(norm):
        raw = _digits(m.group())
        if is_id18(raw) and not after_business_cue(norm, m.start()):
            rep = mask_digits(m.group(), head=masking.id_head, tail=masking.id_tail)
            yield Hit(m.start(), m.end(), "id_number", rep)
    for m in ID15_RE.finditer(norm):
        if is_id15(m.group()) and not after_business_cue(norm, m.start()):
            rep = mask_digits(m.group(), head=masking.id_head, tail=masking.id_tail)
            yield Hit(m.start(), m.end(), "id_number", rep)
    for m in DISABILITY_RE.finditer(norm):
        if is_id18(m.group("id").upper()) and not after_business_cue(norm, m.start()):
            rep = mask_digits(m.group(), head=masking.id_head, tail=masking.id_tail)
            yield Hit(m.start(), m.end(), "id_number", rep)


def find_bank_cards(norm: str, *, masking: Masking) -> Iterator[Hit]:
    """Luhn-valid 16–19 digit card numbers, and any 12–25 digit account number after a card cue."""
    seen: set[int] = set()
    for m in CARD_RE.finditer(norm):
        raw = _digits(m.group())
        card_like = raw[0] in CARD_FIRST_DIGITS and luhn_ok(raw)
        if card_like and not after_business_cue(norm, m.start()):
            seen.add(m.start())
            rep = mask_digits(m.group(), head=masking.card_head, tail=masking.card_tail)
            yield Hit(m.start(), m.end(), "bank_card", rep)
    for m in CARD_CUED_RE.finditer(norm):
        if m.start() in seen or _CARD_CUE.search(norm, max(0, m.start() - 12), m.start()) is None:
            continue
        rep = mask_digits(m.group(), head=masking.card_head, tail=masking.card_tail)
        yield Hit(m.start(), m.end(), "bank_card", rep)


def find_phones(norm: str, *, masking: Masking) -> Iterator[Hit]:
    """Mobile numbers in any spacing with an optional +86, landlines with an area code."""
    for m in MOBILE_RE.finditer(norm):
        num = m.group("num")
        rep = (m.group("cc") or "") + mask_digits(
            num, head=masking.mobile_head, tail=masking.mobile_tail
        )
        yield Hit(m.start(), m.end(), "phone", rep)
    for m in LANDLINE_RE.finditer(norm):
        if after_public_phone_cue(norm, m.start()):
            continue
        num = m.group("num")
        split = re.match(r"[(（]?0(?:10|2\d|[3-9]\d{2})[)）]?", num)
        area_len = split.end() if split else 0
        rep = num[:area_len] + mask_digits(num[area_len:], head=0, tail=masking.landline_tail)
        rep += re.sub(r"\d", "*", m.group("ext") or "")
        yield Hit(m.start(), m.end(), "landline", rep)
    for m in LOCAL_PHONE_RE.finditer(norm):
        before = max(0, m.start() - 12)
        if _LOCAL_PHONE_CUE.search(norm, before, m.start()) is None:
            continue
        if _HOTLINE_CUE.search(norm, before, m.start()) is not None:
            continue
        if after_business_cue(norm, m.start()) or after_public_phone_cue(norm, m.start()):
            continue  # 发票号码：23456789 is the invoice's number
        if _CUED_NOT_AFTER.match(norm, m.end()):
            continue  # 手机话费23456789.50元 is an amount
        rep = mask_digits(m.group(), head=0, tail=masking.landline_tail)
        yield Hit(m.start(), m.end(), "landline", rep)


def mask_email(local: str, domain: str, *, keep: int) -> str:
    """`zhangsan@qq.com` → `z***@qq.com`: the mailbox name goes, the provider stays."""
    return local[: min(keep, max(0, len(local) - 1))] + "***@" + domain


def find_emails(norm: str, *, masking: Masking) -> Iterator[Hit]:
    """E-mail addresses."""
    for m in EMAIL_RE.finditer(norm):
        rep = mask_email(m.group("local"), m.group("domain"), keep=masking.email_local_keep)
        yield Hit(m.start(), m.end(), "email", rep)


def find_accounts(norm: str) -> Iterator[Hit]:
    """QQ numbers and WeChat IDs after their cue; the first and last character stay."""
    for pattern in (QQ_RE, WECHAT_RE):
        for m in pattern.finditer(norm):
            value = m.group("v")
            rep = value[0] + "*" * (len(value) - 2) + value[-1]
            yield Hit(m.start("v"), m.end("v"), "account", rep)


def find_plates(norm: str, *, masking: Masking) -> Iterator[Hit]:
    """Licence plates (渝A·12345 → 渝A·*****): the province and the office's letter stay."""
    for m in PLATE_RE.finditer(norm):
        serial = m.group("serial")
        if sum(ch.isdigit() for ch in serial) < PLATE_MIN_DIGITS:
            continue
        keep = min(masking.plate_tail, len(serial) - 3)
        masked = "*" * (len(serial) - keep) + serial[len(serial) - keep :]
        yield Hit(m.start(), m.end(), "plate", m.group("region") + m.group("sep") + masked)
    for m in PLATE_CUED_RE.finditer(norm):
        serial = m.group("serial")
        if sum(ch.isdigit() for ch in serial) >= PLATE_MIN_DIGITS:
            yield Hit(m.start("serial"), m.end("serial"), "plate", "*" * len(serial))


def _cued_kind(norm: str, start: int) -> str | None:
    before = max(0, start - 12)
    if _ID_CUE.search(norm, before, start):
        return "id_number"
    if _HOTLINE_CUE.search(norm, before, start) or after_business_cue(norm, start):
        return None
    if _PHONE_CUE.search(norm, before, start):
        return "phone"
    if _IM_CUE.search(norm, before, start):
        return "account"
    return None


def _local_part(digits: str) -> str:
    """The number without its area code (010, 02x, 0xxx), if it has one."""
    area = re.match(r"0(?:10|2\d|[3-9]\d{2})", digits)
    return digits[area.end() :] if area else digits


def find_cued_numbers(norm: str, *, masking: Masking) -> Iterator[Hit]:
    """Any 7–20 digit run right after an ID, phone or WeChat cue, whatever its checksum.

    `身份证号：510102198001011234` with a mistyped check digit, a 17-digit ID or
    `手机：1381234567` are the writer's numbers all the same; they are masked in the style of
    a valid one (ID: head and tail stay; mobile: 138****567; other phones: the last digits).
    """
    for m in CUED_NUMBER_RE.finditer(norm):
        chunk = m.group()
        if _CUED_NOT_AFTER.match(norm, m.end()) or _DATE_RUN.fullmatch(chunk):
            continue
        if MASKED_MOBILE_HEAD_RE.match(norm, m.start()):
            continue
        kind = _cued_kind(norm, m.start())
        if kind is None:
            continue
        digits = _digits(chunk)
        if kind == "id_number":
            # The tail of a whole ID is its serial; the last digits of a cut one (the
            # platform starred the rest: 43010519850612****) are the birth date.
            whole = len(digits) >= 15 and not norm.startswith("*", m.end())
            tail = masking.id_tail if whole else 0
            rep = mask_digits(chunk, head=masking.id_head, tail=tail)
        elif kind == "account":
            rep = chunk[0] + "".join("*" if c.isalnum() else c for c in chunk[1:-1]) + chunk[-1]
        elif _local_part(digits).startswith(_SERVICE_PREFIXES):
            continue  # 电话400-820-1234, 023-12328: a company's or an office's service number
        elif digits.startswith("1"):
            rep = mask_digits(chunk, head=masking.mobile_head, tail=masking.mobile_tail)
        elif after_public_phone_cue(norm, m.start()):
            continue
        else:
            kind = "landline"
            rep = mask_digits(chunk, head=0, tail=masking.landline_tail)
        yield Hit(m.start(), m.end(), kind, rep)


def find_numbers_and_emails(norm: str, *, masking: Masking) -> list[Hit]:
    """All number and e-mail hits of a normalised text, overlapping ones included.

    A cued number (`find_cued_numbers`) counts only where no precise pattern matched, so a
    valid number keeps its own masking.
    """
    hits: list[Hit] = []
    hits.extend(find_id_numbers(norm, masking=masking))
    hits.extend(find_bank_cards(norm, masking=masking))
    hits.extend(find_phones(norm, masking=masking))
    hits.extend(find_emails(norm, masking=masking))
    hits.extend(find_accounts(norm))
    hits.extend(find_plates(norm, masking=masking))
    hits.extend(
        h
        for h in find_cued_numbers(norm, masking=masking)
        if not any(o.start < h.end and h.start < o.end for o in hits)
    )
    return hits
