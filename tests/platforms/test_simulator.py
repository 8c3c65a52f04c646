"""The reference platform API end to end: the simulator served by uvicorn on loopback
and the real HTTP client talking to it over the network."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import SecretStr

from devkit.simulator.server import RunningSimulator, running_simulator
from shared.platforms import (
    HttpPlatformClient,
    MalformedRecord,
    PlatformLetter,
    PlatformMalformed,
    PlatformRejected,
    Upload,
    UploadConflict,
)
from shared.platforms.config import GOV_MAILBOX, MAYOR_HOTLINE, SERVICE_PLATFORM

pytestmark = pytest.mark.unit  # needs no server

WRITER = {"name": "欧阳娜娜", "phone": "13912345678", "id_number": "11010519491231002X"}


@pytest.fixture
async def sim() -> AsyncIterator[RunningSimulator]:
    async with running_simulator() as running:
        yield running


async def _drain(
    client: HttpPlatformClient, *, limit: int = 7
) -> tuple[list[PlatformLetter], list[MalformedRecord]]:
    letters: list[PlatformLetter] = []
    malformed: list[MalformedRecord] = []
    cursor: str | None = None
    for _ in range(1000):
        page = await client.poll(cursor=cursor, limit=limit)
        letters += page.letters
        malformed += page.malformed
        if page.next_cursor is not None:
            cursor = page.next_cursor
        if not page.has_more:
            return letters, malformed
    raise AssertionError("the feed never ended")


async def _generate(sim: RunningSimulator, n: int, *, seed: int, pid: str | None = None) -> Any:
    body: dict[str, Any] = {"n": n, "seed": seed}
    if pid is not None:
        body["platform_id"] = pid
    response = await sim.admin.post("/_admin/generate", json=body)
    assert response.status_code == 200, response.text
    return response.json()["ids"]


async def _faults(sim: RunningSimulator, pid: str | None, **faults: float) -> None:
    body: dict[str, Any] = {"faults": faults}
    if pid is not None:
        body["platform_id"] = pid
    response = await sim.admin.put("/_admin/faults", json=body)
    assert response.status_code == 200, response.text


async def _stats(sim: RunningSimulator, pid: str) -> dict[str, Any]:
    stats: dict[str, Any] = (await sim.admin.get("/_admin/stats")).json()[pid]
    return stats


async def test_paging_yields_every_letter_of_every_platform_once(sim: RunningSimulator) -> None:
    added = await _generate(sim, 90, seed=3)
    for config in sim.configs():
        async with HttpPlatformClient(config) as client:
            letters, malformed = await _drain(client)
        ids = [letter.external_id for letter in letters]
        assert len(ids) == len(set(ids)) == len(added[config.id]) > 0
        assert set(ids) == set(added[config.id])
        assert malformed == []


async def test_a_poll_at_the_end_returns_nothing_new_and_keeps_the_cursor(
    sim: RunningSimulator,
) -> None:
    await _generate(sim, 5, seed=1, pid=GOV_MAILBOX)
    async with HttpPlatformClient(sim.config(GOV_MAILBOX)) as client:
        empty = await client.poll(cursor=None, limit=5)
        assert len(empty.letters) == 5 and not empty.has_more
        again = await client.poll(cursor=empty.next_cursor, limit=5)
        assert again.letters == [] and again.next_cursor == empty.next_cursor
        await _generate(sim, 2, seed=2, pid=GOV_MAILBOX)
        newer = await client.poll(cursor=empty.next_cursor, limit=5)
    assert len(newer.letters) == 2


async def test_each_platform_speaks_its_own_field_names(sim: RunningSimulator) -> None:
    submitted = "2025-06-03T10:15:30+08:00"
    for pid in (GOV_MAILBOX, MAYOR_HOTLINE, SERVICE_PLATFORM):
        seed_letter = {
            "external_id": f"{pid}-1",
            "title": "咨询出口退税",
            "text": "请问出口退税需要哪些材料？",
            "submitted_at": submitted,
            "person": WRITER,
        }
        response = await sim.admin.post(
            "/_admin/letters", json={"platform_id": pid, "letters": [seed_letter]}
        )
        assert response.status_code == 200, response.text
    raws = {}
    for config in sim.configs():
        async with HttpPlatformClient(config) as client:
            (letter,), _ = await _drain(client)
        assert letter.external_id == f"{config.id}-1"
        assert letter.title == "咨询出口退税"
        assert letter.submitted_at == datetime(2025, 6, 3, 2, 15, 30, tzinfo=UTC)
        assert letter.person.model_dump(exclude_none=True) == WRITER
        raws[config.id] = letter.raw
    assert raws[GOV_MAILBOX]["person"]["name"] == "欧阳娜娜"
    assert raws[GOV_MAILBOX]["submitted_at"] == submitted
    assert raws[MAYOR_HOTLINE]["xjbh"] == "mayor_hotline-1"
    assert raws[MAYOR_HOTLINE]["tjsj"] == "2025-06-03 10:15:30"
    assert {"bt", "nr", "lxr", "lxdh", "sfzh"} <= set(raws[MAYOR_HOTLINE])
    assert raws[SERVICE_PLATFORM]["createdAt"] == 1748916930000
    assert raws[SERVICE_PLATFORM]["submitter"]["idCard"] == WRITER["id_number"]


async def test_raw_malformed_records_come_back_with_reasons(sim: RunningSimulator) -> None:
    good = {"xjbh": "SZ-1", "bt": "标题", "nr": "内容", "tjsj": "2025-06-03 10:15:30"}
    raw = [
        {k: v for k, v in good.items() if k != "bt"} | {"xjbh": "SZ-2"},
        good | {"xjbh": "SZ-3", "tjsj": "2025-02-30 10:00:00"},
        good | {"xjbh": "SZ-4", "nr": "长" * 30_000},
        "not even an object",
        good,
    ]
    response = await sim.admin.post(
        "/_admin/letters", json={"platform_id": MAYOR_HOTLINE, "raw": raw}
    )
    assert response.status_code == 200, response.text
    async with HttpPlatformClient(sim.config(MAYOR_HOTLINE)) as client:
        letters, malformed = await _drain(client, limit=2)
    assert [letter.external_id for letter in letters] == ["SZ-1"]
    reasons = {m.external_id: m.reason for m in malformed}
    assert reasons["SZ-2"] == "missing required field 'bt' (title)"
    assert "'tjsj' (submitted_at)" in reasons["SZ-3"] and "2025-02-30" in reasons["SZ-3"]
    assert re.fullmatch(r"record is \d+ bytes, over the limit of 65536 bytes", reasons["SZ-4"])
    assert reasons[None] == "record is not a JSON object (got str)"
    assert all(m.raw for m in malformed)


async def test_injected_malformed_records_are_the_ones_the_simulator_reports(
    sim: RunningSimulator,
) -> None:
    await _generate(sim, 60, seed=2, pid=GOV_MAILBOX)
    await _faults(sim, GOV_MAILBOX, malformed_rate=0.3, seed=5)
    async with HttpPlatformClient(sim.config(GOV_MAILBOX)) as client:
        letters, malformed = await _drain(client)
    reported = (await _stats(sim, GOV_MAILBOX))["malformed"]
    assert len(letters) + len(malformed) == 60
    assert len(malformed) == len(reported) > 0
    by_id = {m.external_id: m.reason for m in malformed}
    words = {
        "missing_title": "missing required field 'title'",
        "missing_id": "missing required field 'id'",
        "bad_date": "'submitted_at' (submitted_at)",
        "oversized": "bytes, over the limit",
        "wrong_type": "must be a string, got list",
    }
    for item in reported:
        # A record without its id cannot be matched by id; the others must say why.
        if item["kind"] != "missing_id":
            assert words[item["kind"]] in by_id[item["external_id"]]
        else:
            assert words["missing_id"] in by_id[None]


async def test_retries_recover_from_errors_and_timeouts(sim: RunningSimulator) -> None:
    added = await _generate(sim, 30, seed=4, pid=SERVICE_PLATFORM)
    await _faults(sim, SERVICE_PLATFORM, error_rate=0.3, timeout_rate=0.15, stall_s=5, seed=9)
    config = sim.config(
        SERVICE_PLATFORM, timeout_s=0.3, max_attempts=10, backoff_base_s=0.01, backoff_max_s=0.05
    )
    async with HttpPlatformClient(config) as client:
        letters, _ = await _drain(client, limit=5)
        fetched = await client.fetch(added[SERVICE_PLATFORM][0])
    assert {letter.external_id for letter in letters} == set(added[SERVICE_PLATFORM])
    assert fetched.external_id == added[SERVICE_PLATFORM][0]
    stats = await _stats(sim, SERVICE_PLATFORM)
    assert stats["errors_injected"] > 0
    assert stats["timeouts_injected"] > 0


async def test_unavailable_after_the_attempts_run_out(sim: RunningSimulator) -> None:
    from shared.platforms import PlatformUnavailable

    await _faults(sim, None, error_rate=1.0)
    config = sim.config(GOV_MAILBOX, max_attempts=3, backoff_base_s=0.01, backoff_max_s=0.02)
    async with HttpPlatformClient(config) as client:
        with pytest.raises(PlatformUnavailable) as info:
            await client.poll(cursor=None, limit=10)
    assert info.value.attempts == 3
    assert "HTTP 503" in info.value.message
    assert (await _stats(sim, GOV_MAILBOX))["requests"] == 3


async def test_uploads_are_idempotent_by_key(sim: RunningSimulator) -> None:
    external_id = (await _generate(sim, 3, seed=8, pid=GOV_MAILBOX))[GOV_MAILBOX][0]
    upload = Upload(
        external_id=external_id,
        kind="reply",
        visibility="public",
        title="答复",
        text="经核实，已处理。",
        idempotency_key=f"{external_id}:reply:1",
    )
    async with HttpPlatformClient(sim.config(GOV_MAILBOX)) as client:
        first = await client.upload(upload)
        second = await client.upload(upload)
        with pytest.raises(UploadConflict) as conflict:
            await client.upload(upload.model_copy(update={"text": "另一个答复"}))
    assert not first.duplicate and second.duplicate
    assert second.upload_id == first.upload_id
    assert second.received_at == first.received_at
    assert conflict.value.status_code == 409
    received = (await sim.admin.get("/_admin/uploads")).json()
    assert received["total"] == 1
    assert received["duplicate_attempts"] == 1
    assert received["conflicts"] == 1
    assert received["uploads"][0]["text"] == "经核实，已处理。"


async def test_a_lost_upload_answer_is_retried_without_a_second_upload(
    sim: RunningSimulator,
) -> None:
    external_id = (await _generate(sim, 1, seed=8, pid=GOV_MAILBOX))[GOV_MAILBOX][0]
    # Seed 3 stalls the first attempt: stored on the platform, the answer lost.
    await _faults(sim, GOV_MAILBOX, timeout_rate=0.5, stall_s=5, seed=3)
    config = sim.config(
        GOV_MAILBOX, timeout_s=0.3, max_attempts=20, backoff_base_s=0.01, backoff_max_s=0.02
    )
    upload = Upload(
        external_id=external_id,
        kind="not_accepted",
        visibility="private",
        title="不予受理告知",
        text="您的来信不属于本单位受理范围。",
        idempotency_key="k-1",
    )
    async with HttpPlatformClient(config) as client:
        receipt = await client.upload(upload)
    received = (await sim.admin.get("/_admin/uploads")).json()
    stats = await _stats(sim, GOV_MAILBOX)
    assert stats["timeouts_injected"] > 0
    assert receipt.duplicate
    assert received["total"] == 1
    assert received["uploads"][0]["upload_id"] == receipt.upload_id


async def test_upload_refusals_carry_the_platforms_reason(sim: RunningSimulator) -> None:
    upload = Upload(
        external_id="no-such-letter",
        kind="transfer",
        visibility="public",
        title="转办告知",
        text="已转区政府办理。",
        idempotency_key="k-404",
    )
    async with HttpPlatformClient(sim.config(GOV_MAILBOX)) as client:
        with pytest.raises(PlatformRejected) as info:
            await client.upload(upload)
    assert info.value.status_code == 404
    assert "no-such-letter" in info.value.reason
    token = sim.config(GOV_MAILBOX).token.get_secret_value()
    bad = await sim.admin.post(
        "/p/gov_mailbox/uploads",
        json={"external_id": "x", "kind": "poem", "visibility": "public", "title": "t"},
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "k"},
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "invalid"
    assert "kind" in bad.json()["error"]["message"]


async def test_fetch_returns_one_letter_or_says_why_not(sim: RunningSimulator) -> None:
    await sim.admin.post(
        "/_admin/letters",
        json={"platform_id": SERVICE_PLATFORM, "raw": [{"letterId": "FW-BAD", "subject": "x"}]},
    )
    added = await _generate(sim, 2, seed=6, pid=SERVICE_PLATFORM)
    async with HttpPlatformClient(sim.config(SERVICE_PLATFORM)) as client:
        letter = await client.fetch(added[SERVICE_PLATFORM][1])
        with pytest.raises(PlatformRejected) as missing:
            await client.fetch("FW-NONE")
        with pytest.raises(PlatformMalformed) as bad:
            await client.fetch("FW-BAD")
    assert letter.external_id == added[SERVICE_PLATFORM][1]
    assert missing.value.status_code == 404
    assert bad.value.record is not None
    assert "missing required field 'content' (text)" in bad.value.record.reason


async def test_a_wrong_token_is_rejected(sim: RunningSimulator) -> None:
    config = sim.config(MAYOR_HOTLINE, token=SecretStr("wrong"))
    async with HttpPlatformClient(config) as client:
        with pytest.raises(PlatformRejected) as info:
            await client.poll(cursor=None, limit=5)
    assert info.value.status_code == 401
    assert "token" in info.value.reason


async def test_another_platforms_token_is_rejected(sim: RunningSimulator) -> None:
    config = sim.config(MAYOR_HOTLINE, token=sim.config(GOV_MAILBOX).token)
    async with HttpPlatformClient(config) as client:
        with pytest.raises(PlatformRejected) as info:
            await client.poll(cursor=None, limit=5)
    assert info.value.status_code == 401


async def test_a_cursor_the_platform_never_issued_is_rejected(sim: RunningSimulator) -> None:
    async with HttpPlatformClient(sim.config(GOV_MAILBOX)) as client:
        with pytest.raises(PlatformRejected) as info:
            await client.poll(cursor="999", limit=5)
    assert info.value.status_code == 422


async def test_duplicates_and_a_rewinding_cursor_are_what_the_simulator_reports(
    sim: RunningSimulator,
) -> None:
    added = await _generate(sim, 80, seed=6, pid=MAYOR_HOTLINE)
    await _faults(sim, MAYOR_HOTLINE, duplicate_rate=0.4, cursor_rewind=0.3, seed=2)
    async with HttpPlatformClient(sim.config(MAYOR_HOTLINE)) as client:
        letters, _ = await _drain(client, limit=6)
    stats = await _stats(sim, MAYOR_HOTLINE)
    seen = Counter(letter.external_id for letter in letters)
    assert set(seen) == set(added[MAYOR_HOTLINE])
    assert stats["duplicates_injected"] > 0
    assert stats["rewinds_injected"] > 0
    assert stats["records_served"] == len(letters)
    assert stats["redelivered"] == len(letters) - len(seen) > 0


async def test_reset_forgets_letters_uploads_and_faults(sim: RunningSimulator) -> None:
    await _generate(sim, 5, seed=1)
    await _faults(sim, None, error_rate=1.0)
    assert (await sim.admin.post("/_admin/reset")).status_code == 200
    async with HttpPlatformClient(sim.config(GOV_MAILBOX)) as client:
        page = await client.poll(cursor=None, limit=5)
    assert page.letters == [] and page.next_cursor is None and not page.has_more
