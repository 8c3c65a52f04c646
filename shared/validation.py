"""What every API refuses alike: instants and days out of range, NUL characters, huge integers.

`Instant` and `Day` are the types of every instant and date an API accepts (query parameters
and body fields). Python's datetimes end at years 1 and 9999: an instant near either end
overflows where the code turns it into UTC (which BSON does to every datetime it writes) or
adds a day to it, a 500. No letter, clock or period of this system lies outside 2000–2099,
so anything outside that range is refused as the field's 422 before it reaches the code.

`screen_request` finds what the body parsing or the database would fail on before any field
is validated: a NUL character (`\\u0000`) in a JSON string or a query parameter, which no
free text has and the database cannot store in every backend, and a JSON integer of more
digits than Python converts (its `int_max_str_digits` limit raises inside JSON decoding,
where the field is not known). Each is answered as a 422 naming the field.
"""

from __future__ import annotations

import json
import re
import sys
from datetime import UTC, date, datetime
from typing import Annotated, Any
from urllib.parse import parse_qsl

from pydantic import AfterValidator, AwareDatetime
from pydantic_core import PydanticCustomError

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)  # exclusive
_RANGE = "between 2000-01-01 and 2100-01-01 (UTC)"


def instant_in_range(value: datetime) -> datetime:
    """The instant as given, if it lies in 2000–2099 UTC; else the field's validation error."""
    try:
        utc = value.astimezone(UTC)
    except OverflowError as exc:  # year 1 east of UTC, year 9999 west of it
        raise _out_of_range("instant", _RANGE) from exc
    if not EARLIEST <= utc < LATEST:
        raise _out_of_range("instant", _RANGE)
    return value


def day_in_range(value: date) -> date:
    """The date, if it lies in 2000–2099; else the field's validation error."""
    if not EARLIEST.date() <= value < LATEST.date():
        raise _out_of_range("date", "between 2000-01-01 and 2099-12-31")
    return value


def _out_of_range(what: str, bounds: str) -> PydanticCustomError:
    # Pydantic's own error type, so the reason reads without its "Value error, " prefix.
    return PydanticCustomError(f"{what}_out_of_range", f"the {what} must be {bounds}")


# An instant with its UTC offset, in 2000–2099 (the offset is kept: the same instant).
Instant = Annotated[AwareDatetime, AfterValidator(instant_in_range)]
# A calendar day in 2000–2099.
Day = Annotated[date, AfterValidator(day_in_range)]

NUL_REASON = "must not contain NUL characters (\\u0000)"
# The cheap checks that decide whether a body is parsed here at all: a NUL is written
# `\u0000` in JSON (a raw one is invalid JSON, refused by the parsing), and a huge integer is
# a long run of digits (perhaps inside a string, which the parse below tells apart).
_NUL_ESCAPE = b"\\u0000"


class _HugeInteger:
    """Stands in for an integer the JSON parse could not convert."""


def _int_digits_limit() -> int:
    return sys.get_int_max_str_digits()  # 0: no limit


def _parse_int(text: str) -> int | _HugeInteger:
    limit = _int_digits_limit()
    if limit and len(text.lstrip("-")) > limit:
        return _HugeInteger()
    return int(text)


def _walk(value: Any, path: list[str], found: list[dict[str, Any]]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if "\x00" in key:
                found.append(_problem(path, NUL_REASON + " in a name", where="body"))
                continue
            _walk(item, [*path, key], found)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _walk(item, [*path, str(index)], found)
    elif isinstance(value, str) and "\x00" in value:
        found.append(_problem(path, NUL_REASON, where="body"))
    elif isinstance(value, _HugeInteger):
        reason = f"an integer of more than {_int_digits_limit()} digits"
        found.append(_problem(path, reason, where="body"))


def _problem(path: list[str], reason: str, *, where: str) -> dict[str, Any]:
    return {"field": ".".join(path), "in": where, "reason": reason}


def body_problems(body: bytes) -> list[dict[str, Any]]:
    """NUL characters and unconvertible integers in a JSON body, each with its field."""
    if body and json.detect_encoding(body) != "utf-8":
        # JSON in UTF-16 or UTF-32 (which the body parsing decodes too): screen its UTF-8.
        try:
            body = body.decode(json.detect_encoding(body)).encode("utf-8", "surrogatepass")
        except (UnicodeError, LookupError):
            return []  # not text: the body parsing answers it
    limit = _int_digits_limit()
    huge = limit and re.search(rb"\d{%d}" % (limit + 1), body) is not None
    if _NUL_ESCAPE not in body and not huge:
        return []
    try:
        parsed = json.loads(body, parse_int=_parse_int)
    except (ValueError, RecursionError):
        return []  # not JSON: the body parsing answers it
    found: list[dict[str, Any]] = []
    _walk(parsed, [], found)
    return found


def query_problems(query_string: bytes) -> list[dict[str, Any]]:
    """Query parameters with a NUL character in their name or value."""
    if b"%00" not in query_string and b"\x00" not in query_string:
        return []
    found: list[dict[str, Any]] = []
    for name, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        if "\x00" in name or "\x00" in value:
            found.append(_problem([name.replace("\x00", "")], NUL_REASON, where="query"))
    return found
