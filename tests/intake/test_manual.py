"""Letters received by telephone or in person (Art. 31), and reading letters back."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI

from devkit.simulator.server import running_simulator
from shared.audit import AuditEntry
from shared.auth import Role
from shared.clock import FixedClock
from tests.intake.harness import CLERK, HEAD, UNIT, database, intake, names_and_probe, settle
from tests.support import EventProbe, auth

NOW = datetime(2026, 10, 9, 2, 0, tzinfo=UTC)


def _letter(reference: str, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "source": "hotline",
        "external_id": reference,
        "submitted_at": "2026-10-09T09:40:00+08:00",
        "title": "来电反映农贸市场占道经营",
        "text": "市民来电反映某农贸市场外长期占道经营，影响通行。",
        "person": {"name": "李某", "phone": "13900000002"},
    }
    body.update(fields)
    return body


@pytest.fixture
async def setup() -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient, EventProbe, FixedClock, Any]]:
    clock = FixedClock(NOW)
    async with (
        running_simulator() as sim,
        names_and_probe() as (names, probe),
        intake(sim, names, clock=clock) as (app, client),
    ):
        yield app, client, probe, clock, names


async def test_a_hotline_letter_is_registered_with_who_took_it(setup: Any) -> None:
    app, client, probe, _, names = setup
    created = await client.post("/letters", json=_letter("RX-0001"), headers=CLERK)
    await settle(probe, app.state.relay)
    async with database(names) as db:
        audit = await db["audit"].find({"letter_id": created.json()["id"]}).to_list(None)
    assert created.status_code == 201, created.text
    letter = created.json()
    assert letter["platform"] == "manual"
    assert letter["source"] == "hotline"
    assert letter["taken_by"] == "u_clerk_li"
    assert letter["received_at"] == "2026-10-09T02:00:00Z"
    assert letter["received_at_local"] == "2026-10-09T10:00:00+08:00"
    assert letter["submitted_at"] == "2026-10-09T01:40:00Z"
    assert letter["submitted_at_local"] == "2026-10-09T09:40:00+08:00"
    (event,) = probe.of_type("letter.received")
    assert event.letter_id == letter["id"]
    assert event.data["taken_by"] == "u_clerk_li"
    assert event.data["source"] == "hotline"
    assert event.data["platform"] == "manual"
    assert event.data["external_id"] == "RX-0001"
    (entry,) = [AuditEntry.model_validate({**a, "id": a["_id"]}) for a in audit]
    assert entry.action == "letter.register"
    assert entry.actor.user_id == "u_clerk_li"
    assert entry.actor.role == "office_clerk"


async def test_the_raw_body_is_kept_verbatim(setup: Any) -> None:
    _, client, _, _, _ = setup
    body = orjson.dumps(_letter("RX-0002", source="other"), option=orjson.OPT_INDENT_2)
    created = await client.post(
        "/letters", content=body, headers={**CLERK, "Content-Type": "application/json"}
    )
    shown = (await client.get(f"/letters/{created.json()['id']}", headers=HEAD)).json()
    assert shown["raw_json"] == body.decode()
    assert shown["raw_sha256"] == hashlib.sha256(body).hexdigest()
    assert shown["source"] == "other"
    person = {key: value for key, value in shown["person"].items() if value is not None}
    assert person == {"name": "李某", "phone": "13900000002"}


async def test_a_repeat_is_answered_with_the_first_letter_and_no_second_event(setup: Any) -> None:
    app, client, probe, clock, _ = setup
    first = await client.post("/letters", json=_letter("RX-0003"), headers=CLERK)
    clock.advance(timedelta(minutes=3))
    again = await client.post("/letters", json=_letter("RX-0003"), headers=CLERK)
    other = await client.post("/letters", json=_letter("RX-0003", text="另一件事。"), headers=CLERK)
    other_source = await client.post(
        "/letters", json=_letter("RX-0003", source="other"), headers=CLERK
    )
    await settle(probe, app.state.relay)
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["received_at"] == first.json()["received_at"]
    assert other.status_code == 409
    assert other.json()["details"]["letter_id"] == first.json()["id"]
    assert other_source.status_code == 409
    assert len(probe.of_type("letter.received")) == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"text": "x" * 20_001}, "text"),
        ({"source": "platform"}, "source"),
        ({"external_id": "has spaces"}, "external_id"),
        ({"submitted_at": "2026-10-09T09:40:00"}, "submitted_at"),
        ({"submitted_at": "2026-10-10T09:40:00+08:00"}, "submitted_at"),
        ({"person": {"name": "名" * 65}}, "person.name"),
        ({"person": {"name": {"$ne": 1}}}, "person.name"),
        ({"unknown": 1}, "unknown"),
    ],
)
async def test_invalid_letters_are_refused_naming_the_field(
    setup: Any, change: dict[str, Any], field: str
) -> None:
    _, client, probe, _, _ = setup
    response = await client.post("/letters", json=_letter("RX-0004", **change), headers=CLERK)
    assert response.status_code == 422, response.text
    fields = [e["field"] for e in response.json()["details"]["errors"]]
    assert field in fields
    assert probe.of_type("letter.received") == []


async def test_who_may_register_and_read(setup: Any) -> None:
    _, client, _, _, _ = setup
    created = await client.post("/letters", json=_letter("RX-0005"), headers=CLERK)
    letter_id = created.json()["id"]
    assert (await client.post("/letters", json=_letter("RX-0006"))).status_code == 401
    assert (await client.get("/letters")).status_code == 401
    assert (await client.post("/letters", json=_letter("RX-0006"), headers=HEAD)).status_code == 403
    assert (await client.post("/letters", json=_letter("RX-0006"), headers=UNIT)).status_code == 403
    assert (await client.get("/letters", headers=UNIT)).status_code == 403
    assert (await client.get(f"/letters/{letter_id}", headers=UNIT)).status_code == 403
    assert (await client.get(f"/letters/{letter_id}", headers=HEAD)).status_code == 200
    assert (
        await client.get("/letters/ltr_01ARZ3NDEKTSV4RRFFQ69G5FAV", headers=HEAD)
    ).status_code == 404
    assert (await client.get("/letters/not-an-id", headers=HEAD)).status_code == 422


async def test_a_service_account_reads_the_original_as_received(setup: Any) -> None:
    # Publishing files the original, its checksum and the attachments in the archive (Art. 16).
    _, client, _, _, _ = setup
    attachments = [{"name": "收据.jpg", "url": "https://example.com/a/1.jpg"}, {"name": "合同.pdf"}]
    body = orjson.dumps(_letter("RX-0007", attachments=attachments))
    created = await client.post(
        "/letters", content=body, headers={**CLERK, "Content-Type": "application/json"}
    )
    letter_id = created.json()["id"]
    service = auth(Role.service, user_id="service:publishing")
    shown = await client.get(f"/letters/{letter_id}", headers=service)
    assert shown.status_code == 200, shown.text
    original = shown.json()
    assert original["raw_json"] == body.decode()
    assert original["raw_sha256"] == hashlib.sha256(body).hexdigest()
    assert original["attachments"] == [
        {"name": "收据.jpg", "url": "https://example.com/a/1.jpg"},
        {"name": "合同.pdf", "url": None},
    ]
    # The service account reads one letter; it lists nothing and registers nothing.
    assert (await client.get("/letters", headers=service)).status_code == 403
    assert (
        await client.post("/letters", json=_letter("RX-0008"), headers=service)
    ).status_code == 403
    missing = await client.get("/letters/ltr_01ARZ3NDEKTSV4RRFFQ69G5FAV", headers=service)
    assert missing.status_code == 404


async def test_lists_filter_and_page(setup: Any) -> None:
    _, client, _, clock, _ = setup
    for n in range(5):
        source = "hotline" if n % 2 == 0 else "other"
        await client.post("/letters", json=_letter(f"RX-1{n}", source=source), headers=CLERK)
        clock.advance(timedelta(hours=1))
    pages: list[list[str]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/letters", params=params, headers=HEAD)).json()
        pages.append([item["external_id"] for item in page["items"]])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    hotline = (await client.get("/letters", params={"source": "hotline"}, headers=HEAD)).json()
    window = (
        await client.get(
            "/letters",
            params={
                "received_from": "2026-10-09T11:00:00+08:00",
                "received_to": "2026-10-09T13:00:00+08:00",
            },
            headers=HEAD,
        )
    ).json()
    manual = (await client.get("/letters", params={"platform": "manual"}, headers=HEAD)).json()
    gov = (await client.get("/letters", params={"platform": "gov_mailbox"}, headers=HEAD)).json()
    bad_platform = await client.get("/letters", params={"platform": "$ne"}, headers=HEAD)
    bad_cursor = await client.get("/letters", params={"cursor": "bm90IGEgY3Vyc29y"}, headers=HEAD)
    naive = await client.get(
        "/letters", params={"received_from": "2026-10-09T11:00:00"}, headers=HEAD
    )
    assert pages == [["RX-14", "RX-13"], ["RX-12", "RX-11"], ["RX-10"]]
    assert [i["external_id"] for i in hotline["items"]] == ["RX-14", "RX-12", "RX-10"]
    assert [i["external_id"] for i in window["items"]] == ["RX-12", "RX-11"]
    assert len(manual["items"]) == 5
    assert gov["items"] == []
    assert bad_platform.status_code == 422
    assert bad_cursor.status_code == 422
    assert naive.status_code == 422


async def test_the_api_is_documented(setup: Any) -> None:
    _, client, _, _, _ = setup
    spec = (await client.get("/openapi.json")).json()
    paths = spec["paths"]
    for path in (
        "/letters",
        "/letters/{letter_id}",
        "/platforms",
        "/platforms/{platform_id}/poll",
        "/quarantine",
        "/quarantine/{item_id}",
        "/quarantine/{item_id}/reprocess",
    ):
        assert path in paths
        for operation in paths[path].values():
            assert operation["summary"]
            assert operation["tags"]
            assert "401" in operation["responses"]
    assert "examples" in spec["components"]["schemas"]["ManualLetterIn"]
    assert {t["name"] for t in spec["tags"]} >= {"letters", "platforms", "quarantine"}
