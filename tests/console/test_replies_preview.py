"""The publication mode's side-by-side preview: the original beside the public text, every
mask a <mark> with its kind (publishing redacts), and the office's 同意公开 after it."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest

from shared.auth import Role
from tests.console.letter_harness import RepliesStack, form_of, page_form, post, replies_stack
from tests.routing.harness import COMPLAINT, LEAD, received

TEXT = "我叫王小明，电话13800001234。" + COMPLAINT
_ROW = (
    r'<th scope="row">{}</th>\s*<td class="original">(?P<original>.*?)</td>\s*'
    r'<td class="masked">(?P<masked>.*?)</td>'
)


@pytest.fixture(scope="module")
async def rs() -> AsyncIterator[RepliesStack]:
    async with replies_stack() as running_stack:
        yield running_stack


def _row(html: str, title: str) -> tuple[str, str]:
    found = re.search(_ROW.format(title), html, re.S)
    assert found is not None, html
    return found.group("original"), found.group("masked")


async def test_the_office_previews_every_mask_side_by_side_then_agrees_to_publish(
    rs: RepliesStack,
) -> None:
    await rs.person("handler.xu", role="unit_handler", password=None, unit_id=LEAD)
    leader = await rs.signed_in("officeleader.xu", role="office_leader")
    letter_id = await rs.at_office("handler.xu", event=received(text=TEXT))
    await rs.desk.call(letter_id, "/reply/review/approve", Role.office_clerk)
    await rs.desk.call(letter_id, "/reply/review/approve", Role.office_head)

    page, _ = await page_form(leader, letter_id)
    assert "预览公开文本" in page
    assert f'hx-get="/letters/{letter_id}/reply/preview"' in page
    fragment = await leader.get(
        f"/letters/{letter_id}/reply/preview", headers={"HX-Request": "true"}
    )
    assert fragment.status_code == 200, fragment.text
    assert "<html" not in fragment.text and 'id="reply-preview"' in fragment.text
    original, masked = _row(fragment.text, "来信内容")
    assert '<mark class="mask" data-kind="phone" title="手机号码">13800001234</mark>' in original
    assert '<mark class="mask" data-kind="name" title="姓名">王小明</mark>' in original
    assert "13800001234" not in masked and "王小明" not in masked
    phone = re.search(r'<mark class="mask" data-kind="phone"[^>]*>([^<]+)<small', masked)
    assert phone is not None and "*" in phone.group(1)
    name = re.search(r'<mark class="mask" data-kind="name"[^>]*>([^<]+)<small', masked)
    assert name is not None and name.group(1).startswith("王") and "某" in name.group(1)
    assert '<small class="kind">手机号码</small>' in masked
    # The text around the masks is the same on both sides.
    assert COMPLAINT[:20] in original and COMPLAINT[:20] in masked
    reply_original, reply_masked = _row(fragment.text, "处理结果")
    assert reply_original and reply_masked

    # Without htmx, a page of its own; 同意公开 approves with the mode online.
    whole = await leader.get(f"/letters/{letter_id}/reply/preview")
    assert whole.status_code == 200 and "<html" in whole.text
    publish = form_of(whole.text, "publish")
    assert "同意公开" in publish and 'name="publication_mode" value="online"' in publish
    version = re.search(r'name="version" value="(\d+)"', publish)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', publish)
    assert version is not None and csrf is not None
    hidden = {"csrf_token": csrf.group(1), "version": version.group(1)}
    fields = {"form": "publish", "publication_mode": "online"}
    agreed = await post(leader, letter_id, "/reply/review/approve", fields, hidden=hidden)
    assert agreed.status_code == 303, agreed.text
    letter = await rs.desk.letter(letter_id)
    assert (letter["state"], letter["reply"]["mode"]) == ("approved", "online")


async def test_the_preview_is_the_offices_alone(rs: RepliesStack) -> None:
    await rs.person("handler.ma", role="unit_handler", password=None, unit_id=LEAD)
    head = await rs.signed_in("head.ma", role="unit_head", unit_id=LEAD)
    letter_id = await rs.at_office("handler.ma")
    page = await head.get(f"/letters/{letter_id}")
    assert page.status_code == 200 and "预览公开文本" not in page.text
    fragment = await head.get(f"/letters/{letter_id}/reply/preview", headers={"HX-Request": "true"})
    assert fragment.status_code == 403, fragment.text
    assert 'role="alert"' in fragment.text and "无权" in fragment.text
    assert "13800001234" not in fragment.text
    whole = await head.get(f"/letters/{letter_id}/reply/preview")
    assert whole.status_code == 403 and "无权" in whole.text
