"""Traditional characters read as simplified ones, one character for one (陳 → 陈, 聯繫 → 联系).

The cue words, the surname list and the segmenter are simplified; a letter written in
traditional characters is matched on its simplified reading and masked on the writer's own
characters, so offsets must not move: only one-to-one mappings are used.
"""

from __future__ import annotations

import functools
from pathlib import Path

TABLE_FILE = Path(__file__).resolve().parent / "data" / "traditional.txt"


@functools.cache
def _table() -> dict[int, int]:
    table: dict[int, int] = {}
    for line in TABLE_FILE.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            continue
        for pair in line.split():
            table[ord(pair[0])] = ord(pair[1])
    return table


def simplify(text: str) -> str:
    """`text` with traditional characters replaced by simplified ones; same length."""
    return text.translate(_table())
