"""JSON lines as the offline commands read them (`mailbox redact --jsonl`, `mailbox classify
--jsonl`, the evaluations): one object a line, each with a string `id`.

A line that cannot be used is answered, not skipped and not fatal: the reader yields the
line's number with the reason (not UTF-8, not JSON, not an object, no string `id`), and the
command writes it as an error record in its place. A UTF-8 byte-order mark at the very
start (as some editors on Windows write) is read past.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import orjson

BOM = b"\xef\xbb\xbf"


def read_objects(lines: Iterable[bytes]) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """For every line that is not blank: its number and the object, or why it is unusable."""
    for number, raw in enumerate(lines, start=1):
        if number == 1 and raw.startswith(BOM):
            raw = raw[len(BOM) :]
        if not raw.strip():
            continue
        yield number, _object(raw)


def _object(raw: bytes) -> dict[str, Any] | str:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        return f"not UTF-8: byte 0x{raw[error.start]:02x} at byte {error.start + 1} of the line"
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as error:
        return f"not JSON: {error}"
    if not isinstance(value, dict):
        return "expected a JSON object"
    letter_id = value.get("id")
    if not isinstance(letter_id, str) or not letter_id.strip():
        return '"id" must be a non-empty string'
    return value


def error_record(number: int, reason: str) -> dict[str, Any]:
    """What a command writes in place of an unusable line."""
    return {"line": number, "error": reason}
