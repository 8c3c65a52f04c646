"""The console's live check of Art. 29's parts gives routing's verdict on each part, and the
preview's pieces rebuild both texts (pure: no server)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.console.casework.service import local_instant
from services.console.replies.schemas import FieldRedaction, Span
from services.console.replies.service import PARTS, missing_parts, segments
from services.routing.letters.handling.schemas import ReplyDraft
from tests.console.letter_harness import PARTS as GOOD

SAMPLES = [
    "",
    "   ",
    "无",
    "略",
    "详见附件",
    "N/A",
    "无无无",
    "xx",
    "某某",
    "经查",
    "经查属实。",
    "哈哈哈哈哈哈哈哈哈哈哈哈哈哈哈哈",
    "《单用途商业预付卡管理办法》",
    "我处已会同区商务委实地核查门店并约谈经营者。",
    "已督促退款，来信人已收到全部余额。",
    "市场处",
    "李华",
    "ab",
]


def _routing_refuses(name: str, value: str) -> bool:
    body = {**GOOD, name: value, "proposed_mode": "online", "version": 1}
    try:
        ReplyDraft.model_validate(body)
    except ValidationError as exc:
        return any(error["loc"][0] == name for error in exc.errors())
    return False


@pytest.mark.parametrize("name", [name for name, _, _ in PARTS])
@pytest.mark.parametrize("value", SAMPLES)
def test_the_live_check_refuses_what_routing_refuses(name: str, value: str) -> None:
    console_refuses = any(m.name == name for m in missing_parts({**GOOD, name: value}))
    assert console_refuses == _routing_refuses(name, value), (name, value)


def test_a_complete_reply_misses_nothing_and_not_public_needs_its_reason() -> None:
    assert missing_parts(GOOD) == []
    assert [m.name for m in missing_parts({**GOOD, "proposed_mode": "not_public"})] == [
        "not_public_reason"
    ]
    assert [m.label for m in missing_parts({})] == [label for _, label, _ in PARTS]


def test_the_preview_pieces_rebuild_the_original_and_the_masked_text() -> None:
    original = "我叫王小明，电话13800001234，住民族路88号。"
    spans = [
        Span(start=8, end=19, kind="phone", replacement="138****1234"),
        Span(start=2, end=5, kind="name", replacement="王某某"),
    ]
    masked = "我叫王某某，电话138****1234，住民族路88号。"
    pieces = segments(FieldRedaction(original=original, text=masked, spans=spans))
    assert "".join(p.original for p in pieces) == original
    assert "".join(p.masked for p in pieces) == masked
    assert [p.kind for p in pieces if p.kind] == ["name", "phone"]


def test_a_local_time_is_read_as_beijing_time() -> None:
    assert local_instant("2026-10-20T18:00") == "2026-10-20T18:00:00+08:00"
    assert local_instant("2026-10-20T18:05:30") == "2026-10-20T18:05:30+08:00"
    assert local_instant("2026-10-20") == "2026-10-20T23:59:59+08:00"
    assert local_instant(" ") is None
    assert local_instant(None) is None
    # Not a moment: passed on as typed, for routing to name in its 422.
    assert local_instant("明天上午") == "明天上午"
    assert local_instant("2026-02-30T10:00") == "2026-02-30T10:00"
