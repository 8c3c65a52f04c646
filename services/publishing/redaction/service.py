"""Personal-data redaction of published text (Art. 24): names → 张某, numbers → 138****5678.

Pure logic: `redact` finds every piece of personal data as a span on the original text and
replaces it. The writer's own data from the letter's metadata comes first, then number and
e-mail patterns, house numbers, and last person names. `leak_scan` (in `leak_scan.py`) checks
the result independently before anything is published.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from services.publishing.redaction.addresses import find_house_numbers, own_address_hits
from services.publishing.redaction.names import find_name_hits, find_names
from services.publishing.redaction.patterns import Hit, Masking, find_numbers_and_emails, normalise
from services.publishing.redaction.person_match import person_hits
from services.publishing.redaction.traditional import simplify

SpanKind = Literal[
    "name",
    "phone",
    "landline",
    "id_number",
    "email",
    "bank_card",
    "house_number",
    "address",
    "account",
    "plate",
]


class PersonData(BaseModel):
    """The writer's own data from the letter's metadata (field names as on the platform)."""

    model_config = ConfigDict(extra="ignore")

    name: str | None = None
    phone: str | None = None
    id_number: str | None = None
    address: str | None = None
    email: str | None = None


class RedactionConfig(BaseModel):
    """How much of each value survives; defaults follow Art. 24 and the office's practice."""

    model_config = ConfigDict(frozen=True)

    mobile_keep_head: int = Field(3, ge=0, le=5)
    mobile_keep_tail: int = Field(4, ge=0, le=4)
    landline_keep_tail: int = Field(2, ge=0, le=4)
    id_keep_head: int = Field(6, ge=0, le=6)
    id_keep_tail: int = Field(4, ge=0, le=4)
    card_keep_head: int = Field(0, ge=0, le=6)
    card_keep_tail: int = Field(4, ge=0, le=4)
    email_keep_local: int = Field(1, ge=0, le=3)
    plate_keep_tail: int = Field(0, ge=0, le=2)
    name_suffix: str = Field("某", min_length=1, max_length=4)
    house_number_marker: str = Field("×××", max_length=16)
    mask_other_names: bool = True
    # Officials named in their public role (乡长 + name, a bureau's contact person in a reply):
    # masked unless the office decides to publish them (docs/redaction.md, "Officials").
    mask_officials: bool = True

    def masking(self) -> Masking:
        """The digit-keeping part as the pattern module's plain tuple."""
        return Masking(
            mobile_head=self.mobile_keep_head,
            mobile_tail=self.mobile_keep_tail,
            landline_tail=self.landline_keep_tail,
            id_head=self.id_keep_head,
            id_tail=self.id_keep_tail,
            card_head=self.card_keep_head,
            card_tail=self.card_keep_tail,
            email_local_keep=self.email_keep_local,
            plate_tail=self.plate_keep_tail,
        )


class Span(BaseModel):
    """One mask on the original text: characters [start, end) become `replacement`."""

    model_config = ConfigDict(frozen=True)

    start: int = Field(ge=0)
    end: int = Field(ge=0)
    kind: SpanKind
    replacement: str


class Redaction(BaseModel):
    """The redacted text and the spans (on the original) that made it."""

    text: str
    spans: list[Span]


DEFAULT_CONFIG = RedactionConfig()

# Lower wins when two findings overlap: the metadata is certain, a name guess is not.
_PRIORITY = {
    "person": 0,
    "id_number": 1,
    "bank_card": 2,
    "phone": 3,
    "landline": 3,
    "email": 4,
    "account": 4,
    "plate": 4,
    "address": 5,
    "house_number": 6,
    "name": 7,
}


_ADDRESS_KINDS = frozenset({"address", "house_number"})


def _mask_char(ch: str) -> str:
    return "*" if ch.isalnum() else ch


def _merge(text: str, pieces: list[Hit], kind: str) -> Hit:
    """One hit covering overlapping ones; characters no piece replaces are starred."""
    pieces = sorted(pieces)
    start, end = pieces[0].start, max(p.end for p in pieces)
    out: list[str] = []
    pos = start
    for piece in pieces:
        if piece.start >= pos:
            out.append("".join(_mask_char(c) for c in text[pos : piece.start]))
            out.append(piece.replacement)
            pos = piece.end
        elif piece.end > pos:
            out.append("".join(_mask_char(c) for c in text[pos : piece.end]))
            pos = piece.end
    return Hit(start, end, kind, "".join(out))


