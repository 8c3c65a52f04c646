"""The writer's own data from the letter's metadata, found wherever it appears in a text.

Used twice: to mask (redaction) and to refuse (leak scan). Metadata values match without digit
boundaries and with any spacing, because a known secret must go even where no pattern would see
it (inside a longer number, spelt `138 1234 5678` or `张 三`).
"""

from __future__ import annotations

import functools
import re

from services.publishing.name_lexicon import is_cjk, surname_len
from services.publishing.pii_patterns import Hit, Masking, mask_digits, mask_email, normalise

_DIGIT_GAP = r"[ \t\-\u2010-\u2015()（）.]{0,2}"
_NAME_GAP = r"[ \t·•・]{0,2}"
_MOBILE = re.compile(r"1[3-9]\d{9}")


def phone_digits(phone: str) -> str:
    """The digits of a phone number without a +86 / 0086 country code."""
    digits = re.sub(r"\D", "", normalise(phone))
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) - len(prefix) in (11, 10, 12):
            return digits[len(prefix) :]
    return digits


@functools.lru_cache(maxsize=4096)
def spaced_pattern(value: str, *, gap: str) -> re.Pattern[str]:
    """A pattern for `value` with up to two separator characters between any two characters."""
    return re.compile(gap.join(re.escape(ch) for ch in value), re.IGNORECASE)


def name_pattern(name: str) -> re.Pattern[str] | None:
    """Pattern of a name in full, spaced or not; None for names too short to search safely."""
    compact = re.sub(r"\s+", "", name.strip())
    if len(compact) < 2:
        return None
    if all(is_cjk(ch) for ch in compact):
        return spaced_pattern(compact, gap=_NAME_GAP)
    words = name.split()
    return re.compile(r"\s+".join(re.escape(w) for w in words), re.IGNORECASE)


def name_replacement(name: str, *, suffix: str) -> str:
    """张三 → 张某, 欧阳娜娜 → 欧阳某; a non-Chinese name → 某某."""
    compact = re.sub(r"\s+", "", name.strip())
    sur = surname_len(compact, 0) or (1 if compact and is_cjk(compact[0]) else 0)
    return compact[:sur] + suffix if sur else suffix * 2


def phone_patterns(phone: str) -> list[tuple[re.Pattern[str], str]]:
    """Patterns of a metadata phone (and of a landline's local part) with their kind."""
    digits = phone_digits(phone)
    if len(digits) < 7:
        return []
    kind = "phone" if _MOBILE.fullmatch(digits) else "landline"
    found = [(spaced_pattern(digits, gap=_DIGIT_GAP), kind)]
    area = re.match(r"0(?:10|2\d|[3-9]\d{2})", digits)
    if kind == "landline" and area and len(digits) - area.end() >= 7:
        found.append((spaced_pattern(digits[area.end() :], gap=_DIGIT_GAP), kind))
    return found


def id_pattern(id_number: str) -> re.Pattern[str] | None:
    """Pattern of a metadata ID number in any spacing, X in either case."""
    compact = re.sub(r"[^0-9Xx]", "", normalise(id_number))
    if len(compact) < 8:
        return None
    return spaced_pattern(compact.upper(), gap=_DIGIT_GAP)


def email_pattern(email: str) -> re.Pattern[str] | None:
    """Pattern of a metadata e-mail address, any case."""
    email = normalise(email).strip()
    if "@" not in email:
        return None
    return re.compile(re.escape(email), re.IGNORECASE)


def person_hits(
    norm: str,
    *,
    name: str | None,
    phone: str | None,
    id_number: str | None,
    email: str | None,
    masking: Masking,
    name_suffix: str,
) -> list[Hit]:
    """Every occurrence of the writer's name, phone, ID number and e-mail in a normalised text."""
    hits: list[Hit] = []
    if name and (pattern := name_pattern(normalise(name))):
        rep = name_replacement(normalise(name), suffix=name_suffix)
        hits.extend(Hit(m.start(), m.end(), "name", rep) for m in pattern.finditer(norm))
    if phone:
        for pattern, kind in phone_patterns(phone):
            for m in pattern.finditer(norm):
                if kind == "phone":
                    rep = mask_digits(m.group(), head=masking.mobile_head, tail=masking.mobile_tail)
                else:
                    rep = _mask_landline(m.group(), tail=masking.landline_tail)
                hits.append(Hit(m.start(), m.end(), kind, rep))
    if id_number and (pattern := id_pattern(id_number)):
        for m in pattern.finditer(norm):
            rep = mask_digits(m.group(), head=masking.id_head, tail=masking.id_tail)
            hits.append(Hit(m.start(), m.end(), "id_number", rep))
    if email and (pattern := email_pattern(email)):
        for m in pattern.finditer(norm):
            local, _, domain = m.group().partition("@")
            rep = mask_email(local, domain, keep=masking.email_local_keep)
            hits.append(Hit(m.start(), m.end(), "email", rep))
    return hits


def _mask_landline(chunk: str, *, tail: int) -> str:
    area = re.match(r"[(（]?0(?:10|2\d|[3-9]\d{2})[)）]?", chunk)
    cut = area.end() if area else 0
    return chunk[:cut] + mask_digits(chunk[cut:], head=0, tail=tail)
