"""存档 (Art. 16): an immutable record per done letter, and the package for the archive room.

Intake's letter as received, routing's dossier and deadlines' clocks and supervision come
from a small HTTP server standing in for the three services (the end-to-end suite runs the
real ones).
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import typer
from fastapi import FastAPI
from typer.testing import CliRunner

from services.publishing import cli as publishing_cli
from services.publishing.archive.export import verify_package
from services.publishing.archive.service import Archiver
from shared.auth import Role
from shared.events.catalog import LetterTransferred
from shared.events.vocabulary import ClockKind, PublicationMode, Route
from shared.mongo import make_client
from tests.publishing.case_data import NOW, event
from tests.publishing.doubles import ATTACHMENTS, deduction, original, reminder, supervision
from tests.publishing.harness import (
    CLERK,
    HEAD,
    UNIT,
    WRITER,
    Stack,
    approved,
    clock,
    clock_closed,
    forwarded,
    not_accepted,
    serve,
    stack,
)
from tests.support import MONGO_URL, token

Env = tuple[Stack, FastAPI, httpx.AsyncClient]
DAY = {"from": "2026-10-12", "to": "2026-10-12"}


@pytest.fixture(scope="module")
async def env(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Env]:
    async with (
        stack(Path(tmp_path_factory.mktemp("archive"))) as s,
        # Periodic passes only at start; closed clocks nudge it; tests also run it by hand.
        s.service(archiver_enabled=True, archive_interval_s=3600) as (app, client),
    ):
        yield s, app, client


async def _published(env: Env, mode: PublicationMode = PublicationMode.online) -> str:
    s, _, client = env
    letter_id, _ = await s.letter(client)
    await s.probe.publish(approved(letter_id, mode=mode))
    await s.probe.wait_for("letter.published", letter_id=letter_id)
    return letter_id


async def _run(client: httpx.AsyncClient, letter_id: str) -> dict[str, Any]:
    response = await client.post("/archive/run", headers=CLERK)
    assert response.status_code == 200
    mine = [o for o in response.json()["outcomes"] if o["letter_id"] == letter_id]
    return mine[0] if mine else {}


async def _stored(s: Stack, letter_id: str) -> dict[str, Any] | None:
    mongo = make_client(MONGO_URL)
    try:
        doc: dict[str, Any] | None = await mongo[s.db]["archives"].find_one({"_id": letter_id})
        return doc
    finally:
        await mongo.close()


async def test_a_letter_is_archived_only_once_routing_and_deadlines_confirm(env: Env) -> None:
    s, _, client = env
    letter_id = await _published(env)
    key = f"{letter_id}:reply:1"
    outcome = await _run(client, letter_id)
    assert outcome["status"] == "not_ready"
    assert "deadlines does not know" in outcome["reason"]
    s.cases.clocks[letter_id] = [clock(letter_id, ClockKind.upload, "running")]
    assert "clocks still running" in (await _run(client, letter_id))["reason"]
    s.cases.clocks[letter_id] = [clock(letter_id, ClockKind.upload, "met")]
    assert "routing does not know" in (await _run(client, letter_id))["reason"]
    s.cases.done(letter_id, upload_ids=[])
    assert "has not recorded" in (await _run(client, letter_id))["reason"]
    s.cases.done(letter_id, upload_ids=[key])
    # Art. 16 files the letter as received and the supervision: both must answer first.
    del s.cases.supervisions[letter_id]
    assert "deadlines has no reminders" in (await _run(client, letter_id))["reason"]
    s.cases.supervisions[letter_id] = supervision(letter_id)
    kept = s.cases.originals.pop(letter_id)
    assert "intake does not know" in (await _run(client, letter_id))["reason"]
    s.cases.originals[letter_id] = {**kept, "raw_json": None}
    assert "no original" in (await _run(client, letter_id))["reason"]
    s.cases.originals[letter_id] = kept
    outcome = await _run(client, letter_id)
    assert outcome["status"] == "archived"
    [archived] = await s.probe.wait_for("letter.archived", letter_id=letter_id)
    assert archived.data["archive_id"] == outcome["archive_id"]
    assert archived.data["sha256"] == outcome["sha256"]
    # The archiver asked as the publishing service account.
    assert set(s.cases.callers) == {("service:publishing", "service")}


async def test_the_record_gathers_the_whole_case_and_matches_its_checksum(env: Env) -> None:
    s, _, client = env
    letter_id = await _published(env)
    key = f"{letter_id}:reply:1"
    s.cases.done(letter_id, upload_ids=[key])
    assert (await _run(client, letter_id))["status"] == "archived"
    response = await client.get(f"/archive/{letter_id}", headers=CLERK)
    assert response.status_code == 200
    body = response.json()
    assert body["verified"] is True
    record = body["record"]
    assert record["schema"] == "mailbox.archive/2"
    assert record["letter_id"] == letter_id
    # The letter as the platform sent it, byte for byte, with intake's checksum.
    sent = s.cases.originals[letter_id]
    assert record["original"]["raw"] == sent["raw_json"]
    assert record["original"]["sha256"] == sent["raw_sha256"]
    assert hashlib.sha256(record["original"]["raw"].encode()).hexdigest() == sent["raw_sha256"]
    assert record["original"]["verbatim"] is True
    assert record["original"]["attachments"] == ATTACHMENTS
    assert record["supervision"] == {"reminders": [], "assessment_items": []}
    # The archive is internal: the writer's data is there, unmasked.
    assert record["letter"]["person"]["name"] == WRITER.name
    assert record["letter"]["person"]["id_number"] == WRITER.id_number
    assert record["slip"]["opinion"] == "拟由市场秩序处办理"
    assert record["approvals"]["slip"][0]["step"] == "office_head"
    assert record["approvals"]["replies"][0]["reviews"][0]["step"] == "office_leader"
    assert record["replies"][0]["revision"] == 1
    assert record["approved_replies"][0]["parts"]["handler_name"] == "王建国"
    [publication] = record["publications"]
    assert publication["upload_id"] == key
    assert publication["state"] == "sent"
    assert publication["visibility"] == "public"
    assert publication["receipt"]["upload_id"].startswith("gov_mailbox-upl-")
    assert "刘德明" not in publication["text"]
    assert {c["kind"] for c in record["clocks"]} == {"acceptance", "handling", "upload"}
    assert [e["action"] for e in record["audit"]["routing"]] == ["slip_drafted"]
    ours = [e["action"] for e in record["audit"]["publishing"]]
    assert {"letter_copied", "publication_planned", "uploaded"} <= set(ours)
    stored = await _stored(s, letter_id)
    assert stored is not None
    assert hashlib.sha256(stored["canonical"].encode()).hexdigest() == stored["sha256"]
    assert orjson.loads(stored["canonical"]) == record
    assert stored["canonical"].encode() == orjson.dumps(record, option=orjson.OPT_SORT_KEYS)
    letter = (await client.get(f"/letters/{letter_id}", headers=CLERK)).json()
    assert letter["archive"]["archive_id"] == body["archive_id"]
    assert letter["uploads"][0]["archived"] is True


async def test_a_second_archive_attempt_changes_nothing(env: Env) -> None:
    s, app, client = env
    letter_id = await _published(env, PublicationMode.not_public)
    s.cases.done(letter_id, upload_ids=[f"{letter_id}:reply:1"])
    first = await _run(client, letter_id)
    assert first["status"] == "archived"
    before = await _stored(s, letter_id)
    # No longer a candidate; asked directly, the archiver leaves the record as it is.
    assert await _run(client, letter_id) == {}
    archiver: Archiver = app.state.archiver
    again = await archiver.archive_letter(letter_id)
    assert again.status == "already"
    assert again.archive_id == first["archive_id"]
    assert await _stored(s, letter_id) == before
    await asyncio.sleep(0.3)
    archived = s.probe.of_type("letter.archived", letter_id=letter_id)
    assert len({e.id for e in archived}) == 1


async def test_a_closed_clock_nudges_the_archiver(env: Env) -> None:
    s, _, client = env
    letter_id, _ = await s.letter(client)
    await s.probe.publish(not_accepted(letter_id))
    [published] = await s.probe.wait_for("letter.published", letter_id=letter_id)
    s.cases.done(letter_id, upload_ids=[published.data["upload_id"]])
    await s.probe.publish(clock_closed(letter_id, ClockKind.acceptance))
    [archived] = await s.probe.wait_for("letter.archived", letter_id=letter_id)
    record = (await client.get(f"/archive/{letter_id}", headers=CLERK)).json()["record"]
    assert record["publications"][0]["kind"] == "not_accepted"
    assert record["decisions"]["notices"][0]["kind"] == "not_accepted"
    assert archived.data["archive_id"] == record["archive_id"]


async def _archived_letter(env: Env) -> str:
    s, _, client = env
    letter_id = await _published(env)
    s.cases.done(letter_id, upload_ids=[f"{letter_id}:reply:1"])
    assert (await _run(client, letter_id))["status"] == "archived"
    return letter_id


async def test_the_export_package_holds_json_html_and_a_manifest_of_checksums(
    env: Env,
) -> None:
    s, app, client = env
    letter_id = await _archived_letter(env)
    response = await client.get("/archive/export", params=DAY, headers=HEAD)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    assert "mailbox-archive-2026-10-12_2026-10-12.zip" in response.headers["content-disposition"]
    package = zipfile.ZipFile(io.BytesIO(response.content))
    root = "mailbox-archive-2026-10-12_2026-10-12"
    manifest = orjson.loads(package.read(f"{root}/manifest.json"))
    assert manifest["period"] == {"from": "2026-10-12", "to": "2026-10-12"}
    listed = {f["path"]: f for f in manifest["files"]}
    for path, entry in listed.items():
        data = package.read(f"{root}/{path}")
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
        assert len(data) == entry["bytes"]
    names = set(package.namelist())
    assert names == {f"{root}/{p}" for p in listed} | {f"{root}/manifest.json"}
    records = {r["letter_id"]: r for r in manifest["records"]}
    assert letter_id in records
    stored = await _stored(s, letter_id)
    assert stored is not None
    assert records[letter_id]["sha256"] == stored["sha256"]
    record_json = package.read(f"{root}/letters/{letter_id}/record.json")
    assert record_json == stored["canonical"].encode()
    page = package.read(f"{root}/letters/{letter_id}/record.html").decode()
    assert page.count("内部资料 注意保密") == 2
    assert "刘德明" in page
    assert str(WRITER.id_number) in page
    assert "市场秩序处" in page and stored["sha256"] in page
    assert "预付卡收据.jpg" in page and "无催办" in page
    assert f"letters/{letter_id}/record.html" in package.read(f"{root}/index.html").decode()
    assert verify_package(io.BytesIO(response.content)) == []
    await app.state.runtime.relay.drain()
    exports = [e async for e in app.state.runtime.db["audit"].find({"action": "archive_exported"})]
    assert exports and exports[-1]["actor"]["user_id"] == "u_head_zhao"


async def test_a_changed_file_in_a_package_is_caught(env: Env) -> None:
    _, _, client = env
    await _archived_letter(env)
    content = (await client.get("/archive/export", params=DAY, headers=CLERK)).content
    original = zipfile.ZipFile(io.BytesIO(content))
    tampered = io.BytesIO()
    with zipfile.ZipFile(tampered, "w") as out:
        for info in original.infolist():
            data = original.read(info)
            if info.filename.endswith("record.html"):
                data = data.replace("内部资料".encode(), "公开资料".encode())
            out.writestr(info, data)
    problems = verify_package(io.BytesIO(tampered.getvalue()))
    assert problems
    assert all(p.startswith("checksum differs: letters/") for p in problems)


async def test_archive_lists_periods_and_refuses_bad_ones(env: Env) -> None:
    _, _, client = env
    letter_id = await _archived_letter(env)
    page = (await client.get("/archive", params={**DAY, "limit": 200}, headers=CLERK)).json()
    assert letter_id in [item["letter_id"] for item in page["items"]]
    other_day = {"from": "2026-10-13", "to": "2026-10-31"}
    assert (await client.get("/archive", params=other_day, headers=CLERK)).json()["items"] == []
    empty = await client.get("/archive/export", params=other_day, headers=CLERK)
    assert verify_package(io.BytesIO(empty.content)) == []
    reversed_period = {"from": "2026-10-31", "to": "2026-10-01"}
    bad = await client.get("/archive/export", params=reversed_period, headers=CLERK)
    assert bad.status_code == 422
    assert (await client.get("/archive/export", params=DAY, headers=UNIT)).status_code == 403
    assert (await client.post("/archive/run", headers=UNIT)).status_code == 403
    assert (await client.get("/archive/ltr_nothing", headers=CLERK)).status_code == 404
    html = await client.get(f"/archive/{letter_id}/record.html", headers=CLERK)
    assert html.status_code == 200
    assert "内部资料" in html.text


async def test_mailbox_archive_export_downloads_and_verifies_the_package(
    env: Env, tmp_path: Path
) -> None:
    _, app, _ = env
    letter_id = await _archived_letter(env)
    cli_app = typer.Typer()
    publishing_cli.register(cli_app)
    runner = CliRunner()
    out = tmp_path / "october.zip"
    async with serve(app, lifespan=False) as url:
        result = await asyncio.to_thread(
            runner.invoke,
            cli_app,
            ["archive", "export", str(out), "--from", "2026-10-01", "--to", "2026-10-31"],
            env={"MAILBOX_PUBLISHING_URL": url, "MAILBOX_TOKEN": token(Role.office_clerk)},
        )
        refused = await asyncio.to_thread(
            runner.invoke,
            cli_app,
            [
                *("archive", "export", str(tmp_path / "no.zip")),
                *("--from", "2026-10-01", "--to", "2026-10-31"),
                *("--url", url, "--token", token(Role.unit_handler, unit_id="u")),
            ],
        )
    assert result.exit_code == 0, result.output
    summary = orjson.loads(result.stdout)
    assert summary["records"] >= 1
    assert summary["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    with zipfile.ZipFile(out) as package:
        assert any(letter_id in name for name in package.namelist())
    assert refused.exit_code == 1
    assert "403" in refused.output
    assert not (tmp_path / "no.zip").exists()
    verified = runner.invoke(cli_app, ["archive", "verify", str(out)])
    assert verified.exit_code == 0
    assert orjson.loads(verified.stdout)["verified"] is True


async def test_a_forwarded_letter_waits_for_its_content_to_be_sent_on(env: Env) -> None:
    # Art. 13 转阅: the case is done only once the office has passed the content on.
    s, _, client = env
    letter_id, _ = await s.letter(client)
    await s.probe.publish(forwarded(letter_id))
    [published] = await s.probe.wait_for("letter.published", letter_id=letter_id)
    s.cases.done(letter_id, upload_ids=[published.data["upload_id"]])
    case = s.cases.dossiers[letter_id]["letter"]
    case["state"] = "forwarded"
    transfer = {
        "route": "forward",
        "recipient_id": "jiulongpo",
        "recipient_name": "九龙坡区人民政府",
        "status": "to_send",
        "decided_at": "2026-10-12T02:00:00Z",
    }
    case["transfer"] = transfer
    outcome = await _run(client, letter_id)
    assert outcome["status"] == "not_ready"
    assert "not sent to 九龙坡区人民政府 yet" in outcome["reason"]
    case["transfer"] = transfer | {
        "status": "sent",
        "channel": "document_exchange",
        "reference": "渝商务办转〔2026〕15号",
        "sent_at": "2026-10-12T03:00:00Z",
    }
    # The transfer's event nudges the archiver: no periodic pass is needed.
    await s.probe.publish(
        event(
            LetterTransferred(
                route=Route.forward,
                recipient_id="jiulongpo",
                recipient_name="九龙坡区人民政府",
                channel="document_exchange",
                reference="渝商务办转〔2026〕15号",
                sent_at=NOW,
            ),
            letter_id,
        )
    )
    await s.probe.wait_for("letter.archived", letter_id=letter_id)
    record = (await client.get(f"/archive/{letter_id}", headers=CLERK)).json()["record"]
    assert record["case"]["transfer"]["reference"] == "渝商务办转〔2026〕15号"


async def test_reminders_answers_and_deductions_are_filed_once_deadlines_recorded_them(
    env: Env,
) -> None:
    # Art. 27/28: the 催办 text, the unit's answer and whether in time, and the deduction of
    # a reminder answered late, are part of what Art. 16 files.
    s, _, client = env
    letter_id = await _published(env)
    s.cases.done(letter_id, upload_ids=[f"{letter_id}:reply:1"])
    answered, late = reminder(letter_id), reminder(letter_id, number=2, in_time=False)
    handling = s.cases.clocks[letter_id][1]
    handling["reminders"] = [answered["id"], late["id"]]
    late_clock = clock(letter_id, ClockKind.reminder_answer, "overdue") | {
        "id": f"{late['id']}.answer",
        "reminder_id": late["id"],
    }
    s.cases.clocks[letter_id].append(late_clock)
    s.cases.supervisions[letter_id] = supervision(letter_id, reminders=[answered])
    outcome = await _run(client, letter_id)
    assert outcome["status"] == "not_ready"
    assert f"does not show reminders ['{late['id']}']" in outcome["reason"]
    s.cases.supervisions[letter_id] = supervision(letter_id, reminders=[answered, late])
    outcome = await _run(client, letter_id)
    assert f"deductions for reminders ['{late['id']}'] are not recorded" in outcome["reason"]
    # Annulled later by the office (Art. 25): filed as deadlines shows it, marked.
    annulment = {"by": "u_head_zhao", "by_name": "赵主任", "at": "2026-10-21T02:00:00Z"}
    item = deduction(letter_id, reminder_id=late["id"]) | {
        "annulled": annulment | {"reason": "单位已按时书面反馈，系统漏记"}
    }
    s.cases.supervisions[letter_id] = supervision(
        letter_id, reminders=[answered, late], items=[item]
    )
    # Bytes that were not UTF-8: intake shows them replaced; the checksum is of the bytes.
    s.cases.originals[letter_id] = original(letter_id, raw=b'{"title": "\xb2\xe2\xca\xd4"}')
    assert (await _run(client, letter_id))["status"] == "archived"

    body = (await client.get(f"/archive/{letter_id}", headers=CLERK)).json()
    assert body["verified"] is True
    filed = body["record"]["supervision"]
    assert [r["id"] for r in filed["reminders"]] == [answered["id"], late["id"]]
    assert filed["reminders"][0]["text"].startswith("催办")
    assert filed["reminders"][0]["answer"]["in_time"] is True
    assert filed["reminders"][1]["answer"]["in_time"] is False
    assert filed["assessment_items"] == [item]
    assert body["record"]["original"]["verbatim"] is False
    page = (await client.get(f"/archive/{letter_id}/record.html", headers=CLERK)).text
    assert "十、催办与考核" in page and "四、来信原件" in page
    assert answered["text"] in page and answered["answer"]["text"] in page
    assert item["reason"] in page and "催办未按时反馈" in page
    assert "已撤销（不计分）：单位已按时书面反馈，系统漏记" in page
    assert s.cases.originals[letter_id]["raw_sha256"] in page
    assert "原样保存" in page and "非 UTF-8" in page
