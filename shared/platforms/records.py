"""A platform's JSON in both directions: records and pages to our models (validating,
never raising for a bad record), and our letters to a platform's field names."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from shared.platforms.config import EPOCH_MS, EPOCH_S, ISO8601, FieldMapping, PlatformConfig
from shared.platforms.models import (
    MAX_EXTERNAL_ID_CHARS,
    MalformedRecord,
    PersonData,
    PlatformAttachment,
    PlatformLetter,
    PollPage,
)

MAX_PERSON_FIELD_CHARS = 500
MAX_ATTACHMENTS = 50
_MISSING = object()
# Printable, no whitespace: the id goes into a URL path and a unique index.
_EXTERNAL_ID_RE = re.compile(rf"^[^\s\x00-\x1f\x7f\ud800-\udfff]{{1,{MAX_EXTERNAL_ID_CHARS}}}$")
# A lone surrogate (a `\ud800` escape without its pair) is valid JSON but no text: no
# database stores it.
_SURROGATE_RE = re.compile(r"[\ud800-\udfff]")


class PageFormatError(ValueError):
    """A page body whose envelope (list, cursor, has_more) cannot be read."""


def get_path(obj: Any, path: str) -> Any:
    """The value at a dotted path, or `_MISSING` when any step is absent."""
    for part in path.split("."):
        if not isinstance(obj, dict) or part not in obj:
            return _MISSING
        obj = obj[part]
    return obj


def set_path(obj: dict[str, Any], path: str, value: Any) -> None:
    """Set a dotted path, creating the intermediate objects."""
    parts = path.split(".")
    for part in parts[:-1]:
        obj = obj.setdefault(part, {})
    obj[parts[-1]] = value


def delete_path(obj: dict[str, Any], path: str) -> None:
    """Remove a dotted path if present."""
    parts = path.split(".")
    for part in parts[:-1]:
        nxt = obj.get(part)
        if not isinstance(nxt, dict):
            return
        obj = nxt
    obj.pop(parts[-1], None)


class RecordNotWritable(ValueError):
    """A record that cannot be written back as JSON at all (nested too deeply)."""


def record_bytes(record: Any) -> bytes:
    """The record re-serialised: compact UTF-8 JSON, keys in the order received."""
    try:
        return orjson.dumps(record)
    except orjson.JSONEncodeError:
        # orjson stops at what valid JSON may still hold: integers beyond 64 bits, nesting
        # deeper than 254 levels, lone surrogates (from a `\ud800` escape). The standard
        # library writes them all; a lone surrogate goes back to its `\uXXXX` escape.
        pass
    try:
        text = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
    except (RecursionError, ValueError, TypeError) as exc:
        raise RecordNotWritable(f"record cannot be written as JSON: {exc}") from exc
    return text.encode("utf-8", errors="backslashreplace")


def parse_timestamp(value: Any, *, mapping: FieldMapping) -> datetime:
    """A platform timestamp as an aware UTC datetime; ValueError says what is wrong."""
    fmt = mapping.submitted_at_format
    if fmt in (EPOCH_S, EPOCH_MS):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"expected a number ({fmt}), got {_type_name(value)}")
        seconds = value / 1000 if fmt == EPOCH_MS else value
        try:
            return datetime.fromtimestamp(seconds, tz=UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise ValueError(f"{value!r} is out of range") from exc
    if not isinstance(value, str):
        raise ValueError(f"expected a string, got {_type_name(value)}")
    try:
        parsed = datetime.fromisoformat(value) if fmt == ISO8601 else datetime.strptime(value, fmt)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a valid time in format '{fmt}'") from exc
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        parsed = parsed.replace(tzinfo=ZoneInfo(mapping.naive_timezone))
    return parsed.astimezone(UTC)


def format_timestamp(at: datetime, *, mapping: FieldMapping) -> str | int:
    """An instant written the way the platform writes it."""
    fmt = mapping.submitted_at_format
    if fmt == EPOCH_MS:
        return int(at.timestamp() * 1000)
    if fmt == EPOCH_S:
        return int(at.timestamp())
    local = at.astimezone(ZoneInfo(mapping.naive_timezone))
    return local.isoformat() if fmt == ISO8601 else local.strftime(fmt)


def _type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__


class _RecordReader:
    """Collects every problem of one record, so the reason lists them all at once."""

    def __init__(self, record: dict[str, Any], *, config: PlatformConfig) -> None:
        self.record = record
        self.config = config
        self.problems: list[str] = []

    def _label(self, ours: str, path: str) -> str:
        return f"'{path}' ({ours})"

    def required_text(self, ours: str, path: str, *, max_chars: int) -> str:
        value = get_path(self.record, path)
        if value is _MISSING or value is None:
            self.problems.append(f"missing required field {self._label(ours, path)}")
            return ""
        if not isinstance(value, str):
            self.problems.append(
                f"field {self._label(ours, path)} must be a string, got {_type_name(value)}"
            )
            return ""
        if len(value) > max_chars:
            self.problems.append(
                f"field {self._label(ours, path)} is {len(value)} characters,"
                f" over the limit of {max_chars}"
            )
        self._check_text(self._label(ours, path), value)
        return value

    def _check_text(self, label: str, value: str) -> bool:
        if _SURROGATE_RE.search(value) is None:
            return True
        self.problems.append(f"field {label} is not text: it holds a lone surrogate escape")
        return False

    def external_id(self) -> str | None:
        path = self.config.field_mapping.external_id
        value = get_path(self.record, path)
        if value is _MISSING or value is None:
            self.problems.append(f"missing required field {self._label('external_id', path)}")
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            self.problems.append(
                f"field {self._label('external_id', path)} must be a string,"
                f" got {_type_name(value)}"
            )
            return None
        if not _EXTERNAL_ID_RE.match(value):
            self.problems.append(
                f"field {self._label('external_id', path)} must be 1–{MAX_EXTERNAL_ID_CHARS}"
                " printable characters without spaces"
            )
            return None
        return value

    def submitted_at(self) -> datetime | None:
        mapping = self.config.field_mapping
        value = get_path(self.record, mapping.submitted_at)
        if value is _MISSING or value is None:
            self.problems.append(
                f"missing required field {self._label('submitted_at', mapping.submitted_at)}"
            )
            return None
        try:
            return parse_timestamp(value, mapping=mapping)
        except ValueError as exc:
            self.problems.append(
                f"field {self._label('submitted_at', mapping.submitted_at)}: {exc}"
            )
            return None

    def person(self) -> PersonData:
        found: dict[str, str] = {}
        for ours, path in self.config.field_mapping.person_fields().items():
            value = get_path(self.record, path)
            if value is _MISSING or value is None or value == "":
                continue
            if isinstance(value, int) and not isinstance(value, bool):
                value = str(value)  # phone numbers sometimes arrive as numbers
            if not isinstance(value, str):
                self.problems.append(
                    f"field {self._label(ours, path)} must be a string, got {_type_name(value)}"
                )
            elif len(value) > MAX_PERSON_FIELD_CHARS:
                self.problems.append(
                    f"field {self._label(ours, path)} is over {MAX_PERSON_FIELD_CHARS} characters"
                )
            elif self._check_text(self._label(ours, path), value):
                found[ours] = value
        return PersonData(**found)

    def attachments(self) -> list[PlatformAttachment]:
        mapping = self.config.field_mapping
        value = get_path(self.record, mapping.attachments)
        if value is _MISSING or value is None:
            return []
        label = self._label("attachments", mapping.attachments)
        if not isinstance(value, list) or len(value) > MAX_ATTACHMENTS:
            self.problems.append(f"field {label} must be a list of at most {MAX_ATTACHMENTS}")
            return []
        result: list[PlatformAttachment] = []
        for index, item in enumerate(value):
            name = get_path(item, mapping.attachment_name)
            url = get_path(item, mapping.attachment_url)
            if not isinstance(name, str) or not name:
                self.problems.append(f"attachment {index} of {label} has no name")
                continue
            if url is not _MISSING and url is not None and not isinstance(url, str):
                self.problems.append(f"attachment {index} of {label} has a non-string url")
                continue
            where = f"attachment {index} of {label}"
            if not self._check_text(where, name) or (
                isinstance(url, str) and not self._check_text(where, url)
            ):
                continue
            result.append(PlatformAttachment(name=name, url=url if isinstance(url, str) else None))
        return result


def decode_record(record: Any, *, config: PlatformConfig) -> PlatformLetter | MalformedRecord:
    """One platform record as a letter, or as a malformed record with the reason."""
    try:
        raw = record_bytes(record)
    except RecordNotWritable as exc:
        return _unwritable(record, reason=str(exc), config=config)
    if not isinstance(record, dict):
        return MalformedRecord(
            external_id=None,
            reason=f"record is not a JSON object (got {_type_name(record)})",
            raw=raw,
        )
    reader = _RecordReader(record, config=config)
    external_id = reader.external_id()
    if len(raw) > config.max_record_bytes:
        return MalformedRecord(
            external_id=external_id,
            reason=f"record is {len(raw)} bytes, over the limit of {config.max_record_bytes} bytes",
            raw=raw,
        )
    mapping = config.field_mapping
    title = reader.required_text("title", mapping.title, max_chars=config.max_title_chars)
    text = reader.required_text("text", mapping.text, max_chars=config.max_text_chars)
    submitted_at = reader.submitted_at()
    person = reader.person()
    attachments = reader.attachments()
    if reader.problems or external_id is None or submitted_at is None:
        return MalformedRecord(external_id=external_id, reason="; ".join(reader.problems), raw=raw)
    return PlatformLetter(
        external_id=external_id,
        title=title,
        text=text,
        submitted_at=submitted_at,
        person=person,
        raw=record,
        attachments=attachments,
    )


def _unwritable(record: Any, *, reason: str, config: PlatformConfig) -> MalformedRecord:
    """A record JSON cannot hold, kept as what can be read of it: its type and its id."""
    external_id = None
    if isinstance(record, dict):
        external_id = _RecordReader(record, config=config).external_id()
    stand_in = {"unwritable_record": reason, "type": _type_name(record), "id": external_id}
    return MalformedRecord(external_id=external_id, reason=reason, raw=orjson.dumps(stand_in))


def decode_page(body: Any, *, config: PlatformConfig) -> PollPage:
    """A page body as letters and malformed records; PageFormatError if the envelope is bad."""
    mapping = config.field_mapping
    items = get_path(body, mapping.items_path)
    if not isinstance(items, list):
        raise PageFormatError(f"page has no list at '{mapping.items_path}'")
    cursor = get_path(body, mapping.cursor_path)
    if cursor is _MISSING or cursor is None:
        next_cursor = None
    elif isinstance(cursor, str | int) and not isinstance(cursor, bool):
        next_cursor = str(cursor)
    else:
        raise PageFormatError(f"page cursor '{mapping.cursor_path}' is {_type_name(cursor)}")
    has_more = get_path(body, mapping.has_more_path)
    if not isinstance(has_more, bool):
        raise PageFormatError(f"page flag '{mapping.has_more_path}' is not a boolean")
    letters: list[PlatformLetter] = []
    malformed: list[MalformedRecord] = []
    for item in items:
        decoded = decode_record(item, config=config)
        if isinstance(decoded, PlatformLetter):
            letters.append(decoded)
        else:
            malformed.append(decoded)
    return PollPage(
        letters=letters, malformed=malformed, next_cursor=next_cursor, has_more=has_more
    )


def encode_record(
    *,
    external_id: str,
    title: str,
    text: str,
    submitted_at: datetime,
    person: PersonData,
    attachments: list[PlatformAttachment],
    mapping: FieldMapping,
) -> dict[str, Any]:
    """A letter written with a platform's field names (what the simulator serves)."""
    record: dict[str, Any] = {}
    set_path(record, mapping.external_id, external_id)
    set_path(record, mapping.title, title)
    set_path(record, mapping.text, text)
    set_path(record, mapping.submitted_at, format_timestamp(submitted_at, mapping=mapping))
    for ours, path in mapping.person_fields().items():
        value = getattr(person, ours)
        if value is not None:
            set_path(record, path, value)
    if attachments:
        items: list[dict[str, Any]] = []
        for attachment in attachments:
            item: dict[str, Any] = {}
            set_path(item, mapping.attachment_name, attachment.name)
            if attachment.url is not None:
                set_path(item, mapping.attachment_url, attachment.url)
            items.append(item)
        set_path(record, mapping.attachments, items)
    return record


def encode_page(
    records: list[Any], *, next_cursor: str | None, has_more: bool, mapping: FieldMapping
) -> dict[str, Any]:
    """A page envelope with a platform's field names."""
    body: dict[str, Any] = {}
    set_path(body, mapping.items_path, records)
    set_path(body, mapping.cursor_path, next_cursor)
    set_path(body, mapping.has_more_path, has_more)
    return body
