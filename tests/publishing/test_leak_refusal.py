"""The leak scan is the last gate: a text in which personal data still shows is never published.

The service here runs with a redaction setting that defeats itself — names become
surname + "三" instead of surname + "某", so the writer 张三 stays 张三 — the kind of
misconfiguration the independent scan exists for.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from services.publishing.redaction.service import RedactionConfig
from shared.events.vocabulary import Person, PublicationMode
from tests.publishing.harness import CLERK, HEAD, Stack, approved, stack

Env = tuple[Stack, FastAPI, httpx.AsyncClient]
ZHANG = Person(name="张三", phone="13812345678")
LETTER_TEXT = "我叫张三，电话13812345678，反映小区门口商铺占道经营。"


@pytest.fixture(scope="module")
async def env(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Env]:
    config = RedactionConfig(name_suffix="三")
    async with (
        stack(Path(tmp_path_factory.mktemp("leak"))) as s,
        s.service(redaction=config) as (app, client),
    ):
        yield s, app, client


async def test_a_leaking_online_publication_is_refused_with_its_findings(env: Env) -> None:
    s, app, client = env
    letter_id, external_id = await s.letter(
        client, person=ZHANG, title="占道经营", text=LETTER_TEXT
    )
    await s.probe.publish(approved(letter_id, mode=PublicationMode.online))
    [parked] = await s.probe.wait_for("upload.parked", letter_id=letter_id)
    key = f"{letter_id}:reply:1"
    assert parked.data["upload_key"] == key
    assert parked.data["attempts"] == 0
    assert "person_name" in parked.data["error"]
    assert "张三" not in parked.data["error"]
    view = (await client.get(f"/uploads/{key}", headers=CLERK)).json()
    assert view["state"] == "refused"
    assert view["visibility"] == "public"
    leaked = {(f["field"], f["pattern"]) for f in view["findings"]}
    assert ("text", "person_name") in leaked
    assert ("upload.text", "person_name") in leaked
    for finding in view["findings"]:
        if finding["field"] == "text":
            assert finding["end"] - finding["start"] == 2
    refused = (await client.get("/uploads", params={"state": "refused"}, headers=CLERK)).json()
    assert [u["id"] for u in refused["items"]] == [key]
    # Nothing reached the platform, and nothing was announced as published.
    await app.state.uploader.run_once()
    assert await s.uploads(external_id) == []
    assert s.probe.of_type("letter.published", letter_id=letter_id) == []
    await app.state.runtime.relay.drain()
    trail = await app.state.runtime.audit.for_letter(letter_id)
    [entry] = [e for e in trail if e.action == "publication_refused"]
    assert entry.after is not None
    assert entry.after["findings"]
    assert "张三" not in (entry.note or "")


async def test_a_refused_publication_rechecked_with_the_same_redaction_stays_refused(
    env: Env,
) -> None:
    s, app, client = env
    letter_id, external_id = await s.letter(
        client, person=ZHANG, title="占道经营", text=LETTER_TEXT
    )
    await s.probe.publish(approved(letter_id, mode=PublicationMode.online))
    await s.probe.wait_for("upload.parked", letter_id=letter_id)
    key = f"{letter_id}:reply:1"
    response = await client.post(f"/uploads/{key}/retry", headers=HEAD)
    assert response.status_code == 200
    assert response.json()["state"] == "refused"
    assert response.json()["retries"] == 1
    await app.state.uploader.run_once()
    assert await s.uploads(external_id) == []
    await app.state.runtime.relay.drain()
    actions = [e.action for e in await app.state.runtime.audit.for_letter(letter_id)]
    assert "publication_rechecked" in actions


async def test_private_publication_of_the_same_letter_is_not_held_back(env: Env) -> None:
    s, _, client = env
    letter_id, external_id = await s.letter(
        client, person=ZHANG, title="占道经营", text=LETTER_TEXT
    )
    await s.probe.publish(approved(letter_id, mode=PublicationMode.not_public))
    await s.probe.wait_for("letter.published", letter_id=letter_id)
    [upload] = await s.uploads(external_id)
    assert upload["visibility"] == "private"


async def test_the_ad_hoc_preview_shows_the_leak(env: Env) -> None:
    _, _, client = env
    response = await client.post(
        "/preview",
        json={"text": LETTER_TEXT, "person": ZHANG.model_dump(exclude_none=True)},
        headers=CLERK,
    )
    assert response.status_code == 200
    body = response.json()
    assert body["leak_scan_passed"] is False
    assert [f["pattern"] for f in body["text"]["leaks"]] == ["person_name"]
    assert body["text"]["text"].startswith("我叫张三，电话138****5678")