def resolve(text: str, candidates: Iterable[tuple[int, Hit]]) -> list[Hit]:
    """Non-overlapping hits, sorted; higher-priority findings win, partial overlaps merge."""
    accepted: list[tuple[int, Hit]] = []
    for prio, hit in sorted(candidates, key=lambda c: (c[0], c[1].start - c[1].end, c[1].start)):
        if hit.end <= hit.start:
            continue
        overlapping = [a for a in accepted if a[1].start < hit.end and hit.start < a[1].end]
        if not overlapping:
            accepted.append((prio, hit))
            continue
        if any(a[1].start <= hit.start and hit.end <= a[1].end for a in overlapping):
            continue
        best = min(overlapping, key=lambda a: a[0])
        pieces = [a[1] for a in overlapping] + [hit]
        if all(p.kind in _ADDRESS_KINDS for p in pieces):
            # The writer's own `2号` inside a found `2号2栋2单元1808室`: one marker for the run.
            start, end = min(p.start for p in pieces), max(p.end for p in pieces)
            merged = Hit(start, end, best[1].kind, best[1].replacement)
        else:
            merged = _merge(text, pieces, best[1].kind)
        accepted = [a for a in accepted if a not in overlapping] + [(best[0], merged)]
    return sorted(h for _, h in accepted)


def _placeholder(chunk: str) -> bool:
    return set(re.sub(r"\D", "", chunk)) <= {"0"}


def _candidates(
    text: str, *, person: PersonData | None, config: RedactionConfig, known: Iterable[str]
) -> list[tuple[int, Hit]]:
    # Matching reads traditional characters as simplified ones; masks keep the writer's own.
    norm = simplify(normalise(text))
    masking = config.masking()
    found: list[tuple[int, Hit]] = []
    if person is not None:
        own = person_hits(
            norm,
            name=simplify(person.name) if person.name else None,
            phone=person.phone,
            id_number=person.id_number,
            email=person.email,
            masking=masking,
            name_suffix=config.name_suffix,
        )
        found.extend((_PRIORITY["person"], h) for h in own)
        if person.address:
            for h in own_address_hits(
                norm, normalise(person.address), marker=config.house_number_marker
            ):
                found.append((_PRIORITY["address"], h))
    for h in find_numbers_and_emails(norm, masking=masking):
        if h.kind in {"phone", "landline"} and _placeholder(norm[h.start : h.end]):
            continue  # 0000-00000000: a number the platform already blanked out
        found.append((_PRIORITY[h.kind], h))
    for h in find_house_numbers(norm, marker=config.house_number_marker):
        found.append((_PRIORITY["house_number"], h))
    if config.mask_other_names:
        hits = find_name_hits(
            simplify(text),
            suffix=config.name_suffix,
            known=known,
            writer_text=text,
            keep_officials=not config.mask_officials,
        )
        found.extend((_PRIORITY["name"], h) for h in hits)
    return found


def apply_spans(text: str, spans: Iterable[Span]) -> str:
    """The text with each span's characters replaced by its replacement."""
    out: list[str] = []
    pos = 0
    for span in spans:
        out.append(text[pos : span.start])
        out.append(span.replacement)
        pos = span.end
    out.append(text[pos:])
    return "".join(out)


def _unglue(text: str, hits: list[Hit]) -> list[Hit]:
    """Star the kept digits at the end of a mask that a digit follows.

    `138****0253` right before `510104********2895` would publish `0253510104`, a new
    landline-shaped number: kept digits must never run into other digits.
    """
    out: list[Hit] = []
    for i, hit in enumerate(hits):
        after = (
            hits[i + 1].replacement[:1]
            if i + 1 < len(hits) and hits[i + 1].start == hit.end
            else text[hit.end : hit.end + 1]
        )
        if after.isdigit() and hit.replacement[-1:].isdigit():
            kept = len(hit.replacement) - len(hit.replacement.rstrip("0123456789"))
            hit = hit._replace(
                replacement=hit.replacement[: len(hit.replacement) - kept] + "*" * kept
            )
        out.append(hit)
    return out


def _redact(
    text: str, *, person: PersonData | None, config: RedactionConfig, known: Iterable[str]
) -> Redaction:
    hits = resolve(text, _candidates(text, person=person, config=config, known=known))
    hits = _unglue(normalise(text), hits)
    spans = [
        Span.model_validate(
            {"start": h.start, "end": h.end, "kind": h.kind, "replacement": h.replacement}
        )
        for h in hits
    ]
    return Redaction(text=apply_spans(text, spans), spans=spans)


def redact(
    text: str, *, person: PersonData | None = None, config: RedactionConfig | None = None
) -> Redaction:
    """Mask every piece of personal data in `text`; spans are on the original text."""
    return _redact(text, person=person, config=config or DEFAULT_CONFIG, known=())


def redact_fields(
    fields: Mapping[str, str],
    *,
    person: PersonData | None = None,
    config: RedactionConfig | None = None,
) -> dict[str, Redaction]:
    """Redact several published fields of one letter; a name found in one is masked in all."""
    config = config or DEFAULT_CONFIG
    known: set[str] = set()
    if config.mask_other_names:
        for value in fields.values():
            plain = simplify(value)
            known.update(plain[h.start : h.end] for h in find_names(plain))
    return {
        key: _redact(value, person=person, config=config, known=sorted(known))
        for key, value in fields.items()
    }
