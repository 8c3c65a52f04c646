"""运维 over intake and publishing: the quarantine intake keeps (a record registered again
from its corrected version), and an upload parked by a platform that keeps failing, sent
again from the console's form."""

from __future__ import annotations

import html
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from shared.events.vocabulary import PublicationMode
from tests.console.harness import Browser
from tests.console.services_harness import ServicesStack, services_stack
from tests.intake.harness import ADMIN as INTAKE_ADMIN
from tests.intake.harness import intake, names_and_probe
from tests.publishing.harness import PLATFORM, Stack, approved
from tests.publishing.harness import stack as publishing_stack

PASSWORD = "床前明月光-疑是地上霜"
BAD_ID = "GOVQ9001"


@dataclass
class World:
    console: ServicesStack
    publishing: Stack
    publishing_client: httpx.AsyncClient
    upload_key: str
    intake_client: httpx.AsyncClient
    sim_admin: httpx.AsyncClient


@pytest.fixture(scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    tmp: Path = tmp_path_factory.mktemp("console-operations")
    async with (
        publishing_stack(tmp) as pub,
        pub.service(upload_max_attempts=3) as (pub_app, pub_client),
        names_and_probe() as (names, _),
        intake(pub.sim, names) as (intake_app, intake_client),
    ):
        bad = {"id": BAD_ID, "text": "没有标题的来信", "submitted_at": "2026-10-12 09:00:00"}
        added = await pub.sim.admin.post(
            "/_admin/letters", json={"platform_id": PLATFORM, "raw": [bad]}
        )
        added.raise_for_status()
        polled = await intake_client.post(f"/platforms/{PLATFORM}/poll", headers=INTAKE_ADMIN)
        assert polled.json()["quarantined"] >= 1, polled.text
        letter_id, _ = await pub.letter(pub_client)
        await pub.faults(error_rate=1.0)  # the platform refuses every upload: parked
        await pub.probe.publish(approved(letter_id, mode=PublicationMode.not_public))
        await pub.probe.wait_for("upload.parked", letter_id=letter_id)
        async with services_stack({"intake": intake_app, "publishing": pub_app}) as console:
            yield World(
                console,
                pub,
                pub_client,
                upload_key=f"{letter_id}:reply:1",
                intake_client=intake_client,
                sim_admin=pub.sim.admin,
            )


@pytest.fixture
async def stack(world: World) -> ServicesStack:
    return world.console


async def _signed_in(stack: ServicesStack, browser: Browser, user_id: str, **person: str) -> str:
    await stack.person(user_id, password=PASSWORD, **person)
    assert (await browser.sign_in(user_id, PASSWORD)).status_code == 303
    return await browser.token("/worklist")


async def test_every_service_answers_and_the_quarantine_lists_the_bad_record(
    world: World, browser: Browser
) -> None:
    await _signed_in(world.console, browser, "admin.quarantine", role="admin")
    health = await browser.get("/operations")
    assert health.text.count('<span class="badge running">就绪</span>') == 4, health.text
    page = await browser.get("/operations/quarantine")
    assert page.status_code == 200, page.text
    row = page.text.split("data-item=")[1].split("</tr>")[0]
    assert BAD_ID in row and "title" in row and "待处理" in row


async def test_the_office_sends_a_parked_upload_again(world: World, browser: Browser) -> None:
    token = await _signed_in(world.console, browser, "clerk.uploads", role="office_clerk")
    key = world.upload_key
    page = await browser.get("/operations/uploads")
    assert page.status_code == 200, page.text
    assert f'data-upload="{key}"' in page.text and "重新发送" in page.text
    await world.publishing.faults()  # the platform is back
    sent = await browser.post(f"/operations/uploads/{key}/retry", {"state": "parked"}, token=token)
    assert (sent.status_code, sent.headers["location"]) == (303, "/operations/uploads?state=parked")
    await world.publishing.upload_state(world.publishing_client, key, "sent")
    # Once sent, another retry is refused (409) and told beside that row.
    again = await browser.post(f"/operations/uploads/{key}/retry", {"state": "parked"}, token=token)
    assert again.status_code == 409 and 'id="uploads-error"' in again.text
    assert key in again.text and "无需再试" in again.text
    refused = await browser.get("/operations/uploads", params={"state": "refused"})
    assert refused.status_code == 200 and "没有这类上传" in refused.text


async def test_the_admin_may_not_list_uploads(world: World, browser: Browser) -> None:
    await _signed_in(world.console, browser, "admin.uploads", role="admin")
    page = await browser.get("/operations/uploads")
    assert page.status_code == 403 and "无权" in page.text


async def _quarantined(world: World, external_id: str) -> str:
    """A record without its title, polled from the platform: intake quarantines it."""
    bad = {"id": external_id, "text": "没有标题的来信", "submitted_at": "2026-10-12 09:00:00"}
    added = await world.sim_admin.post(
        "/_admin/letters", json={"platform_id": PLATFORM, "raw": [bad]}
    )
    added.raise_for_status()
    polled = await world.intake_client.post(f"/platforms/{PLATFORM}/poll", headers=INTAKE_ADMIN)
    assert polled.json()["quarantined"] >= 1, polled.text
    listed = await world.intake_client.get("/quarantine", headers=INTAKE_ADMIN)
    return next(str(i["id"]) for i in listed.json()["items"] if i["external_id"] == external_id)


def _record(page: str) -> str:
    found = re.search(r'<textarea name="record"[^>]*>(.*?)</textarea>', page, re.S)
    assert found is not None, page
    return html.unescape(found.group(1))


async def test_the_clerk_registers_a_quarantined_record_once_corrected(
    world: World, browser: Browser
) -> None:
    token = await _signed_in(world.console, browser, "clerk.quarantine", role="office_clerk")
    item_id = await _quarantined(world, "GOVQ9002")
    listed = await browser.get("/operations/quarantine")
    assert f'href="/operations/quarantine/{item_id}"' in listed.text
    page = await browser.get(f"/operations/quarantine/{item_id}")
    assert page.status_code == 200 and 'id="quarantine-reprocess"' in page.text
    record = json.loads(_record(page.text))  # the office reads the record as received
    assert record["id"] == "GOVQ9002" and "title" not in record
    path = f"/operations/quarantine/{item_id}/reprocess"
    # Still without its title: intake's 422, in words, beside the form, the text kept.
    typed = json.dumps({**record, "text": "补充了内容但仍没有标题"}, ensure_ascii=False)
    still = await browser.post(path, {"record": typed}, token=token)
    assert still.status_code == 422, still.text
    assert 'id="quarantine-reprocess-error"' in still.text and "缺少必填项" in still.text
    assert "补充了内容但仍没有标题" in _record(still.text)
    other = json.dumps({**record, "id": "GOVQ0000", "title": "路灯"}, ensure_ascii=False)
    moved = await browser.post(path, {"record": other}, token=token)
    assert moved.status_code == 422 and "平台编号须与原记录一致" in moved.text
    broken = await browser.post(path, {"record": '{"id": "GOVQ9002",'}, token=token)
    assert broken.status_code == 422 and "不是有效的 JSON" in broken.text
    assert '{"id": "GOVQ9002",' in _record(broken.text)
    fixed = json.dumps({**record, "title": "关于路灯不亮的反映"}, ensure_ascii=False)
    done = await browser.post(path, {"record": fixed}, token=token)
    assert done.status_code == 303, done.text
    assert done.headers["location"] == f"/operations/quarantine/{item_id}?done=registered"
    after = await browser.get(done.headers["location"])
    assert "已登记为新的信件" in after.text and 'href="/letters/' in after.text
    # Once resolved, another submission is refused (409) and told why.
    again = await browser.post(path, {"record": fixed}, token=token)
    assert again.status_code == 409 and "已经处理" in again.text


async def test_a_role_that_may_not_register_is_refused_beside_the_form(
    world: World, browser: Browser
) -> None:
    token = await _signed_in(world.console, browser, "head.quarantine", role="office_head")
    item_id = await _quarantined(world, "GOVQ9003")
    typed = json.dumps({"id": "GOVQ9003", "title": "标题", "text": "内容"}, ensure_ascii=False)
    refused = await browser.post(
        f"/operations/quarantine/{item_id}/reprocess", {"record": typed}, token=token
    )
    assert refused.status_code == 403, refused.text
    assert 'id="quarantine-reprocess-error"' in refused.text and "无权" in refused.text
    assert json.loads(_record(refused.text)) == json.loads(typed)  # typed kept
    handler = world.console.browser()
    try:
        await _signed_in(
            world.console, handler, "unit.quarantine", role="unit_handler", unit_id="market-order"
        )
        shown = await handler.get(f"/operations/quarantine/{item_id}")
        assert shown.status_code == 403 and "无权" in shown.text
    finally:
        await handler.close()


async def test_the_admin_does_not_see_the_writers_record(world: World, browser: Browser) -> None:
    await _signed_in(world.console, browser, "admin.quarantine.item", role="admin")
    item_id = await _quarantined(world, "GOVQ9004")
    page = await browser.get(f"/operations/quarantine/{item_id}")
    assert page.status_code == 200 and 'id="withheld"' in page.text
    assert "没有标题的来信" not in page.text and _record(page.text) == ""
