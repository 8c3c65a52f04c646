"""What goes public: a number spelt in Chinese numerals is still caught by the leak scan, and
markup in a letter or reply is published as the text it is, escaped (the platforms render
HTML).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.publishing.letters.models import ReplyParts
from services.publishing.redaction.leak_scan import leak_scan
from services.publishing.redaction.service import PersonData, RedactionConfig, redact
from services.publishing.uploads.compose import reply_title
from services.publishing.uploads.publication import public_draft
from shared.auth import Role
from tests.security.conftest import Deployment, Seeded
from tests.security.harness import BUILT, headers

SPELT = [
    ("请拨打一三八一二三四五六七八联系我", "phone"),
    ("手机：幺三八 一二三四 五六七八", "phone"),
    ("联系电话壹叁捌壹贰叁肆伍陆柒捌", "phone"),
    ("身份证号五〇〇一〇一一九九〇〇一〇一一二三四", "id_number"),
]


@pytest.mark.unit
@pytest.mark.parametrize(("text", "pattern"), SPELT, ids=["digits", "yao", "capitals", "id"])
def test_the_leak_scan_reads_chinese_numerals_as_digits(text: str, pattern: str) -> None:
    found = leak_scan(text)
    assert [leak.pattern for leak in found] == [pattern]
    # The offsets are the text's own: the finding covers the numerals.
    assert text[found[0].start] in "一幺壹五"


@pytest.mark.unit
def test_the_writers_phone_in_numerals_is_found_and_names_still_are() -> None:
    person = PersonData(name="张三", phone="13812345678")
    found = {leak.pattern for leak in leak_scan("张三说：打一三八一二三四五六七八", person=person)}
    assert {"person_name", "person_phone"} <= found


@pytest.mark.unit
def test_ordinary_number_words_are_neither_masked_nor_refused() -> None:
    text = "二〇二六年十月十二日，我在三个月前办了卡，充值五千元，一共去了两次。"
    assert redact(text, person=None).text == text
    assert leak_scan(text) == []


MARKUP_TITLE = "<b>预付卡</b>退款"
MARKUP_TEXT = '健身房跑路<script>alert("x")</script>，余额&#49;&#51;&#56;元。'


def _draft_of(reply_result: str) -> tuple[str, str]:
    parts = ReplyParts(
        unit_name="市场秩序处",
        handler_name="王建国",
        investigation="经查，健身房已停业。",
        policy_basis="《单用途商业预付卡管理办法（试行）》",
        result=reply_result,
    )
    draft = public_draft(
        letter_title=MARKUP_TITLE,
        letter_text=MARKUP_TEXT,
        parts=parts,
        person=None,
        config=RedactionConfig(),
        answered_at=datetime(2026, 10, 20, 2, tzinfo=UTC),
    )
    return draft.title, draft.text


@pytest.mark.unit
def test_markup_in_a_public_reply_is_published_escaped() -> None:
    title, text = _draft_of("已督促商家退款<img src=x onerror=alert(1)>。")
    assert title == "关于“&lt;b&gt;预付卡&lt;/b&gt;退款”的答复"
    assert "<" not in text and ">" not in text
    assert '&lt;script&gt;alert("x")&lt;/script&gt;' in text
    assert "余额&amp;#49;&amp;#51;&amp;#56;元" in text  # an entity stays the text typed
    assert "已督促商家退款&lt;img src=x onerror=alert(1)&gt;。" in text


@pytest.mark.unit
def test_an_escaped_title_keeps_within_its_length_and_whole_entities() -> None:
    title = reply_title("&" * 300, escaped=True)
    quoted = title.removeprefix("关于“").removesuffix("”的答复")
    assert len(quoted) <= 200
    assert quoted.endswith("&amp;…")
    assert quoted.removesuffix("…") == "&amp;" * (len(quoted) // 5)


async def test_the_preview_shows_the_escaped_upload(deployed: Deployment, seeded: Seeded) -> None:
    if "publishing" not in BUILT:
        pytest.skip("publishing is not built")
    reply = {
        "unit_name": "市场秩序处",
        "handler_name": "王建国",
        "investigation": "经查，健身房已停业。",
        "policy_basis": "《单用途商业预付卡管理办法（试行）》",
        "result": "已督促商家退款<script>alert(1)</script>",
    }
    response = await deployed.client("publishing").post(
        f"/letters/{seeded.letter}/preview",
        json={"reply": reply},
        headers=headers(Role.office_clerk),
    )
    assert response.status_code == 200, response.text
    upload = response.json()["upload"]
    assert "已督促商家退款&lt;script&gt;alert(1)&lt;/script&gt;" in upload["text"]
    assert "<script>" not in upload["text"]


async def test_the_preview_refuses_a_phone_in_numerals(deployed: Deployment) -> None:
    if "publishing" not in BUILT:
        pytest.skip("publishing is not built")
    response = await deployed.client("publishing").post(
        "/preview",
        json={"text": "我的电话是一三八一二三四五六七八，请尽快回复。"},
        headers=headers(Role.office_clerk),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["leak_scan_passed"] is False
    assert [leak["pattern"] for leak in body["text"]["leaks"]] == ["phone"]


def test_a_persons_own_landline_is_masked_even_after_an_office_word() -> None:
    # 办公室, 所 … end the names of public bodies, whose lines stay; a dwelling's line or the
    # writer's own office line is the writer's, whatever word stands before 电话.
    for text, number in (
        ("我家住所电话：0731-84567890，请回电。", "84567890"),
        ("本人寓所座机84567890。", "84567890"),
        ("我是来信人，我办公室电话：0731-84567890。", "84567890"),
    ):
        result = redact(text)
        assert number not in result.text, text
    kept = redact("详情请拨打市民服务中心电话：0731-84567890咨询。")
    assert "0731-84567890" in kept.text
