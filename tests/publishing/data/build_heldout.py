"""Build heldout-letters.jsonl from its markup (heldout-letters.src.txt), in the dev-set format.

Run from the repository root: `.venv/bin/python tests/publishing/data/build_heldout.py`.
The markup is described at the top of the source file; offsets are computed here, so the
letters stay readable and the check digits stay valid.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "heldout-letters.src.txt"
TARGET = HERE / "heldout-letters.jsonl"

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_GENERATOR = re.compile(r"<(ID|IDX|CARD):([0-9 \-]+)>")
_FULLWIDTH = re.compile(r"<FW:([^<>]*)>")
_MARK = re.compile(r"\[\[(?P<kind>[a-z_]+)\|(?P<pii>[^\]]+)\]\]|\{\{(?P<keep>[^}]+)\}\}")


def _id_check(digits17: str) -> str:
    total = sum(int(d) * w for d, w in zip(digits17, _ID_WEIGHTS, strict=True))
    return "10X98765432"[total % 11]


def _luhn_digit(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return str((10 - total % 10) % 10)


def _generate(match: re.Match[str]) -> str:
    kind, written = match.group(1), match.group(2)
    digits = re.sub(r"\D", "", written)
    if kind == "ID":
        assert len(digits) == 17, written
        return written + _id_check(digits)
    if kind == "IDX":
        assert len(digits) == 15, written
        serial = next(f"{n:02d}" for n in range(100) if _id_check(f"{digits}{n:02d}") == "X")
        return written + serial + "x"
    return written + _luhn_digit(digits)


def _fullwidth(match: re.Match[str]) -> str:
    table = {ord(c): ord(c) + 0xFEE0 for c in "0123456789-."}
    table[ord(" ")] = 0x3000
    return match.group(1).translate(table)


def _expand(raw: str) -> str:
    return _FULLWIDTH.sub(_fullwidth, _GENERATOR.sub(_generate, raw))


def parse_letter(block: str) -> dict[str, Any]:
    """One `=== id` block as a dev-format record."""
    head, _, body = block.partition("\n---\n")
    lines = head.splitlines()
    letter_id = lines[0].strip()
    fields = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    marked = _expand(body.strip("\n"))
    text: list[str] = []
    pii: list[dict[str, Any]] = []
    keep: list[str] = []
    pos = 0
    length = 0
    for m in _MARK.finditer(marked):
        plain = marked[pos : m.start()]
        text.append(plain)
        length += len(plain)
        inner = m.group("pii") if m.group("kind") else m.group("keep")
        if m.group("kind"):
            pii.append(
                {
                    "start": length,
                    "end": length + len(inner),
                    "kind": m.group("kind"),
                    "text": inner,
                    "secret": True,
                }
            )
        elif inner not in keep:
            keep.append(inner)
        text.append(inner)
        length += len(inner)
        pos = m.end()
    text.append(marked[pos:])
    full = "".join(text)
    assert "[[" not in full and "{{" not in full and "<" not in full, letter_id
    for span in pii:
        assert full[span["start"] : span["end"]] == span["text"]
    return {
        "id": letter_id,
        "title": fields["title"],
        "text": full,
        "person": json.loads(_expand(fields["person"])),
        "labels": json.loads(fields["labels"]),
        "pii": pii,
        "keep": keep,
    }


def main() -> int:
    """Write the JSONL next to the source; print how many letters and characters."""
    source = "\n".join(
        line for line in SOURCE.read_text(encoding="utf-8").splitlines() if not line.startswith("#")
    )
    blocks = [b for b in source.split("=== ")[1:] if b.strip()]
    letters = [parse_letter(b) for b in blocks]
    with TARGET.open("w", encoding="utf-8") as out:
        for letter in letters:
            out.write(json.dumps(letter, ensure_ascii=False) + "\n")
    chars = sum(len(str(letter["text"])) for letter in letters)
    spans = sum(len(letter["pii"]) for letter in letters)
    keeps = sum(len(letter["keep"]) for letter in letters)
    print(
        f"{len(letters)} letters, {chars / len(letters):.0f} characters each on average, "
        f"{spans} pii spans, {keeps} keep strings → {TARGET.name}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
