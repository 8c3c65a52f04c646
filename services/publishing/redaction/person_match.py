"""The writer's own data from the letter's metadata, found wherever it appears in a text.

Used twice: to mask (redaction) and to refuse (leak scan). Metadata values match without digit
boundaries and with any spacing, because a known secret must go even where no pattern would see
it (inside a longer number, spelt `138 1234 5678` or `张 三`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import NamedTuple

from services.publishing.redaction.name_lexicon import is_cjk, surname_len
from services.publishing.redaction.patterns import Hit, Masking, mask_digits, mask_email, normalise

_DIGIT_GAP = frozenset(" \t-\u2010\u2011\u2012\u2013\u2014\u2015()（）.")
_NAME_GAP = frozenset(" \t·•・")
_MAX_GAP = 2
_MOBILE = re.compile(r"1[3-9]\d{9}")


class Needle(NamedTuple):
    """A metadata value to look for, with the separators it may be spelt with."""

    value: str
    gap: frozenset[str]


def find_spaced(text: str, needle: Needle) -> Iterator[tuple[int, int]]:
    """(start, end) of each occurrence of the value, up to two separators between characters.

    A hand-written scan rather than a regex per value: compiling one pattern per letter would
    cost more than the rest of the redaction.
    """
    value, gap = needle.value, needle.gap
    first = value[0]
    pos = _find_ci(text, first, 0)
    while pos != -1:
        end = _match_from(text, pos, value, gap)
        if end:
            yield pos, end
            pos = _find_ci(text, first, end)
        else:
            pos = _find_ci(text, first, pos + 1)


def _find_ci(text: str, ch: str, start: int) -> int:
    if ch.upper() == ch.lower():
        return text.find(ch, start)
    hits = [i for i in (text.find(ch.upper(), start), text.find(ch.lower(), start)) if i != -1]
    return min(hits) if hits else -1


def _match_from(text: str, pos: int, value: str, gap: frozenset[str]) -> int:
    i = pos + 1
    for ch in value[1:]:
        skipped = 0
        while i < len(text) and text[i] in gap and skipped < _MAX_GAP and text[i] != ch:
            i += 1
            skipped += 1
        if i >= len(text) or text[i].upper() != ch.upper():
            return 0
        i += 1
    return i


def phone_digits(phone: str) -> str:
    """The digits of a phone number without a +86 / 0086 country code."""
    digits = re.sub(r"\D", "", normalise(phone))
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) - len(prefix) in (11, 10, 12):
            return digits[len(prefix) :]
    return digits


def name_needle(name: str) -> Needle | None:
    """A name in full, spaced or not; None for names too short to search safely."""
    compact = re.sub(r"\s+", "", normalise(name).strip())
    if len(compact) < 2:
        return None
    return Needle(compact, _NAME_GAP)


def name_replacement(name: str, *, suffix: str) -> str:
    """张三 → 张某, 欧阳娜娜 → 欧阳某; a non-Chinese name → 某某."""
    compact = re.sub(r"\s+", "", normalise(name).strip())
    sur = surname_len(compact, 0) or (1 if compact and is_cjk(compact[0]) else 0)
    return compact[:sur] + suffix if sur else suffix * 2


def phone_needles(phone: str) -> list[tuple[Needle, str]]:
    """A metadata phone (and a landline's local part) with their kind."""
    digits = phone_digits(phone)
    if len(digits) < 7:
        return []
    kind = "phone" if _MOBILE.fullmatch(digits) else "landline"
    found = [(Needle(digits, _DIGIT_GAP), kind)]
    area = re.match(r"0(?:10|2\d|[3-9]\d{2})", digits)
    if kind == "landline" and area and len(digits) - area.end() >= 7:
        found.append((Needle(digits[area.end() :], _DIGIT_GAP), kind))
    return found


def id_needle(id_number: str) -> Needle | None:
    """A metadata ID number in any spacing, X in either case."""
    compact = re.sub(r"[^0-9Xx]", "", normalise(id_number))
    if len(compact) < 8:
        return None
    return Needle(compact.upper(), _DIGIT_GAP)


def email_needle(email: str) -> Needle | None:
    """A metadata e-mail address, any case, no separators."""
    email = normalise(email).strip()
    if "@" not in email:
        return None
    return Needle(email, frozenset())


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
    if name and (needle := name_needle(name)):
        rep = name_replacement(name, suffix=name_suffix)
        hits.extend(Hit(s, e, "name", rep) for s, e in find_spaced(norm, needle))
    for needle, kind in phone_needles(phone) if phone else []:
        for s, e in find_spaced(norm, needle):
            if kind == "phone":
                rep = mask_digits(norm[s:e], head=masking.mobile_head, tail=masking.mobile_tail)
            else:
                rep = _mask_landline(norm[s:e], tail=masking.landline_tail)
            hits.append(Hit(s, e, kind, rep))
    if id_number and (needle := id_needle(id_number)):
        for s, e in find_spaced(norm, needle):
            rep = mask_digits(norm[s:e], head=masking.id_head, tail=masking.id_tail)
            hits.append(Hit(s, e, "id_number", rep))
    if email and (needle := email_needle(email)):
        for s, e in find_spaced(norm, needle):
            local, _, domain = norm[s:e].partition("@")
            rep = mask_email(local, domain, keep=masking.email_local_keep)
            hits.append(Hit(s, e, "email", rep))
    return hits


def _mask_landline(chunk: str, *, tail: int) -> str:
    area = re.match(r"[(（]?0(?:10|2\d|[3-9]\d{2})[)）]?", chunk)
    cut = area.end() if area else 0
    return chunk[:cut] + mask_digits(chunk[cut:], head=0, tail=tail)
