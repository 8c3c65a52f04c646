"""The uploads API: paging, filters, a letter's uploads, and clear refusals."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from shared.events.vocabulary import PublicationMode
from tests.publishing.harness import CLERK, LEADER, UNIT, Stack, approved, not_accepted, stack

Env = tuple[Stack, httpx.AsyncClient]


@pytest.fixture(scope="module")
async def env(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Env]:
    async with stack(Path(tmp_path_factory.mktemp("api"))) as s, s.service() as (_, client):
        yield s, client


async def _publish_letters(env: Env, count: int) -> list[str]:
    s, client = env
    letters = []
    for _ in range(count):
        letter_id, _ = await s.letter(client)
        await s.probe.publish(approved(letter_id, mode=PublicationMode.not_public))
        letters.append(letter_id)
    for letter_id in letters:
        await s.probe.wait_for("letter.published", letter_id=letter_id)
    return letters


async def test_uploads_are_paged_newest_first_without_gaps_or_repeats(env: Env) -> None:
    _, client = env
    letters = await _publish_letters(env, 5)
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, str | int] = {"state": "sent", "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get("/uploads", params=params, headers=LEADER)).json()
        assert len(page["items"]) <= 2
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen))
    mine = [f"{letter_id}:reply:1" for letter_id in letters]
    assert [u for u in seen if u in mine] == list(reversed(mine))


async def test_a_letter_lists_its_uploads_and_its_state(env: Env) -> None:
    s, client = env
    letter_id, _ = await s.letter(client)
    await s.probe.publish(not_accepted(letter_id))
    await s.probe.wait_for("letter.published", letter_id=letter_id)
    by_letter = (
        await client.get("/uploads", params={"letter_id": letter_id}, headers=CLERK)
    ).json()
    assert [u["kind"] for u in by_letter["items"]] == ["not_accepted"]
    letter = (await client.get(f"/letters/{letter_id}", headers=CLERK)).json()
    assert letter["locked"] is False
    assert letter["notices"] == 1
    assert [u["state"] for u in letter["uploads"]] == ["sent"]
    assert letter["archive"] is None


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"state": "lost"}, "state"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"limit": 0}, "limit"),
        ({"letter_id": "a b"}, "letter_id"),
    ],
)
async def test_bad_filters_answer_422_naming_the_field(
    env: Env, params: dict[str, str | int], field: str
) -> None:
    _, client = env
    response = await client.get("/uploads", params=params, headers=CLERK)
    assert response.status_code == 422
    body = response.json()
    named = body["details"].get("field") or body["details"]["errors"][0]["field"]
    assert named == field


async def test_unknown_items_are_404_and_units_see_nothing(env: Env) -> None:
    _, client = env
    missing = "ltr_01JDX5Q9Z6M0B6W1B7Q1T3V9KC:reply:1"
    assert (await client.get(f"/uploads/{missing}", headers=CLERK)).status_code == 404
    assert (await client.post(f"/uploads/{missing}/retry", headers=CLERK)).status_code == 404
    assert (await client.get("/letters/ltr_unknown", headers=CLERK)).status_code == 404
    assert (await client.get("/uploads", headers=UNIT)).status_code == 403
    assert (await client.get(f"/uploads/{missing}", headers=UNIT)).status_code == 403
