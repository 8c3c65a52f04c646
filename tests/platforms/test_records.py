"""Field mapping in both directions, checked against records written by hand in each
platform's own names (not produced by our encoder, so a bug cannot hide in symmetry)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from shared.platforms import MalformedRecord, PlatformLetter
from shared.platforms.config import (
    GOV_MAILBOX,
    MAYOR_HOTLINE,
    SERVICE_PLATFORM,
    PlatformConfig,
    default_platform_configs,
)
from shared.platforms.models import PersonData, PlatformAttachment
from shared.platforms.records import (
    PageFormatError,
    decode_page,
    decode_record,
    encode_record,
    parse_timestamp,
    record_bytes,
)

pytestmark = pytest.mark.unit  # needs no server

CONFIGS = {c.id: c for c in default_platform_configs()}
# 2025-06-03 10:15:30 in Chongqing is 02:15:30 UTC.
INSTANT = datetime(2025, 6, 3, 2, 15, 30, tzinfo=UTC)

NATIVE_RECORDS: dict[str, dict[str, Any]] = {
    GOV_MAILBOX: {
        "id": "GOV00000042",
        "title": "投诉超市销售过期食品",
        "text": "我在超市买到过期牛奶。",
        "submitted_at": "2025-06-03T10:15:30+08:00",
        "person": {"name": "张三", "phone": "13800138000", "id_number": "50010619800512734X"},
        "attachments": [{"name": "小票.jpg", "url": "https://example.invalid/a.jpg"}],
    },
    MAYOR_HOTLINE: {
        "xjbh": "SZXX00000042",
        "bt": "投诉超市销售过期食品",
        "nr": "我在超市买到过期牛奶。",
        "tjsj": "2025-06-03 10:15:30",
        "lxr": "张三",
        "lxdh": "13800138000",
        "sfzh": "50010619800512734X",
        "fj": [{"mc": "小票.jpg", "dz": "https://example.invalid/a.jpg"}],
    },
    SERVICE_PLATFORM: {
        "letterId": "FWQZ00000042",
        "subject": "投诉超市销售过期食品",
        "content": "我在超市买到过期牛奶。",
        "createdAt": 1748916930000,
        "submitter": {"fullName": "张三", "mobile": "13800138000", "idCard": "50010619800512734X"},
        "files": [{"fileName": "小票.jpg", "downloadUrl": "https://example.invalid/a.jpg"}],
    },
}


def _letter(pid: str, record: object) -> PlatformLetter:
    decoded = decode_record(record, config=CONFIGS[pid])
    assert isinstance(decoded, PlatformLetter), decoded
    return decoded


def _malformed(pid: str, record: object, config: PlatformConfig | None = None) -> MalformedRecord:
    decoded = decode_record(record, config=config or CONFIGS[pid])
    assert isinstance(decoded, MalformedRecord), decoded
    return decoded


@pytest.mark.parametrize("pid", sorted(NATIVE_RECORDS))
def test_each_platforms_own_names_map_to_the_same_letter(pid: str) -> None:
    record = NATIVE_RECORDS[pid]
    letter = _letter(pid, record)
    assert letter.external_id.endswith("00000042")
    assert letter.title == "投诉超市销售过期食品"
    assert letter.text == "我在超市买到过期牛奶。"
    assert letter.submitted_at == INSTANT
    assert letter.person == PersonData(
        name="张三", phone="13800138000", id_number="50010619800512734X"
    )
    assert letter.attachments == [
        PlatformAttachment(name="小票.jpg", url="https://example.invalid/a.jpg")
    ]
    assert letter.raw == record


@pytest.mark.parametrize("pid", sorted(NATIVE_RECORDS))
def test_encoding_writes_what_the_platform_writes(pid: str) -> None:
    letter = _letter(pid, NATIVE_RECORDS[pid])
    encoded = encode_record(
        external_id=letter.external_id,
        title=letter.title,
        text=letter.text,
        submitted_at=letter.submitted_at,
        person=letter.person,
        attachments=letter.attachments,
        mapping=CONFIGS[pid].field_mapping,
    )
    assert encoded == NATIVE_RECORDS[pid]


def test_a_naive_iso_time_is_read_in_the_platforms_zone() -> None:
    mapping = CONFIGS[GOV_MAILBOX].field_mapping
    assert parse_timestamp("2025-06-03T10:15:30", mapping=mapping) == INSTANT
    assert parse_timestamp("2025-06-03T02:15:30Z", mapping=mapping) == INSTANT


def test_numeric_ids_and_phones_become_strings() -> None:
    record = {**NATIVE_RECORDS[MAYOR_HOTLINE], "xjbh": 42, "lxdh": 13800138000}
    letter = _letter(MAYOR_HOTLINE, record)
    assert letter.external_id == "42"
    assert letter.person.phone == "13800138000"


@pytest.mark.parametrize(
    ("pid", "drop", "expected"),
    [
        (MAYOR_HOTLINE, "bt", "missing required field 'bt' (title)"),
        (MAYOR_HOTLINE, "xjbh", "missing required field 'xjbh' (external_id)"),
        (GOV_MAILBOX, "submitted_at", "missing required field 'submitted_at' (submitted_at)"),
        (SERVICE_PLATFORM, "content", "missing required field 'content' (text)"),
    ],
)
def test_a_missing_field_is_named_in_the_platforms_words(
    pid: str, drop: str, expected: str
) -> None:
    record = {k: v for k, v in NATIVE_RECORDS[pid].items() if k != drop}
    malformed = _malformed(pid, record)
    assert malformed.reason == expected
    assert orjson.loads(malformed.raw) == record


def test_a_bad_date_says_what_and_which_format() -> None:
    record = {**NATIVE_RECORDS[MAYOR_HOTLINE], "tjsj": "2025-13-45 25:61:00"}
    malformed = _malformed(MAYOR_HOTLINE, record)
    assert "'tjsj' (submitted_at)" in malformed.reason
    assert "%Y-%m-%d %H:%M:%S" in malformed.reason
    assert malformed.external_id == "SZXX00000042"


def test_an_epoch_platform_refuses_a_string_time() -> None:
    record = {**NATIVE_RECORDS[SERVICE_PLATFORM], "createdAt": "yesterday"}
    assert "expected a number" in _malformed(SERVICE_PLATFORM, record).reason


def test_an_oversized_record_is_refused_with_its_size() -> None:
    config = CONFIGS[GOV_MAILBOX].model_copy(update={"max_record_bytes": 1024})
    record = {**NATIVE_RECORDS[GOV_MAILBOX], "text": "长" * 400}
    size = len(orjson.dumps(record))
    malformed = _malformed(GOV_MAILBOX, record, config)
    assert malformed.reason == f"record is {size} bytes, over the limit of 1024 bytes"
    assert malformed.external_id == "GOV00000042"
    assert len(malformed.raw) == size


def test_a_text_over_the_limit_is_refused() -> None:
    config = CONFIGS[GOV_MAILBOX].model_copy(update={"max_text_chars": 5})
    malformed = _malformed(GOV_MAILBOX, NATIVE_RECORDS[GOV_MAILBOX], config)
    assert "'text' (text) is 11 characters, over the limit of 5" in malformed.reason


def _nested(depth: int) -> Any:
    value: Any = "底"
    for _ in range(depth):
        value = [value]
    return value


# Valid JSON, as a standard JSON parser reads it, that orjson cannot write.
BEYOND_ORJSON = {
    "an integer beyond 64 bits": 2**64,
    "a negative one beyond 64 bits": -(2**127),
    "nesting deeper than 254 levels": _nested(300),
    "a lone surrogate": "\ud800 and a pair 😀",
}


@pytest.mark.parametrize("what", sorted(BEYOND_ORJSON))
def test_a_record_orjson_cannot_write_is_written_exactly(what: str) -> None:
    record = {**NATIVE_RECORDS[GOV_MAILBOX], "extra": BEYOND_ORJSON[what]}
    raw = record_bytes(record)
    assert json.loads(raw) == record
    assert "投诉超市销售过期食品".encode() in raw  # UTF-8, not escaped
    assert _letter(GOV_MAILBOX, record).raw == record


def test_a_record_nested_beyond_any_writer_is_malformed_with_a_stand_in() -> None:
    record = {**NATIVE_RECORDS[GOV_MAILBOX], "extra": _nested(100_000)}
    malformed = _malformed(GOV_MAILBOX, record)
    assert "cannot be written as JSON" in malformed.reason
    assert malformed.external_id == "GOV00000042"
    stand_in = orjson.loads(malformed.raw)
    assert stand_in["id"] == "GOV00000042"
    assert stand_in["type"] == "dict"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("title", "\udfff路灯"),
        ("text", "\ud800"),
        ("person", {"name": "王\ud800"}),
        ("attachments", [{"name": "\ud83d.jpg"}]),
    ],
)
def test_a_lone_surrogate_in_a_stored_field_is_refused(field: str, value: Any) -> None:
    record = {**NATIVE_RECORDS[GOV_MAILBOX], field: value}
    reason = _malformed(GOV_MAILBOX, record).reason
    assert "lone surrogate" in reason
    assert f"'{field}" in reason


def test_a_lone_surrogate_in_the_external_id_is_refused() -> None:
    record = {**NATIVE_RECORDS[GOV_MAILBOX], "id": "GOV\ud800"}
    assert "printable characters" in _malformed(GOV_MAILBOX, record).reason


def test_every_problem_of_a_record_is_listed() -> None:
    record = {"id": "X1", "title": 7, "text": ["a"], "submitted_at": "soon"}
    reason = _malformed(GOV_MAILBOX, record).reason
    assert "'title' (title) must be a string, got int" in reason
    assert "'text' (text) must be a string, got list" in reason
    assert "'submitted_at' (submitted_at)" in reason


@pytest.mark.parametrize("record", [["a", "list"], "text", 42, None])
def test_a_record_that_is_not_an_object_is_malformed(record: object) -> None:
    malformed = _malformed(GOV_MAILBOX, record)
    assert malformed.reason.startswith("record is not a JSON object")
    assert malformed.external_id is None
    assert orjson.loads(malformed.raw) == record


def test_an_id_with_spaces_is_refused() -> None:
    record = {**NATIVE_RECORDS[GOV_MAILBOX], "id": "a b"}
    assert "printable characters without spaces" in _malformed(GOV_MAILBOX, record).reason


def test_a_page_separates_good_and_bad_records() -> None:
    body = {
        "data": {
            "rows": [NATIVE_RECORDS[MAYOR_HOTLINE], {"xjbh": "SZ-BAD"}],
            "next": 17,
            "more": False,
        }
    }
    page = decode_page(body, config=CONFIGS[MAYOR_HOTLINE])
    assert [letter.external_id for letter in page.letters] == ["SZXX00000042"]
    assert [m.external_id for m in page.malformed] == ["SZ-BAD"]
    assert page.next_cursor == "17"
    assert page.has_more is False


@pytest.mark.parametrize(
    "body",
    [
        {"items": "nope", "next_cursor": None, "has_more": False},
        {"next_cursor": "1", "has_more": False},
        {"items": [], "next_cursor": {"x": 1}, "has_more": False},
        {"items": [], "next_cursor": "1", "has_more": "yes"},
        ["not", "an", "envelope"],
    ],
)
def test_a_page_with_a_broken_envelope_is_an_error(body: object) -> None:
    with pytest.raises(PageFormatError):
        decode_page(body, config=CONFIGS[GOV_MAILBOX])
