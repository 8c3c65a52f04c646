"""Word search over letters: Chinese segmented like the letters, filters, paging, unit scope."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from shared.auth import Role
from shared.events import Event, make_event
from shared.events.catalog import LetterReceived
from shared.events.vocabulary import LetterSource, Person
from shared.ids import new_id
from tests.routing.admin_harness import admin_stack, as_unit
from tests.routing.harness import LEAD, NOW, OTHER, Desk, Stack
from tests.support import auth

OTHER_PLATFORM = "cq-12345-hotline"


def letter(text: str, *, hours_ago: float, writer: str, platform: str = "cq-gov-mailbox") -> Event:
    at = NOW - timedelta(hours=hours_ago)
    data = LetterReceived(
        platform=platform,
        external_id=new_id("ext"),
        source=LetterSource.platform,
        title="来信",
        text=text,
        person=Person(name=writer, phone=f"1390000{hours_ago:04.0f}"),
        submitted_at=at - timedelta(minutes=5),
        received_at=at,
        raw_sha256="0" * 64,
    )
    return make_event(data, producer="intake", occurred_at=at, letter_id=new_id("ltr"))


@dataclass
class Letters:
    stack: Stack
    noise_assigned: str
    noise_suggestion: str
    noise_old_hotline: str
    quality: str
    unrelated: str


@pytest.fixture(scope="module")
async def letters() -> AsyncIterator[Letters]:
    async with admin_stack() as stack:
        desk = Desk(stack)
        events = [
            letter(
                "楼下烧烤店每天营业到凌晨两点，油烟和噪音扰民，投诉多次没有结果。",
                hours_ago=1,
                writer="甲",
            ),
            letter(
                "建议对夜间施工噪音扰民问题加强巡查，居民休息受到很大影响。",
                hours_ago=2,
                writer="乙",
            ),
            letter(
                "小区旁边的KTV晚上噪音扰民，请问应该向哪个部门反映？",
                hours_ago=72,
                writer="丙",
                platform=OTHER_PLATFORM,
            ),
            letter(
                "在网上买的电饭煲存在严重的产品质量问题，商家拒绝退换货。", hours_ago=4, writer="丁"
            ),
            letter("我想咨询一下外贸企业出口信用保险保费补助怎么申请。", hours_ago=5, writer="戊"),
        ]
        ids = [await desk.register(event) for event in events]
        await desk.accept_direct(ids[0], assisting=[])
        yield Letters(stack, *ids)


async def search(letters: Letters, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    response = await letters.stack.client.get("/search/letters", params=params, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def ids(page: dict[str, Any]) -> list[str]:
    return [hit["id"] for hit in page["items"]]


async def test_chinese_words_find_the_letters_that_hold_them_newest_first(
    letters: Letters,
) -> None:
    office = auth(Role.office_clerk)
    noise = await search(letters, office, q="噪音扰民")
    assert ids(noise) == [
        letters.noise_assigned,
        letters.noise_suggestion,
        letters.noise_old_hotline,
    ]
    assert noise["terms"] == ["噪音", "扰民"]
    assert all("噪音扰民" in hit["snippet"] for hit in noise["items"])
    quality = await search(letters, office, q="质量问题")
    assert ids(quality) == [letters.quality]
    assert "质量问题" in quality["items"][0]["snippet"]
    spaced = await search(letters, auth(Role.office_head), q="扰民 噪音")
    assert ids(spaced) == ids(noise)
    assert ids(await search(letters, office, q="噪音扰民 烧烤")) == [letters.noise_assigned]
    assert ids(await search(letters, office, q="榴莲")) == []


async def test_filters_narrow_the_hits(letters: Letters) -> None:
    office = auth(Role.office_head)
    q = "噪音扰民"
    assert ids(await search(letters, office, q=q, state="assigned")) == [letters.noise_assigned]
    assert ids(await search(letters, office, q=q, unit=LEAD)) == [letters.noise_assigned]
    assert ids(await search(letters, office, q=q, platform=OTHER_PLATFORM)) == [
        letters.noise_old_hotline
    ]
    natures = {}
    for letter_id in (letters.noise_assigned, letters.noise_suggestion, letters.noise_old_hotline):
        natures[letter_id] = (await Desk(letters.stack).letter(letter_id))["nature"]
    for nature in set(natures.values()):
        expected = [i for i in natures if natures[i] == nature]
        assert ids(await search(letters, office, q=q, nature=nature)) == expected
    day_ago = (NOW - timedelta(days=1)).isoformat()
    recent = await search(letters, office, q=q, received_from=day_ago)
    assert ids(recent) == [letters.noise_assigned, letters.noise_suggestion]
    older = await search(letters, office, q=q, received_to=day_ago)
    assert ids(older) == [letters.noise_old_hotline]
    hit = (await search(letters, office, q=q, state="assigned"))["items"][0]
    assert (hit["unit_id"], hit["state"], hit["nature"]) == (LEAD, "assigned", "complaint")
    assert hit["unit_name"]


async def test_a_unit_finds_only_its_own_letters(letters: Letters) -> None:
    lead = as_unit(Role.unit_handler, LEAD)
    assert ids(await search(letters, lead, q="噪音扰民")) == [letters.noise_assigned]
    assert ids(await search(letters, lead, q="噪音扰民", unit=OTHER)) == []
    other = as_unit(Role.unit_head, OTHER)
    assert ids(await search(letters, other, q="噪音扰民")) == []


async def test_hits_are_paged_without_gaps(letters: Letters) -> None:
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"q": "噪音扰民", "limit": 1}
        if cursor:
            params["cursor"] = cursor
        page = await search(letters, auth(Role.office_leader), **params)
        seen += ids(page)
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [letters.noise_assigned, letters.noise_suggestion, letters.noise_old_hotline]


async def test_a_query_without_words_is_refused(letters: Letters) -> None:
    client = letters.stack.client
    for q in ("的了吗", "！？，。"):
        response = await client.get(
            "/search/letters", params={"q": q}, headers=auth(Role.office_clerk)
        )
        assert response.status_code == 422, q
        assert response.json()["details"]["errors"][0]["field"] == "q"
    missing = await client.get("/search/letters", headers=auth(Role.office_clerk))
    assert missing.status_code == 422
    anonymous = await client.get("/search/letters", params={"q": "噪音"})
    assert anonymous.status_code == 401
