"""Letters taken by hand (Art. 31, platform `manual`) are answered by the office in person.

There is no platform to upload to, so nothing may claim the answer was delivered until the
office records telling the writer (Art. 10 事事有回音): the answer, a non-acceptance reason
(Art. 13 ②) and a transfer notice all wait in `awaiting_callback`, and the clerk or head
records the call-back, which publishes the letter as of the call. Real broker, database,
simulator and SMTP sink; the published events are read back from the exchange.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from services.publishing.letters.models import MANUAL_PLATFORM
from services.publishing.uploads.models import UploadState
from shared.events.vocabulary import Person, PublicationMode
from shared.ids import new_id
from tests.publishing.harness import (
    ADMIN,
    CLERK,
    HEAD,
    LEADER,
    NOW,
    UNIT,
    WRITER,
    Stack,
    approved,
    forwarded,
    not_accepted,
    received,
    stack,
)

Env = tuple[Stack, FastAPI, httpx.AsyncClient]

CALL = {
    "channel": "phone",
    "at": (NOW - timedelta(minutes=1)).isoformat(),
    "note": "电话告知来信人答复内容，来信人表示满意。",
    "reference": "来电登记 RX-2026-0142",
}


@pytest.fixture(scope="module")
async def env(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Env]:
    async with (
        stack(tmp_path_factory.mktemp("callbacks")) as s,
        s.service() as (app, client),
    ):
        yield s, app, client


async def _by_hand(env: Env, *, person: Person = WRITER) -> str:
    """A letter the clerk registered from a telephone call; publishing knows it."""
    s, _, client = env
    letter_id = new_id("ltr")
    await s.probe.publish(
        received(
            letter_id,
            external_id=f"RX-{new_id('x')[-10:]}",
            platform=MANUAL_PLATFORM,
            person=person,
            title="电话反映预付卡退款问题",
        )
    )
    await s.known(client, letter_id)
    return letter_id


async def _awaiting(env: Env, upload_id: str) -> dict[str, Any]:
    s, app, client = env
    view = await s.upload_state(client, upload_id, UploadState.awaiting_callback)
    # The uploader leaves it alone: nothing is sent, nothing announced.
    await app.state.uploader.run_once()
    assert (await client.get(f"/uploads/{upload_id}", headers=CLERK)).json()["state"] == (
        "awaiting_callback"
    )
    assert s.probe.of_type("letter.published", letter_id=view["letter_id"]) == []
    return view


async def _trail(app: FastAPI, letter_id: str) -> list[Any]:
    await app.state.runtime.relay.drain()
    return list(await app.state.runtime.audit.for_letter(letter_id))


async def test_an_answer_waits_for_its_call_back_and_the_call_back_publishes_it(env: Env) -> None:
    s, app, client = env
    letter_id = await _by_hand(env)
    await s.probe.publish(approved(letter_id, mode=PublicationMode.not_public))
    upload_id = f"{letter_id}:reply:1"
    view = await _awaiting(env, upload_id)
    assert view["visibility"] == "private"
    assert view["callback"] is None
    assert view["sent_at"] is None
    waiting = await client.get("/uploads", params={"state": "awaiting_callback"}, headers=CLERK)
    assert upload_id in [u["id"] for u in waiting.json()["items"]]

    response = await client.post(f"/uploads/{upload_id}/delivered", json=CALL, headers=CLERK)
    assert response.status_code == 200, response.text
    done = response.json()
    assert done["state"] == "sent"
    assert done["receipt"] is None
    assert done["callback"]["channel"] == "phone"
    assert done["callback"]["reference"] == CALL["reference"]
    assert done["callback"]["recorded_by"]["user_id"] == "u_clerk_li"
    called_at = datetime.fromisoformat(CALL["at"])
    assert datetime.fromisoformat(done["sent_at"]) == called_at

    [published] = await s.probe.wait_for("letter.published", letter_id=letter_id)
    assert published.data["platform"] == MANUAL_PLATFORM
    assert published.data["mode"] == "not_public"
    assert published.data["visibility"] == "private"
    # The upload clock closes when the writer was told, not when it was typed in.
    assert datetime.fromisoformat(published.data["published_at"]) == called_at

    trail = await _trail(app, letter_id)
    [entry] = [e for e in trail if e.action == "answer_delivered"]
    assert entry.actor.user_id == "u_clerk_li"
    assert entry.actor.role == "office_clerk"
    assert entry.after is not None and entry.after["channel"] == "phone"
    assert entry.note == CALL["note"]
    assert not [e for e in trail if e.action in ("answer_recorded", "uploaded")]

    # The same record again: the same answer, nothing recorded twice.
    again = await client.post(f"/uploads/{upload_id}/delivered", json=CALL, headers=CLERK)
    assert again.status_code == 200
    assert again.json()["callback"] == done["callback"]
    assert again.json()["version"] == done["version"]
    # A different one after delivery is a conflict, naming what was recorded.
    other = {**CALL, "channel": "visit", "note": "来信人来访，当面告知。"}
    conflict = await client.post(f"/uploads/{upload_id}/delivered", json=other, headers=HEAD)
    assert conflict.status_code == 409
    assert conflict.json()["details"]["callback"]["channel"] == "phone"
    trail = await _trail(app, letter_id)
    assert len([e for e in trail if e.action == "answer_delivered"]) == 1
    assert len(s.probe.of_type("letter.published", letter_id=letter_id)) == 1


@pytest.mark.parametrize(
    ("decision", "kind", "channel"),
    [(not_accepted, "not_accepted", "sms"), (forwarded, "transfer", "post")],
)
async def test_a_non_acceptance_reason_or_transfer_notice_reaches_the_writer_by_call_back(
    env: Env, decision: Any, kind: str, channel: str
) -> None:
    s, _, client = env
    letter_id = await _by_hand(env)
    await s.probe.publish(decision(letter_id))
    upload_id = f"{letter_id}:{kind}:slp_{letter_id[-10:]}"
    view = await _awaiting(env, upload_id)
    assert view["kind"] == kind
    body = {"channel": channel, "at": NOW.isoformat(), "note": "已告知来信人处理情况。"}
    response = await client.post(f"/uploads/{upload_id}/delivered", json=body, headers=HEAD)
    assert response.status_code == 200, response.text
    assert response.json()["callback"]["recorded_by"]["role"] == "office_head"
    [published] = await s.probe.wait_for("letter.published", letter_id=letter_id)
    assert published.data["kind"] == kind


async def test_online_for_a_letter_taken_by_hand_is_a_private_answer_given_by_call_back(
    env: Env,
) -> None:
    s, app, client = env
    letter_id = await _by_hand(env)
    await s.probe.publish(approved(letter_id, mode=PublicationMode.online))
    upload_id = f"{letter_id}:reply:1"
    view = await _awaiting(env, upload_id)
    # Not published anywhere: the writer's own answer, unredacted, and the upload says why.
    assert view["visibility"] == "private"
    assert view["mode"] == "online"
    assert view["redacted"] is False
    assert WRITER.name in view["text"]
    assert view["downgrade"]["requested"] == "online"
    assert "Art. 31" in view["downgrade"]["reasons"][0]
    assert "call-back" in view["downgrade"]["reasons"][0]
    response = await client.post(f"/uploads/{upload_id}/delivered", json=CALL, headers=CLERK)
    assert response.status_code == 200, response.text
    [published] = await s.probe.wait_for("letter.published", letter_id=letter_id)
    assert published.data["visibility"] == "private"
    assert published.data["mode"] == "online"
    trail = await _trail(app, letter_id)
    [entry] = [e for e in trail if e.action == "answer_delivered"]
    assert entry.after is not None and entry.after["mode"] == "online"
    assert "publication_made_private" in [e.action for e in trail]


async def test_an_email_answer_is_delivered_by_the_email_and_without_address_waits(
    env: Env,
) -> None:
    s, app, client = env
    letter_id = await _by_hand(env)
    await s.probe.publish(approved(letter_id, mode=PublicationMode.email))
    [published] = await s.probe.wait_for("letter.published", letter_id=letter_id)
    assert published.data["emailed"] is True
    assert s.smtp.to(str(WRITER.email))
    view = (await client.get(f"/uploads/{letter_id}:reply:1", headers=CLERK)).json()
    assert view["state"] == "sent"
    assert view["callback"] is None
    assert "answer_emailed" in [e.action for e in await _trail(app, letter_id)]

    no_address = await _by_hand(env, person=Person(name="王五", phone="13800000000"))
    await s.probe.publish(approved(no_address, mode=PublicationMode.email))
    view = await _awaiting(env, f"{no_address}:reply:1")
    assert view["email"]["state"] == "no_address"


async def test_a_pending_upload_stored_before_call_backs_existed_goes_to_wait(env: Env) -> None:
    _, app, _ = env
    letter_id = await _by_hand(env)
    upload_id = f"{letter_id}:reply:1"
    await app.state.publishing.uploads.create(
        {
            "_id": upload_id,
            "letter_id": letter_id,
            "platform": MANUAL_PLATFORM,
            "external_id": "RX-OLD",
            "kind": "reply",
            "edition": "1",
            "visibility": "private",
            "mode": "not_public",
            "title": "关于“电话反映预付卡退款问题”的答复",
            "text": "答复内容",
            "state": "pending",
            "attempts": 0,
            "retries": 0,
            "errors": [],
            "next_attempt_at": app.state.publishing.wall.now(),
            "claimed_by": None,
            "claim_until": None,
            "email": None,
            "archived": False,
        }
    )
    await app.state.uploader.run_once()
    await _awaiting(env, upload_id)
    trail = await _trail(app, letter_id)
    [entry] = [e for e in trail if e.action == "awaiting_callback"]
    assert entry.actor.role == "system"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"at": (NOW + timedelta(hours=1)).isoformat()}, "at"),
        ({"at": (NOW - timedelta(days=1)).isoformat()}, "at"),
        ({"at": "2026-10-12T10:00:00"}, "at"),
        ({"at": "0001-01-01T00:00:00+08:00"}, "at"),
        ({"channel": "carrier_pigeon"}, "channel"),
        ({"note": "  "}, "note"),
        ({"note": "x" * 2001}, "note"),
        ({"reference": ""}, "reference"),
        ({"extra": 1}, "extra"),
    ],
)
async def test_a_bad_call_back_is_422_naming_the_field(
    env: Env, change: dict[str, Any], field: str
) -> None:
    s, _, client = env
    letter_id = await _by_hand(env)
    await s.probe.publish(not_accepted(letter_id))
    upload_id = f"{letter_id}:not_accepted:slp_{letter_id[-10:]}"
    await s.upload_state(client, upload_id, UploadState.awaiting_callback)
    response = await client.post(
        f"/uploads/{upload_id}/delivered", json={**CALL, **change}, headers=CLERK
    )
    assert response.status_code == 422, response.text
    body = response.json()
    named = body["details"].get("field") or body["details"]["errors"][0]["field"]
    assert field in named
    still = (await client.get(f"/uploads/{upload_id}", headers=CLERK)).json()
    assert still["state"] == "awaiting_callback"


async def test_only_the_clerk_or_head_records_and_only_for_letters_taken_by_hand(
    env: Env,
) -> None:
    s, _, client = env
    letter_id = await _by_hand(env)
    await s.probe.publish(approved(letter_id, mode=PublicationMode.not_public))
    upload_id = f"{letter_id}:reply:1"
    await s.upload_state(client, upload_id, UploadState.awaiting_callback)
    for role in (LEADER, UNIT, ADMIN):
        response = await client.post(f"/uploads/{upload_id}/delivered", json=CALL, headers=role)
        assert response.status_code == 403
    missing = f"{new_id('ltr')}:reply:1"
    response = await client.post(f"/uploads/{missing}/delivered", json=CALL, headers=CLERK)
    assert response.status_code == 404

    # A platform letter's answer is delivered by its upload, never by a claimed call-back.
    platform_letter, _ = await s.letter(client)
    await s.probe.publish(approved(platform_letter, mode=PublicationMode.not_public))
    platform_upload = f"{platform_letter}:reply:1"
    await s.upload_state(client, platform_upload, UploadState.sent)
    response = await client.post(f"/uploads/{platform_upload}/delivered", json=CALL, headers=CLERK)
    assert response.status_code == 409
    assert response.json()["details"]["platform"] != MANUAL_PLATFORM
