"""Letters for the simulator: loaded from a JSONL file or generated from templates,
both deterministic, so a demo or a test run can be repeated exactly."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

import orjson
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from devkit.simulator.words import (
    CAUSES,
    CLOSINGS,
    COMPOUND_SURNAMES,
    COMPOUNDS,
    DISTRICTS,
    FACILITIES,
    GIVEN_NAMES,
    GOODS,
    GREETINGS,
    MAIL_DOMAINS,
    MALLS,
    MOBILE_PREFIXES,
    PROBLEMS,
    PURPOSES,
    REGION_CODES,
    REMEDIES,
    ROADS,
    SHOPS,
    SURNAMES,
    TEMPLATES,
    TOPICS,
    TROUBLES,
    VIOLATIONS,
)
from shared.clock import SHANGHAI
from shared.platforms.models import MAX_EXTERNAL_ID_CHARS, PersonData, PlatformAttachment

# A fixed start keeps generated and loaded letters identical from run to run.
DEFAULT_START = datetime(2025, 6, 2, 8, 30, tzinfo=SHANGHAI)
LETTER_SPACING = timedelta(minutes=7)
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


class SimulatorLetter(BaseModel):
    """A letter as the simulator holds it, before it is written with a platform's names."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    external_id: str = Field(min_length=1, max_length=MAX_EXTERNAL_ID_CHARS)
    title: str
    text: str
    submitted_at: AwareDatetime
    person: PersonData = Field(default_factory=PersonData)
    attachments: list[PlatformAttachment] = Field(default_factory=list)


class LetterDraft(BaseModel):
    """A generated letter without platform identity or time."""

    model_config = ConfigDict(frozen=True)

    nature: str
    title: str
    text: str
    person: PersonData


def id_check_digit(first17: str) -> str:
    """The GB 11643 check character of an 18-digit resident ID number."""
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def _id_number(rng: random.Random) -> str:
    birth = datetime(1950, 1, 1) + timedelta(days=rng.randrange(0, 365 * 55))
    first17 = f"{rng.choice(REGION_CODES)}{birth:%Y%m%d}{rng.randrange(0, 1000):03d}"
    return first17 + id_check_digit(first17)


def _name(rng: random.Random) -> str:
    surname = rng.choice(COMPOUND_SURNAMES) if rng.random() < 0.08 else rng.choice(SURNAMES)
    return surname + rng.choice(GIVEN_NAMES)


def _phone(rng: random.Random) -> tuple[str, str]:
    """(stored form, the form the writer typed in the text)."""
    if rng.random() < 0.15:
        number = f"023-6{rng.randrange(0, 10**7):07d}"
        return number, number
    digits = f"{rng.choice(MOBILE_PREFIXES)}{rng.randrange(0, 10**8):08d}"
    style = rng.randrange(3)
    typed = (
        digits
        if style == 0
        else f"{digits[:3]} {digits[3:7]} {digits[7:]}"
        if style == 1
        else f"{digits[:3]}-{digits[3:7]}-{digits[7:]}"
    )
    return digits, typed


def _address(rng: random.Random) -> str:
    district, road = rng.choice(DISTRICTS), rng.choice(ROADS)
    style = rng.randrange(3)
    if style == 0:
        return f"{district}{road}{rng.randrange(1, 400)}号"
    building, unit = rng.randrange(1, 30), rng.randrange(1, 6)
    room = f"{rng.randrange(1, 33)}{rng.randrange(1, 9):02d}"
    if style == 1:
        return f"{district}{rng.choice(COMPOUNDS)}{building}栋{unit}单元{room}室"
    return f"{district}{road}{rng.randrange(1, 400)}号{building}-{unit}-{room}"


def draft_letter(rng: random.Random) -> LetterDraft:
    """One realistic synthetic letter (nature, title, text, the writer's data)."""
    nature = rng.choice(sorted(TEMPLATES))
    title_t, body_t = rng.choice(TEMPLATES[nature])
    topic, question = rng.choice(TOPICS)
    words = {
        "district": rng.choice(DISTRICTS),
        "road": rng.choice(ROADS),
        "facility": rng.choice(FACILITIES),
        "purpose": rng.choice(PURPOSES),
        "shop": rng.choice(SHOPS),
        "cause": rng.choice(CAUSES),
        "trouble": rng.choice(TROUBLES),
        "mall": rng.choice(MALLS),
        "goods": rng.choice(GOODS),
        "problem": rng.choice(PROBLEMS),
        "remedy": rng.choice(REMEDIES),
        "violation": rng.choice(VIOLATIONS),
        "topic": topic,
        "question": question,
    }
    name, (phone, typed_phone), address = _name(rng), _phone(rng), _address(rng)
    id_number = _id_number(rng)
    mailbox = f"{rng.choice('abcdefghjkmnpqrstwxyz')}{rng.randrange(10**5, 10**9)}"
    email = f"{mailbox}@{rng.choice(MAIL_DOMAINS)}" if rng.random() < 0.3 else None
    parts = [rng.choice(GREETINGS)]
    # Writers often repeat their details in the text; redaction must find them there too.
    if rng.random() < 0.7:
        parts.append(f"我叫{name}，家住{address}。")
    parts.append(body_t.format(**words))
    if rng.random() < 0.6:
        parts.append(f"我的联系电话是{typed_phone}，身份证号{id_number}。")
    parts.append(rng.choice(CLOSINGS))
    person = PersonData(name=name, phone=phone, id_number=id_number, address=address, email=email)
    return LetterDraft(
        nature=nature, title=title_t.format(**words), text="".join(parts), person=person
    )


def assign_platform(external_id: str, platform_ids: Sequence[str]) -> str:
    """A stable choice of platform for a letter id (independent of file order)."""
    digest = hashlib.sha256(external_id.encode()).digest()
    return platform_ids[int.from_bytes(digest[:4], "big") % len(platform_ids)]


def load_jsonl_letters(
    path: Path | str, *, start: datetime = DEFAULT_START
) -> list[SimulatorLetter]:
    """Letters from a JSONL file of `{id, title, text, person{name, phone, id_number, …}}`."""
    letters: list[SimulatorLetter] = []
    with Path(path).open("rb") as handle:
        for line_no, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = orjson.loads(line)
                person = {
                    key: value
                    for key, value in (row.get("person") or {}).items()
                    if key in PersonData.model_fields
                }
                letters.append(
                    SimulatorLetter(
                        external_id=str(row["id"]),
                        title=row["title"],
                        text=row["text"],
                        submitted_at=start + LETTER_SPACING * len(letters),
                        person=PersonData(**person),
                    )
                )
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
                raise ValueError(f"{path}:{line_no}: not a letter ({exc})") from exc
    return letters
