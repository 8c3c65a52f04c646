"""Uploads under platform faults: retried with back-off, idempotent, parked, retried by the office.

Every test counts at the simulator: exactly one stored upload per idempotency key, no
conflicting body ever sent under a key, and `letter.published` exactly once per letter —
with 5xx and timeouts injected, events delivered twice, the service restarted in the
middle of an upload, and two instances working side by side.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from shared.events.vocabulary import PublicationMode
from shared.ids import new_id
from shared.mongo import make_client
from tests.publishing.harness import (
    CLERK,
    HEAD,
    PLATFORM,
    UNIT,
    Stack,
    approved,
    not_accepted,
    received,
    stack,
)
from tests.support import MONGO_URL

FAST_PLATFORM = {"timeout_s": 0.5, "max_attempts": 1, "backoff_base_s": 0.01}


@pytest.fixture(scope="module")
async def s(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    async with stack(Path(tmp_path_factory.mktemp("faults"))) as the_stack:
        yield the_stack


@pytest.fixture(autouse=True)
async def no_faults(s: Stack) -> AsyncIterator[None]:
    yield
    await s.faults()


async def _simulator_counts(s: Stack) -> dict[str, Any]:
    response = await s.sim.admin.get("/_admin/uploads", params={"platform_id": PLATFORM})
    body: dict[str, Any] = response.json()
    return body


def _published_once(s: Stack, letter_id: str, *, count: int = 1) -> None:
    """One `letter.published` per publication; the outbox relays of two instances may both
    deliver it (at least once), but it is the same event, which consumers apply once."""
    events = s.probe.of_type("letter.published", letter_id=letter_id)
    assert len({e.id for e in events}) == count, events


def _one_per_key(uploads: list[dict[str, Any]]) -> None:
    keys = Counter(u["idempotency_key"] for u in uploads)
    assert all(n == 1 for n in keys.values()), keys


async def test_5xx_and_timeouts_end_in_exactly_one_upload_per_letter(s: Stack) -> None:
    await s.faults(error_rate=0.5, timeout_rate=0.25, stall_s=30, seed=7)
    async with s.service(platform=FAST_PLATFORM) as (_, client):
        letters = [await s.letter(client) for _ in range(8)]
        for n, (letter_id, _) in enumerate(letters):
            mode = PublicationMode.online if n % 2 else PublicationMode.not_public
            await s.probe.publish(approved(letter_id, mode=mode))
        for letter_id, _ in letters:
            await s.probe.wait_for("letter.published", letter_id=letter_id, timeout_s=60)
        views = [
            (await client.get(f"/uploads/{letter_id}:reply:1", headers=CLERK)).json()
            for letter_id, _ in letters
        ]
    externals = {external for _, external in letters}
    arrived = [u for u in await s.uploads() if u["external_id"] in externals]
    assert len(arrived) == len(letters)
    _one_per_key(arrived)
    counts = await _simulator_counts(s)
    assert counts["conflicts"] == 0
    stats = (await s.sim.admin.get("/_admin/stats")).json()[PLATFORM]
    assert stats["errors_injected"] > 0
    assert stats["timeouts_injected"] > 0
    # A timed-out upload had been stored: its retry was answered as the same upload.
    assert counts["duplicate_attempts"] > 0
    assert any(v["receipt"]["duplicate"] for v in views)
    assert sum(v["attempts"] for v in views) > len(letters)
    for letter_id, _ in letters:
        _published_once(s, letter_id)


async def test_the_same_event_twice_and_a_second_approval_make_one_upload(s: Stack) -> None:
    async with s.service() as (_, client):
        letter_id, external_id = await s.letter(client)
        event = approved(letter_id, mode=PublicationMode.online)
        await s.probe.publish(event)
        await s.probe.publish(event)
        # The same revision approved again (another event id): still one publication.
        await s.probe.publish(approved(letter_id, mode=PublicationMode.online))
        notice = not_accepted(letter_id)
        await s.probe.publish(notice)
        await s.probe.publish(notice)
        await s.probe.wait_for("letter.published", letter_id=letter_id, count=2)
        await asyncio.sleep(0.5)
    arrived = await s.uploads(external_id)
    assert sorted(u["kind"] for u in arrived) == ["not_accepted", "reply"]
    _one_per_key(arrived)
    _published_once(s, letter_id, count=2)


async def test_a_restart_in_the_middle_of_an_upload_sends_it_once(s: Stack) -> None:
    # The platform stores the upload, then holds the answer: the service stops meanwhile.
    await s.faults(timeout_rate=1.0, stall_s=60)
    async with s.service(platform={"timeout_s": 30.0}) as (_, client):
        letter_id, external_id = await s.letter(client)
        key = f"{letter_id}:reply:1"
        await s.probe.publish(approved(letter_id, mode=PublicationMode.online))
        for _ in range(500):
            if await s.uploads(external_id):
                break
            await asyncio.sleep(0.02)
        view = (await client.get(f"/uploads/{key}", headers=CLERK)).json()
        assert view["state"] == "pending"
    assert s.probe.of_type("letter.published", letter_id=letter_id) == []
    await s.faults()
    async with s.service() as (_, client):
        view = await s.upload_state(client, key, "sent")
        await s.probe.wait_for("letter.published", letter_id=letter_id)
    assert view["receipt"]["duplicate"] is True
    arrived = await s.uploads(external_id)
    assert len(arrived) == 1
    assert arrived[0]["duplicate_attempts"] == 1
    _published_once(s, letter_id)


async def test_two_instances_side_by_side_upload_each_key_once(s: Stack) -> None:
    await s.faults(error_rate=0.3, seed=11)
    async with (
        s.service(platform=FAST_PLATFORM) as (_, client),
        s.service(platform=FAST_PLATFORM) as _,
    ):
        letters = [await s.letter(client) for _ in range(10)]
        for letter_id, _ in letters:
            await s.probe.publish(approved(letter_id, mode=PublicationMode.not_public))
        for letter_id, _ in letters:
            await s.probe.wait_for("letter.published", letter_id=letter_id, timeout_s=60)
        await asyncio.sleep(0.3)
    externals = {external for _, external in letters}
    arrived = [u for u in await s.uploads() if u["external_id"] in externals]
    assert len(arrived) == len(letters)
    _one_per_key(arrived)
    for letter_id, _ in letters:
        _published_once(s, letter_id)


async def test_an_upload_that_keeps_failing_is_parked_and_retried_by_the_office(
    s: Stack,
) -> None:
    await s.faults(error_rate=1.0)
    async with s.service(upload_max_attempts=3) as (_, client):
        letter_id, external_id = await s.letter(client)
        key = f"{letter_id}:reply:1"
        await s.probe.publish(approved(letter_id, mode=PublicationMode.not_public))
        [parked] = await s.probe.wait_for("upload.parked", letter_id=letter_id)
        assert parked.data["upload_key"] == key
        assert parked.data["attempts"] == 3
        assert "503" in parked.data["error"]
        view = (await client.get(f"/uploads/{key}", headers=CLERK)).json()
        assert view["state"] == "parked"
        assert view["attempts"] == 3
        assert len(view["errors"]) == 3
        listed = (await client.get("/uploads", params={"state": "parked"}, headers=CLERK)).json()
        assert key in [u["id"] for u in listed["items"]]
        assert await s.uploads(external_id) == []
        assert s.probe.of_type("letter.published", letter_id=letter_id) == []
        # A unit may not retry; the office may, once the platform is back.
        assert (await client.post(f"/uploads/{key}/retry", headers=UNIT)).status_code == 403
        await s.faults()
        retried = await client.post(f"/uploads/{key}/retry", headers=HEAD)
        assert retried.status_code == 200
        assert retried.json()["attempts"] == 0
        assert retried.json()["retries"] == 1
        view = await s.upload_state(client, key, "sent")
        assert view["attempts"] == 1
        await s.probe.wait_for("letter.published", letter_id=letter_id)
        again = await client.post(f"/uploads/{key}/retry", headers=CLERK)
        assert again.status_code == 409
        assert again.json()["details"]["state"] == "sent"
    assert len(await s.uploads(external_id)) == 1
    _published_once(s, letter_id)


async def test_a_platform_refusal_parks_at_once_and_a_retry_delivers_after_the_fix(
    s: Stack,
) -> None:
    async with s.service() as (_, client):
        # The platform does not know this letter (404): repeating cannot help, so park.
        letter_id, external_id = new_id("ltr"), f"T-MISSING-{new_id('x')[-6:]}"
        await s.probe.publish(received(letter_id, external_id=external_id))
        await s.known(client, letter_id)
        key = f"{letter_id}:reply:1"
        await s.probe.publish(approved(letter_id, mode=PublicationMode.not_public))
        [parked] = await s.probe.wait_for("upload.parked", letter_id=letter_id)
        assert parked.data["attempts"] == 1
        assert "unknown" in parked.data["error"].lower() or "404" in parked.data["error"]
        await s.sim.admin.post(
            "/_admin/letters",
            json={
                "platform_id": PLATFORM,
                "letters": [
                    {
                        "external_id": external_id,
                        "title": "t",
                        "text": "x",
                        "submitted_at": "2026-10-12T02:00:00+00:00",
                    }
                ],
            },
        )
        assert (await client.post(f"/uploads/{key}/retry", headers=CLERK)).status_code == 200
        await s.upload_state(client, key, "sent")
    assert len(await s.uploads(external_id)) == 1


async def test_an_email_that_cannot_be_sent_holds_the_reply_until_parked(s: Stack) -> None:
    closed_port = s.smtp.port + 1 if s.smtp.port < 65000 else s.smtp.port - 1
    async with s.service(smtp_port=closed_port, upload_max_attempts=2) as (_, client):
        letter_id, external_id = await s.letter(client)
        key = f"{letter_id}:reply:1"
        await s.probe.publish(approved(letter_id, mode=PublicationMode.email))
        [parked] = await s.probe.wait_for("upload.parked", letter_id=letter_id)
        assert parked.data["error"].startswith("e-mail: SMTP")
        view = (await client.get(f"/uploads/{key}", headers=CLERK)).json()
        assert view["email"]["state"] == "pending"
    assert await s.uploads(external_id) == []


async def test_an_upload_held_by_an_instance_that_died_resumes_when_its_lease_ends(
    s: Stack,
) -> None:
    async with s.service(uploader_enabled=False) as (_, client):
        letter_id, external_id = await s.letter(client)
        key = f"{letter_id}:reply:1"
        await s.probe.publish(approved(letter_id, mode=PublicationMode.not_public))
        await s.upload_state(client, key, "pending")
    # As a crashed instance leaves it: claimed, its lease running for another second.
    lease_end = datetime.now(UTC) + timedelta(seconds=1)
    mongo = make_client(MONGO_URL)
    try:
        await mongo[s.db]["uploads"].update_one(
            {"_id": key},
            {
                "$set": {
                    "claimed_by": "dead-host:1:ins_X",
                    "claim_until": lease_end,
                    "next_attempt_at": lease_end,
                }
            },
        )
    finally:
        await mongo.close()
    async with s.service() as (_, client):
        assert (await client.get(f"/uploads/{key}", headers=CLERK)).json()["state"] == "pending"
        view = await s.upload_state(client, key, "sent")
        await s.probe.wait_for("letter.published", letter_id=letter_id)
    assert view["attempts"] == 1
    assert datetime.now(UTC) >= lease_end
    assert len(await s.uploads(external_id)) == 1
    _published_once(s, letter_id)
