"""The office's preview of redaction before online publication, and who may see it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from shared.events.vocabulary import PublicationMode
from tests.publishing.harness import (
    ADMIN,
    CLERK,
    LEADER,
    PARTS,
    SECRETS,
    TEXT,
    UNIT,
    WRITER,
    Stack,
    approved,
    locked,
    stack,
)

Env = tuple[Stack, httpx.AsyncClient]


@pytest.fixture(scope="module")
async def env(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Env]:
    async with stack(Path(tmp_path_factory.mktemp("preview"))) as s, s.service() as (_, client):
        yield s, client


def _spans_cover(original: str, spans: list[dict[str, object]], secret: str) -> bool:
    start = original.index(secret)
    end = start + len(secret)
    return any(int(str(span["start"])) <= start and end <= int(str(span["end"])) for span in spans)


async def test_a_known_letter_is_previewed_redacted_with_its_spans(env: Env) -> None:
    s, client = env
    letter_id, _ = await s.letter(client)
    response = await client.get(f"/letters/{letter_id}/preview", headers=CLERK)
    assert response.status_code == 200
    body = response.json()
    assert body["reply_source"] == "none"
    assert body["leak_scan_passed"] is True
    assert body["online_allowed"] is True
    assert set(body["fields"]) == {"title", "text"}
    text = body["fields"]["text"]
    assert text["original"] == TEXT
    assert text["text"] == (
        "我叫刘某，身份证500103********1234，住渝中区邹容路×××，"
        "电话139 **** 1234。某健身房店长陈某拒不退款2000元。"
    )
    for secret in ("刘德明", "500103198805121234", "139 8345 1234", "陈立军"):
        assert _spans_cover(TEXT, text["spans"], secret), secret
    name = next(sp for sp in text["spans"] if TEXT[sp["start"] : sp["end"]] == "刘德明")
    assert name == {"start": 2, "end": 5, "kind": "name", "replacement": "刘某"}
    assert body["fields"]["title"]["text"] == "刘某反映预付卡退款问题"
    for secret in SECRETS:
        assert secret not in body["upload"]["text"]


async def test_the_latest_approved_reply_is_in_the_preview(env: Env) -> None:
    s, client = env
    letter_id, _ = await s.letter(client)
    await s.probe.publish(approved(letter_id, mode=PublicationMode.not_public))
    await s.probe.wait_for("letter.published", letter_id=letter_id)
    body = (await client.get(f"/letters/{letter_id}/preview", headers=LEADER)).json()
    assert body["reply_source"] == "approved_reply"
    assert set(body["fields"]) == {"title", "text", *PARTS}
    assert body["fields"]["handler_name"]["text"] == "王某"
    assert body["fields"]["investigation"]["text"] == (
        "经办人员联系了刘某先生（139****1234），并约谈健身房店长陈某。"
    )
    assert body["fields"]["policy_basis"]["spans"] == []
    assert "答复日期：2026年10月12日" in body["upload"]["text"]


async def test_a_draft_reply_in_the_request_is_previewed(env: Env) -> None:
    s, client = env
    letter_id, _ = await s.letter(client)
    draft = {**PARTS, "result": "已联系刘德明本人，电话13983451234，问题已解决。"}
    response = await client.post(
        f"/letters/{letter_id}/preview", json={"reply": draft}, headers=CLERK
    )
    assert response.status_code == 200
    body = response.json()
    assert body["reply_source"] == "request"
    assert body["fields"]["result"]["text"] == "已联系刘某本人，电话139****1234，问题已解决。"
    assert body["leak_scan_passed"] is True


async def test_a_locked_letter_is_previewed_but_not_allowed_online(env: Env) -> None:
    s, client = env
    letter_id, _ = await s.letter(client)
    await s.probe.publish(locked(letter_id))
    body: dict[str, object] = {}
    for _ in range(500):
        body = (await client.get(f"/letters/{letter_id}/preview", headers=CLERK)).json()
        if body["online_allowed"] is False:
            break
        await asyncio.sleep(0.02)
    assert body["online_allowed"] is False
    assert body["online_blocks"] == ["locked (Art. 23): referred to state_security"]


async def test_an_ad_hoc_text_is_redacted_with_the_given_person(env: Env) -> None:
    _, client = env
    response = await client.post(
        "/preview",
        json={
            "title": "刘德明的投诉",
            "text": "联系人：刘德明，手机 139-8345-1234，邮箱 liudm@example.com。",
            "person": WRITER.model_dump(exclude_none=True),
        },
        headers=CLERK,
    )
    assert response.status_code == 200
    body = response.json()
    assert body["leak_scan_passed"] is True
    assert body["title"]["text"] == "刘某的投诉"
    redacted = body["text"]["text"]
    for secret in ("刘德明", "139-8345-1234", "liudm@example.com"):
        assert secret not in redacted
    assert {span["kind"] for span in body["text"]["spans"]} >= {"name", "phone", "email"}


@pytest.mark.parametrize(
    ("headers", "status"), [(UNIT, 403), (ADMIN, 403), ({}, 401)], ids=["unit", "admin", "anon"]
)
async def test_only_the_office_sees_previews(
    env: Env, headers: dict[str, str], status: int
) -> None:
    s, client = env
    letter_id, _ = await s.letter(client)
    assert (await client.get(f"/letters/{letter_id}/preview", headers=headers)).status_code == (
        status
    )
    response = await client.post("/preview", json={"text": "我叫刘德明"}, headers=headers)
    assert response.status_code == status
    assert response.json()["error"] in {"forbidden", "unauthorized"}


async def test_unknown_letters_and_bad_input_are_refused_clearly(env: Env) -> None:
    s, client = env
    letter_id, _ = await s.letter(client)
    missing = await client.get("/letters/ltr_01JDX5Q9Z6M0B6W1B7Q1T3V9KC/preview", headers=CLERK)
    assert missing.status_code == 404
    assert missing.json()["error"] == "not_found"
    bad_id = await client.get("/letters/bad id!/preview", headers=CLERK)
    assert bad_id.status_code == 422
    empty = await client.post("/preview", json={"text": ""}, headers=CLERK)
    assert empty.status_code == 422
    assert empty.json()["details"]["errors"][0]["field"] == "text"
    extra = await client.post("/preview", json={"text": "x", "person": {"age": 3}}, headers=CLERK)
    assert extra.status_code == 422
    too_long = await client.post(
        f"/letters/{letter_id}/preview",
        json={"reply": {**PARTS, "handler_name": "x" * 101}},
        headers=CLERK,
    )
    assert too_long.status_code == 422
    assert too_long.json()["details"]["errors"][0]["field"] == "reply.handler_name"
