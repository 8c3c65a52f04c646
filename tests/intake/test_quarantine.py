"""Malformed and oversized records land in quarantine with the reason and their bytes, never
blocking the platform, and are registered once after a fix."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest

from devkit.simulator.server import RunningSimulator, running_simulator
from tests.intake.harness import (
    ADMIN,
    CLERK,
    HEAD,
    UNIT,
    database,
    generate,
    intake,
    names_and_probe,
    set_faults,
    settle,
)

GOV = "gov_mailbox"
SUBMITTED = "2026-10-09T09:15:00+08:00"


def _record(external_id: str, **fields: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": external_id,
        "title": "关于路灯不亮的反映",
        "text": "某路段路灯已坏一周，夜间出行不便。",
        "submitted_at": SUBMITTED,
        "person": {"name": "王某", "phone": "13800000001"},
    }
    record.update(fields)
    return {k: v for k, v in record.items() if v is not None}


BAD_RECORDS: dict[str, dict[str, Any] | list[int]] = {
    "missing title": _record("GOVQ0001", title=None),
    "bad date": _record("GOVQ0002", submitted_at="2024-13-45 25:61:00"),
    "name too long": _record("GOVQ0003", person={"name": "名" * 100}),
    "oversized": _record("GOVQ0004", text="超" * 30_000),
    "not an object": [1, 2, 3],
}


@pytest.fixture
async def sim() -> AsyncIterator[RunningSimulator]:
    async with running_simulator() as running:
        await generate(running, 6, seed=1, platform_id=GOV)
        response = await running.admin.post(
            "/_admin/letters", json={"platform_id": GOV, "raw": list(BAD_RECORDS.values())}
        )
        response.raise_for_status()
        await generate(running, 4, seed=2, platform_id=GOV)
        yield running


async def _items(client: Any, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    for _ in range(100):
        query = {**params, "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/quarantine", params=query, headers=HEAD)).json()
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("paging did not end")


async def test_bad_records_are_quarantined_with_reasons_and_do_not_block(
    sim: RunningSimulator,
) -> None:
    async with names_and_probe() as (names, probe), intake(sim, names) as (app, client):
        result = (await client.post(f"/platforms/{GOV}/poll", headers=ADMIN)).json()
        items = await _items(client)
        by_id = {i["external_id"]: i for i in items}
        full = {
            key: (await client.get(f"/quarantine/{i['id']}", headers=HEAD)).json()
            for key, i in by_id.items()
        }
        platforms = (await client.get("/platforms", headers=HEAD)).json()
        await settle(probe, app.state.relay)
    assert result["outcome"] == "caught_up"
    assert result["registered"] == 10
    assert result["quarantined"] == 5
    assert len(items) == 5
    assert len(probe.of_type("letter.received")) == 10
    assert "title" in by_id["GOVQ0001"]["reason"]
    assert "submitted_at" in by_id["GOVQ0002"]["reason"]
    assert "person.name" in by_id["GOVQ0003"]["reason"]
    assert "bytes" in by_id["GOVQ0004"]["reason"]
    assert "not a JSON object" in by_id[None]["reason"]
    for key, record in zip(
        ["GOVQ0001", "GOVQ0002", "GOVQ0003", "GOVQ0004", None], BAD_RECORDS.values(), strict=True
    ):
        item = full[key]
        assert base64.b64decode(item["raw_base64"]) == orjson.dumps(record)
        assert item["raw_size"] == len(orjson.dumps(record))
        assert item["status"] == "open"
        assert item["quarantined_at_local"].endswith("+08:00")
    gov = next(p for p in platforms if p["id"] == GOV)
    assert gov["quarantine_open"] == 5
    assert gov["letters_registered"] == 10


async def test_a_refetched_bad_record_is_quarantined_once(sim: RunningSimulator) -> None:
    async with names_and_probe() as (names, _), intake(sim, names) as (_, client):
        await client.post(f"/platforms/{GOV}/poll", headers=ADMIN)
        async with database(names) as db:
            # Forget the cursor: the whole feed comes again.
            await db["platform_state"].update_one({"_id": GOV}, {"$set": {"cursor": None}})
        again = (await client.post(f"/platforms/{GOV}/poll", headers=ADMIN)).json()
        items = await _items(client)
    assert again["registered"] == 0
    assert again["duplicates"] == 10
    assert again["quarantined"] == 0
    assert again["quarantine_duplicates"] == 5
    assert len(items) == 5


async def test_random_corruption_matches_the_simulator_count(sim: RunningSimulator) -> None:
    await generate(sim, 60, seed=7, platform_id="mayor_hotline")
    await set_faults(sim, malformed_rate=0.25, seed=3)
    async with names_and_probe() as (names, probe), intake(sim, names) as (app, client):
        result = (await client.post("/platforms/mayor_hotline/poll", headers=ADMIN)).json()
        items = await _items(client, platform="mayor_hotline")
        await settle(probe, app.state.relay)
    stats = (await sim.admin.get("/_admin/stats")).json()["mayor_hotline"]
    assert len(stats["malformed"]) > 0
    assert len(items) == len(stats["malformed"])
    assert result["registered"] + result["quarantined"] == 60
    assert len(probe.of_type("letter.received")) == result["registered"]
    assert all(i["reason"] for i in items)


async def test_a_fixed_record_is_registered_and_the_item_resolved(sim: RunningSimulator) -> None:
    async with names_and_probe() as (names, probe), intake(sim, names) as (app, client):
        await client.post(f"/platforms/{GOV}/poll", headers=ADMIN)
        item = next(i for i in await _items(client) if i["external_id"] == "GOVQ0001")
        url = f"/quarantine/{item['id']}/reprocess"
        raw = orjson.loads(
            base64.b64decode(
                (await client.get(f"/quarantine/{item['id']}", headers=HEAD)).json()["raw_base64"]
            )
        )

        still_bad = await client.post(url, json={"record": raw}, headers=CLERK)
        other_id = await client.post(
            url, json={"record": {**raw, "title": "标题", "id": "GOVQ9999"}}, headers=CLERK
        )
        not_allowed = await client.post(url, json={"record": raw}, headers=HEAD)
        fixed = await client.post(
            url, json={"record": {**raw, "title": "关于路灯不亮的反映"}}, headers=CLERK
        )
        twice = await client.post(
            url, json={"record": {**raw, "title": "关于路灯不亮的反映"}}, headers=CLERK
        )
        shown = (await client.get(f"/quarantine/{item['id']}", headers=HEAD)).json()
        letter = (await client.get(f"/letters/{fixed.json()['letter_id']}", headers=HEAD)).json()
        open_items = await _items(client, status="open")
        await settle(probe, app.state.relay)
    assert still_bad.status_code == 422
    assert "title" in still_bad.json()["message"]
    assert other_id.status_code == 422
    assert "GOVQ0001" in other_id.json()["message"]
    assert not_allowed.status_code == 403
    assert fixed.status_code == 200, fixed.text
    assert fixed.json()["outcome"] == "registered"
    assert twice.status_code == 409
    assert twice.json()["details"]["letter_id"] == fixed.json()["letter_id"]
    assert shown["status"] == "resolved"
    assert shown["resolution"]["letter_id"] == letter["id"]
    assert shown["resolution"]["by"]["user_id"] == "u_clerk_li"
    assert shown["resolution"]["at"]
    assert letter["external_id"] == "GOVQ0001"
    assert letter["quarantine_id"] == item["id"]
    # Received when the platform first gave it to us, not when it was fixed.
    assert letter["received_at"] == item["quarantined_at"]
    assert letter["raw"]["title"] == "关于路灯不亮的反映"
    assert item["id"] not in {i["id"] for i in open_items}
    events = probe.of_type("letter.received", letter_id=letter["id"])
    assert len(events) == 1
    assert len(probe.of_type("letter.received")) == 11


async def test_a_record_registered_meanwhile_resolves_as_already_registered(
    sim: RunningSimulator,
) -> None:
    async with names_and_probe() as (names, probe), intake(sim, names) as (app, client):
        await client.post(f"/platforms/{GOV}/poll", headers=ADMIN)
        item = next(i for i in await _items(client) if i["external_id"] == "GOVQ0002")
        # The platform serves a corrected version later; polling registers it.
        await sim.admin.post(
            "/_admin/letters", json={"platform_id": GOV, "raw": [_record("GOVQ0002")]}
        )
        polled = (await client.post(f"/platforms/{GOV}/poll", headers=ADMIN)).json()
        response = await client.post(
            f"/quarantine/{item['id']}/reprocess",
            json={"record": _record("GOVQ0002")},
            headers=CLERK,
        )
        await settle(probe, app.state.relay)
    assert polled["registered"] == 1
    assert response.status_code == 200
    assert response.json()["outcome"] == "already_registered"
    assert len(probe.of_type("letter.received")) == 11


async def test_quarantine_is_for_the_office_only(sim: RunningSimulator) -> None:
    async with names_and_probe() as (names, _), intake(sim, names) as (_, client):
        await client.post(f"/platforms/{GOV}/poll", headers=ADMIN)
        listing = await client.get("/quarantine", headers=UNIT)
        anonymous = await client.get("/quarantine")
        missing = await client.get("/quarantine/qua_01ARZ3NDEKTSV4RRFFQ69G5FAV", headers=HEAD)
        bad_id = await client.get("/quarantine/$where", headers=HEAD)
        bad_status = await client.get("/quarantine", params={"status": "gone"}, headers=HEAD)
        # The head reads items but does not reprocess them: 403 whether the item exists or not.
        reprocess_missing = await client.post(
            "/quarantine/qua_01ARZ3NDEKTSV4RRFFQ69G5FAV/reprocess",
            json={"record": _record("GOVQ0002")},
            headers=HEAD,
        )
        reprocess_anonymous = await client.post(
            "/quarantine/qua_01ARZ3NDEKTSV4RRFFQ69G5FAV/reprocess",
            json={"record": _record("GOVQ0002")},
        )
    assert listing.status_code == 403
    assert anonymous.status_code == 401
    assert missing.status_code == 404
    assert reprocess_missing.status_code == 403
    assert reprocess_anonymous.status_code == 401
    assert bad_id.status_code == 422
    assert bad_status.status_code == 422


# Valid JSON that orjson cannot write back (integers beyond 64 bits, deep nesting, lone
# surrogate escapes): sent as text, since httpx's own encoder refuses some of it.
WEIRD_BUT_STILL_BAD = {
    "an integer beyond 64 bits": '{"id": "GOVQ0001", "count": 18446744073709551616}',
    "a negative one": '{"id": "GOVQ0001", "count": -170141183460469231731687303715884105728}',
    "nesting 300 levels deep": '{"id": "GOVQ0001", "deep": ' + "[" * 300 + "]" * 300 + "}",
    "a lone surrogate in an extra field": '{"id": "GOVQ0001", "note": "\\ud800"}',
}
LONE_SURROGATE_IN_TEXT = {
    "title": '"\\udfff路灯"',
    "text": '"\\ud800"',
    "person": '{"name": "王\\ud800"}',
    "attachments": '[{"name": "\\ud83d.jpg"}]',
}


async def test_weird_json_in_a_corrected_record_is_422_not_a_server_error(
    sim: RunningSimulator,
) -> None:
    good = {k: v for k, v in _record("GOVQ0001").items() if k != "id"}
    async with names_and_probe() as (names, probe), intake(sim, names) as (app, client):
        await client.post(f"/platforms/{GOV}/poll", headers=ADMIN)
        item = next(i for i in await _items(client) if i["external_id"] == "GOVQ0001")
        url = f"/quarantine/{item['id']}/reprocess"
        json_type = {**CLERK, "content-type": "application/json"}

        async def send(record: str) -> Any:
            return await client.post(url, content=f'{{"record": {record}}}', headers=json_type)

        # Still no title: each is refused for that, however odd the rest.
        refused = {what: await send(record) for what, record in WEIRD_BUT_STILL_BAD.items()}
        in_text = {}
        for field, value in LONE_SURROGATE_IN_TEXT.items():
            fields = orjson.dumps({"id": "GOVQ0001", **good}).decode()[:-1]
            in_text[field] = await send(f'{fields}, "{field}": {value}}}')
        # The big integer is kept exactly as sent once the record is right.
        fixed = await send(
            orjson.dumps({"id": "GOVQ0001", **good}).decode()[:-1]
            + ', "count": 18446744073709551616}'
        )
        letter = await client.get(f"/letters/{fixed.json()['letter_id']}", headers=HEAD)
        await settle(probe, app.state.relay)
    for what, response in refused.items():
        assert response.status_code == 422, (what, response.text)
        assert "title" in response.json()["message"], (what, response.text)
    for field, response in in_text.items():
        assert response.status_code == 422, (field, response.text)
        assert "lone surrogate" in response.json()["message"], (field, response.text)
    assert fixed.status_code == 200, fixed.text
    assert letter.json()["raw_json"].endswith('"count":18446744073709551616}')


async def test_a_lone_surrogate_on_a_page_is_quarantined_and_polling_goes_on() -> None:
    # The escape is valid JSON that orjson refuses: once, it failed the whole page, and
    # polling stayed on it. Sent as text: httpx's encoder refuses a lone surrogate.
    record = orjson.dumps(_record("GOVS0001")).decode().replace("关于", "关于\\ud800", 1)
    async with running_simulator() as running:
        await generate(running, 3, seed=4, platform_id=GOV)
        added = await running.admin.post(
            "/_admin/letters",
            content=f'{{"platform_id": "{GOV}", "raw": [{record}]}}',
            headers={"content-type": "application/json"},
        )
        added.raise_for_status()
        await generate(running, 2, seed=5, platform_id=GOV)
        async with names_and_probe() as (names, probe), intake(running, names) as (app, client):
            result = (await client.post(f"/platforms/{GOV}/poll", headers=ADMIN)).json()
            items = await _items(client)
            item = (await client.get(f"/quarantine/{items[0]['id']}", headers=HEAD)).json()
            await settle(probe, app.state.relay)
    assert result["outcome"] == "caught_up"
    assert result["registered"] == 5
    assert result["quarantined"] == 1
    assert len(probe.of_type("letter.received")) == 5
    assert [i["external_id"] for i in items] == ["GOVS0001"]
    assert "lone surrogate" in items[0]["reason"]
    # The bytes kept are the record as written, the escape included.
    assert "\\ud800" in base64.b64decode(item["raw_base64"]).decode()


async def test_integer_ids_beyond_64_bits_keep_every_digit() -> None:
    # orjson reads 2**64 + 1 and 2**64 + 2 as the same float: two letters would become one.
    # Sent as text, so every digit reaches the simulator as written.
    big = [2**64 + 1, 2**64 + 2]
    records = []
    for n in big:
        fields = orjson.dumps({k: v for k, v in _record("x").items() if k != "id"}).decode()
        records.append(f'{{"id": {n}, "count": {n}, {fields[1:]}')
    async with running_simulator() as running:
        added = await running.admin.post(
            "/_admin/letters",
            content=f'{{"platform_id": "{GOV}", "raw": [{", ".join(records)}]}}',
            headers={"content-type": "application/json"},
        )
        added.raise_for_status()
        async with names_and_probe() as (names, probe), intake(running, names) as (app, client):
            result = (await client.post(f"/platforms/{GOV}/poll", headers=ADMIN)).json()
            await settle(probe, app.state.relay)
            received = probe.of_type("letter.received")
            letters = [
                (await client.get(f"/letters/{e.letter_id}", headers=HEAD)).json() for e in received
            ]
    assert result["registered"] == 2, result
    assert sorted(e.data["external_id"] for e in received) == [str(n) for n in big]
    for letter in letters:
        assert f'"count":{letter["external_id"]}' in letter["raw_json"]
