"""Art. 22 and 23, checked by publishing itself: a locked or not-public letter never goes online.

An approval with `online` for such a letter is uploaded privately instead, recorded
with the reason, and audited — whether publishing learnt of the lock before the
approval, from the approval itself, or only while the upload was still waiting.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from services.publishing.uploads.uploader import Uploader
from shared.audit import AuditLog
from shared.events import Event
from shared.events.vocabulary import PublicationMode, Sensitivity
from tests.publishing.harness import (
    CLERK,
    Stack,
    approved,
    locked,
    marked,
    stack,
)

Env = tuple[Stack, FastAPI, httpx.AsyncClient]


@pytest.fixture(scope="module")
async def env(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Env]:
    async with stack(Path(tmp_path_factory.mktemp("lock"))) as s, s.service() as (app, client):
        yield s, app, client


async def _state(client: httpx.AsyncClient, letter_id: str) -> dict[str, object]:
    response = await client.get(f"/letters/{letter_id}", headers=CLERK)
    assert response.status_code == 200
    body: dict[str, object] = response.json()
    return body


async def _made_private(env: Env, letter_id: str, external_id: str) -> dict[str, Any]:
    s, app, client = env
    [published] = await s.probe.wait_for("letter.published", letter_id=letter_id)
    assert published.data["visibility"] == "private"
    assert published.data["mode"] == "online"
    [upload] = await s.uploads(external_id)
    assert upload["visibility"] == "private"
    view = (await client.get(f"/uploads/{letter_id}:reply:1", headers=CLERK)).json()
    assert view["visibility"] == "private"
    assert view["redacted"] is False
    assert view["downgrade"]["requested"] == "online"
    audit: AuditLog = app.state.runtime.audit
    await app.state.runtime.relay.drain()
    trail = await audit.for_letter(letter_id)
    private = [e for e in trail if e.action == "publication_made_private"]
    assert len(private) == 1
    assert private[0].before == {"mode": "online", "visibility": "public"}
    assert private[0].after == {"visibility": "private"}
    assert private[0].note
    result: dict[str, Any] = view
    return result


async def _after_state(env: Env, letter_id: str, event: Event, key: str) -> None:
    s, _, client = env
    await s.probe.publish(event)
    await eventually_state(client, letter_id, key)


async def eventually_state(client: httpx.AsyncClient, letter_id: str, key: str) -> None:
    """Wait until publishing has recorded the lock (`locked`) or mark (`not_public`)."""
    seen: dict[str, object] = {}
    for _ in range(500):
        seen = await _state(client, letter_id)
        if seen[key] is True:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{key} never recorded: {seen}")


async def test_a_locked_letter_approved_online_is_uploaded_privately(env: Env) -> None:
    s, _, client = env
    letter_id, external_id = await s.letter(client)
    await _after_state(env, letter_id, locked(letter_id), "locked")
    await s.probe.publish(approved(letter_id, mode=PublicationMode.online))
    view = await _made_private(env, letter_id, external_id)
    assert view["downgrade"]["reasons"] == ["locked (Art. 23): referred to state_security"]


async def test_a_letter_marked_sensitive_approved_online_is_uploaded_privately(env: Env) -> None:
    s, _, client = env
    letter_id, external_id = await s.letter(client)
    await _after_state(env, letter_id, marked(letter_id), "not_public")
    await s.probe.publish(approved(letter_id, mode=PublicationMode.online))
    view = await _made_private(env, letter_id, external_id)
    assert view["downgrade"]["reasons"] == ["marked not public (Art. 22): sensitive"]


@pytest.mark.parametrize(
    ("flags", "reason"),
    [
        ({"locked": True}, "locked (Art. 23) according to the approved reply"),
        (
            {"sensitivities": [Sensitivity.national_security]},
            "sensitive (Art. 22) according to the approved reply: national_security",
        ),
    ],
)
async def test_an_approval_that_itself_says_locked_or_sensitive_stays_private(
    env: Env, flags: dict[str, Any], reason: str
) -> None:
    s, _, client = env
    letter_id, external_id = await s.letter(client)
    await s.probe.publish(approved(letter_id, mode=PublicationMode.online, **flags))
    view = await _made_private(env, letter_id, external_id)
    assert view["downgrade"]["reasons"] == [reason]


async def test_a_lock_that_arrives_while_the_upload_waits_still_keeps_it_offline(
    env: Env,
) -> None:
    s, app, client = env
    uploader: Uploader = app.state.uploader
    await uploader.stop()
    try:
        letter_id, external_id = await s.letter(client)
        await s.probe.publish(approved(letter_id, mode=PublicationMode.online))
        planned: dict[str, Any] = {}

        async def planned_public() -> bool:
            nonlocal planned
            response = await client.get(f"/uploads/{letter_id}:reply:1", headers=CLERK)
            planned = response.json() if response.status_code == 200 else {}
            return planned.get("visibility") == "public"

        for _ in range(500):
            if await planned_public():
                break
            await asyncio.sleep(0.02)
        assert planned["state"] == "pending"
        await _after_state(env, letter_id, locked(letter_id), "locked")
    finally:
        uploader.start()
    view = await _made_private(env, letter_id, external_id)
    assert view["downgrade"]["reasons"] == ["locked (Art. 23): referred to state_security"]
    [upload] = await s.uploads(external_id)
    # The private reply, not the redacted public page that was planned.
    assert "来信内容" not in upload["text"]
    assert "王建国" in upload["text"]
    trail = await app.state.runtime.audit.for_letter(letter_id)
    [private] = [e for e in trail if e.action == "publication_made_private"]
    assert private.note is not None
    assert private.note.endswith("(found before the upload was sent)")


async def test_a_lock_after_an_online_publication_flags_it_for_taking_down(env: Env) -> None:
    s, app, client = env
    letter_id, _ = await s.letter(client)
    key = f"{letter_id}:reply:1"
    await s.probe.publish(approved(letter_id, mode=PublicationMode.online))
    await s.probe.wait_for("letter.published", letter_id=letter_id)
    assert (await client.get(f"/uploads/{key}", headers=CLERK)).json()["takedown_required"] is False
    await _after_state(env, letter_id, locked(letter_id), "locked")
    view: dict[str, Any] = {}
    for _ in range(500):
        view = (await client.get(f"/uploads/{key}", headers=CLERK)).json()
        if view["takedown_required"]:
            break
        await asyncio.sleep(0.02)
    assert view["takedown_required"] is True
    assert view["visibility"] == "public"
    await app.state.runtime.relay.drain()
    trail = await app.state.runtime.audit.for_letter(letter_id)
    [flag] = [e for e in trail if e.action == "takedown_required"]
    assert flag.target_id == key
    assert flag.note is not None
    assert "remove it on the platform" in flag.note
