"""`mailbox bench redact`: throughput, memory, and quality on the dev and held-out letters."""

from __future__ import annotations

import resource
import time
import tracemalloc
from pathlib import Path
from typing import Any

import orjson

from services.publishing.redaction import name_reading, persons
from services.publishing.redaction.leak_scan import leak_scan
from services.publishing.redaction.service import PersonData, redact

Figures = dict[str, float | int | str]
Letter = dict[str, Any]
# The target is about 300 characters a letter; dev letters are about 100, so the
# headline figure joins three of them (with the first one's metadata).
LONG_LETTER_PARTS = 3


def load_letters(path: Path) -> list[Letter]:
    """The labelled letters of a JSONL file."""
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


def _items(letters: list[Letter], *, parts: int) -> list[tuple[str, PersonData]]:
    items = []
    for i in range(0, len(letters) - parts + 1, parts):
        group = letters[i : i + parts]
        text = "".join(letter["text"] for letter in group)
        items.append((text, PersonData.model_validate(group[0].get("person") or {})))
    return items


def throughput(
    items: list[tuple[str, PersonData]], *, min_letters: int, warm_cache: bool
) -> Figures:
    """Letters and characters per second on one core.

    With `warm_cache` false the segmenter's memo is emptied before each pass over the set, so
    repeating the same letters does not make them free; true shows the steady state of a
    process that has seen these phrases before.
    """
    redact("预热：我叫张三。", person=None)  # loads jieba once, outside the timing
    passes = max(1, -(-min_letters // len(items)))
    elapsed = 0.0
    for _ in range(passes):
        if not warm_cache:
            name_reading.segment.cache_clear()
            persons.clear_memo()
        started = time.perf_counter()
        for text, person in items:
            redact(text, person=person)
        elapsed += time.perf_counter() - started
    count = passes * len(items)
    chars = passes * sum(len(text) for text, _ in items)
    return {
        "letters": count,
        "mean_chars_per_letter": round(chars / count, 1),
        "letters_per_s": round(count / elapsed),
        "chars_per_s": round(chars / elapsed),
        "ms_per_letter": round(1000 * elapsed / count, 3),
    }


def memory(items: list[tuple[str, PersonData]]) -> Figures:
    """Peak Python heap during one pass (tracemalloc) and the process's peak RSS."""
    name_reading.segment.cache_clear()
    persons.clear_memo()
    tracemalloc.start()
    for text, person in items:
        redact(text, person=person)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "tracemalloc_peak_mib": round(peak / 2**20, 2),
        "max_rss_mib": round(rss_kib / 1024, 1),
    }


def quality(letters: list[Letter]) -> Figures:
    """Recall of annotated secrets, keep-rate of `keep` strings, leak-scan refusals."""
    secrets = masked = keeps = kept = refused = 0
    for letter in letters:
        text: str = letter["text"]
        person = PersonData.model_validate(letter.get("person") or {})
        result = redact(text, person=person)
        covered = {i for span in result.spans for i in range(span.start, span.end)}
        for pii in letter.get("pii", []):
            if not pii.get("secret", True):
                continue
            secrets += 1
            inside = all(i in covered for i in range(pii["start"], pii["end"]))
            masked += inside and pii["text"] not in result.text
        for keep in letter.get("keep", []):
            keeps += 1
            kept += keep in result.text
        refused += bool(leak_scan(result.text, person=person))
    return {
        "letters": len(letters),
        "secret_spans": secrets,
        "recall": round(masked / secrets, 4) if secrets else 1.0,
        "keep_strings": keeps,
        "keep_rate": round(kept / keeps, 4) if keeps else 1.0,
        "leak_scan_refusals": refused,
    }


def run_all(
    letters: list[Letter], *, min_letters: int, heldout: list[Letter] | None = None
) -> dict[str, Figures]:
    """Every measurement, grouped; speed on the dev letters, quality on both sets."""
    short = _items(letters, parts=1)
    long = _items(letters, parts=LONG_LETTER_PARTS)
    figures = {
        "long_letters_cold": throughput(long, min_letters=min_letters, warm_cache=False),
        "dev_letters_cold": throughput(short, min_letters=min_letters, warm_cache=False),
        "dev_letters_warm": throughput(short, min_letters=min_letters, warm_cache=True),
        "memory": memory(long),
        "quality_dev": quality(letters),
    }
    if heldout:
        figures["quality_heldout"] = quality(heldout)
    return figures
