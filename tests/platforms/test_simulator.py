"""The reference platform API: the simulator served over HTTP and the real HTTP client."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from shared.platforms import (
    HttpPlatformClient,
    MalformedRecord,
    PlatformRejected,
    PlatformUnavailable,
    Upload,
    UploadConflict,
)
from shared.platforms.config import GOV_MAILBOX, MAYOR_HOTLINE, SERVICE_PLATFORM
from shared.platforms.simulator_server import RunningSimulator, running_simulator


@pytest.fixture
async def sim() -> AsyncIterator[RunningSimulator]:
    async with running_simulator() as running:
        yield running


async def _drain(
    client: HttpPlatformClient, *, limit: int = 7
) -> tuple[list[str], list[MalformedRecord]]:
    ids: list[str] = []
    malformed: list[MalformedRecord] = []
    cursor: str | None = None
    for _ in range(1000):
        page = await client.poll(cursor=cursor, limit=limit)
        ids += [letter.external_id for letter in page.letters]
        malformed += page.malformed
        if page.next_cursor is not None:
            cursor = page.next_cursor
        if not page.has_more:
            break
    return ids, malformed


async def test_paging_yields_every_letter_of_every_platform(sim: RunningSimulator) -> None:
    added = (await sim.admin.post("/_admin/generate", json={"n": 60, "seed": 3})).json()["ids"]
    for config in sim.configs():
        async with HttpPlatformClient(config) as client:
            ids, malformed = await _drain(client)
        assert sorted(ids) == sorted(added[config.id])
        assert malformed == []


async def test_each_platform_speaks_its_own_field_names(sim: RunningSimulator) -> None:
    await sim.admin.post("/_admin/generate", json={"n": 30, "seed": 1})
    for config in sim.configs():
        async with HttpPlatformClient(config) as client:
            page = await client.poll(cursor=None, limit=50)
        letter = page.letters[0]
        assert letter.raw[config.field_mapping.external_id] == letter.external_id
        assert letter.title
        assert letter.submitted_at.tzinfo is not None
    mayor = next(c for c in sim.configs() if c.id == MAYOR_HOTLINE)
    assert (
        mayor.field_mapping.external_id
        != next(c for c in sim.configs() if c.id == GOV_MAILBOX).field_mapping.external_id
    )


async def test_malformed_records_come_back_with_reasons(sim: RunningSimulator) -> None:
    await sim.admin.post("/_admin/generate", json={"n": 40, "seed": 2, "platform_id": GOV_MAILBOX})
    await sim.admin.put(
        "/_admin/faults",
        json={"platform_id": GOV_MAILBOX, "faults": {"malformed_rate": 0.3, "seed": 5}},
    )
    config = next(c for c in sim.configs() if c.id == GOV_MAILBOX)
    async with HttpPlatformClient(config) as client:
        ids, malformed = await _drain(client)
    assert malformed
    assert len(ids) + len(malformed) == 40
    assert all(m.reason and m.raw for m in malformed)
    stats = (await sim.admin.get("/_admin/stats")).json()[GOV_MAILBOX]
    assert stats["malformed_served"] == len(malformed)


async def test_retries_recover_from_errors_and_timeouts(sim: RunningSimulator) -> None:
    await sim.admin.post(
        "/_admin/generate", json={"n": 30, "seed": 4, "platform_id": SERVICE_PLATFORM}
    )
    await sim.admin.put(
        "/_admin/faults",
        json={
            "platform_id": SERVICE_PLATFORM,
            "faults": {"error_rate": 0.3, "timeout_rate": 0.1, "stall_s": 2, "seed": 9},
        },
    )
    config = next(
        c
        for c in sim.configs(
            timeout_s=0.3, max_attempts=10, backoff_base_s=0.01, backoff_max_s=0.05
        )
        if c.id == SERVICE_PLATFORM
    )
    async with HttpPlatformClient(config) as client:
        ids, _ = await _drain(client, limit=5)
    assert len(set(ids)) == 30
    stats = (await sim.admin.get("/_admin/stats")).json()[SERVICE_PLATFORM]
    assert stats["errors_injected"] + stats["timeouts_injected"] > 0


async def test_unavailable_after_the_attempts_run_out(sim: RunningSimulator) -> None:
    await sim.admin.put("/_admin/faults", json={"faults": {"error_rate": 1.0}})
    config = sim.configs(max_attempts=3, backoff_base_s=0.01, backoff_max_s=0.02)[0]
    async with HttpPlatformClient(config) as client:
        with pytest.raises(PlatformUnavailable) as info:
            await client.poll(cursor=None, limit=10)
    assert info.value.attempts == 3


async def test_uploads_are_idempotent_by_key(sim: RunningSimulator) -> None:
    added = (
        await sim.admin.post(
            "/_admin/generate", json={"n": 3, "seed": 8, "platform_id": GOV_MAILBOX}
        )
    ).json()
    external_id = added["ids"][GOV_MAILBOX][0]
    config = next(c for c in sim.configs() if c.id == GOV_MAILBOX)
    upload = Upload(
        external_id=external_id,
        kind="reply",
        visibility="public",
        title="答复",
        text="经核实，已处理。",
        idempotency_key=f"{external_id}:reply:1",
    )
    async with HttpPlatformClient(config) as client:
        first = await client.upload(upload)
        second = await client.upload(upload)
        assert not first.duplicate
        assert second.duplicate
        assert second.upload_id == first.upload_id
        with pytest.raises(UploadConflict):
            await client.upload(upload.model_copy(update={"text": "另一个答复"}))
    received = (await sim.admin.get("/_admin/uploads")).json()
    assert received["total"] == 1
    assert received["duplicate_attempts"] == 1
    assert received["conflicts"] == 1


async def test_a_lost_upload_answer_is_retried_without_a_second_upload(
    sim: RunningSimulator,
) -> None:
    added = (
        await sim.admin.post(
            "/_admin/generate", json={"n": 1, "seed": 8, "platform_id": GOV_MAILBOX}
        )
    ).json()
    external_id = added["ids"][GOV_MAILBOX][0]
    await sim.admin.put(
        "/_admin/faults",
        json={"platform_id": GOV_MAILBOX, "faults": {"timeout_rate": 0.5, "stall_s": 2, "seed": 1}},
    )
    config = next(
        c
        for c in sim.configs(
            timeout_s=0.3, max_attempts=20, backoff_base_s=0.01, backoff_max_s=0.02
        )
        if c.id == GOV_MAILBOX
    )
    upload = Upload(
        external_id=external_id,
        kind="not_accepted",
        visibility="private",
        title="不予受理",
        text="您的来信不属于受理范围。",
        idempotency_key="k-1",
    )
    async with HttpPlatformClient(config) as client:
        await client.upload(upload)
    received = (await sim.admin.get("/_admin/uploads")).json()
    assert received["total"] == 1


async def test_a_wrong_token_is_rejected(sim: RunningSimulator) -> None:
    from pydantic import SecretStr

    config = sim.configs(token=SecretStr("wrong"))[0]
    async with HttpPlatformClient(config) as client:
        with pytest.raises(PlatformRejected) as info:
            await client.poll(cursor=None, limit=5)
    assert info.value.status_code == 401


async def test_duplicates_and_a_rewinding_cursor_still_end(sim: RunningSimulator) -> None:
    await sim.admin.post(
        "/_admin/generate", json={"n": 50, "seed": 6, "platform_id": MAYOR_HOTLINE}
    )
    await sim.admin.put(
        "/_admin/faults",
        json={
            "platform_id": MAYOR_HOTLINE,
            "faults": {"duplicate_rate": 0.5, "cursor_rewind": 0.3, "seed": 2},
        },
    )
    config = next(c for c in sim.configs() if c.id == MAYOR_HOTLINE)
    async with HttpPlatformClient(config) as client:
        ids, _ = await _drain(client, limit=6)
    stats = (await sim.admin.get("/_admin/stats")).json()[MAYOR_HOTLINE]
    assert len(set(ids)) == 50
    assert len(ids) > 50
    assert stats["duplicates_injected"] + stats["rewinds_injected"] > 0
