"""A letter from arrival to its answer online, worked only through the console's pages in
Debian's Chromium: the clerk's slip, the office head's approval and the printed slip, the
unit's five-part reply (a missing part refused), a stale version shown and recovered, the
review chain, the masked preview, publication, and the platform receiving the answer."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from devkit.actors.people import CLERK, OFFICE_HEAD, OFFICE_LEADER, Person
from devkit.simulator.cli import DEFAULT_ADMIN_TOKEN
from tests.browser.forms import fill, local_now, pdf_pages, send, send_fresh
from tests.browser.harness import LEAD_UNIT, SCREENSHOTS, Deployment, Desk

pytestmark = pytest.mark.timeout(600)
NewDesk = Callable[[], Awaitable[Desk]]
PUBLISHED_TIMEOUT_S = 90.0


async def _desk_of(live: Deployment, desk: NewDesk, person: Person) -> Desk:
    window = await desk()
    await window.sign_in(live.account(person.user_id))
    return window


async def _state(live: Deployment, letter_id: str) -> str:
    letter = await live.api(CLERK).letter(letter_id)
    return str(letter["state"])


def _reply_parts(*, result: str) -> dict[str, str | bool]:
    return {
        "unit": "市商务委市场秩序处",
        "handler": "赵明，联系电话023-63660000",
        "investigation": "我处收到来信后即与来信人电话联系，了解具体情况，并会同区商务委实地核查。",
        "policy_basis": "《单用途商业预付卡管理办法（试行）》第二十条",
        "result": result,
        "proposed_mode": "online",
    }


async def test_a_letter_is_accepted_answered_reviewed_and_published_through_the_pages(
    live: Deployment, desk: NewDesk
) -> None:
    (letter_id,) = await live.put_letters(1, prefix="flow")
    stored = await live.api(CLERK).letter(letter_id)
    writer = dict(stored.get("person") or {})
    path = f"/letters/{letter_id}"

    # The clerk drafts the slip from the suggestion and submits it.
    clerk = await _desk_of(live, desk, CLERK)
    assert await clerk.open(path) == 200
    await clerk.page.wait_for_selector("#slip-units:not([hx-get])")
    await clerk.shot("letter-clerk-slip")
    slip = clerk.page.locator("#form-slip")
    await fill(
        slip,
        {
            "nature": "complaint",
            "accepted": "true",
            "route": "direct",
            "lead_unit_id": LEAD_UNIT,
            "opinion": "来信反映的问题属我委职责范围，建议由市场秩序处牵头直办。",
        },
    )
    assert await send_fresh(clerk.page, "#form-slip", button="保存处理单") == 200
    assert clerk.page.url == live.console + path
    assert await send_fresh(clerk.page, "#form-slip-submit") == 200
    assert await _state(live, letter_id) == "slip_submitted"

    # The office head approves it and prints it (A4, the commission's form).
    head = await _desk_of(live, desk, OFFICE_HEAD)
    await head.open(path)
    approve = head.page.locator("#form-slip-approve")
    await fill(approve, {"comment": "同意。"})
    assert await send_fresh(head.page, "#form-slip-approve") == 200
    assert await _state(live, letter_id) == "assigned"
    assert await head.open(f"{path}/slip/print") == 200
    assert "处理单" in await head.page.inner_text("body")
    await head.shot("slip-print")
    pdf = await head.page.pdf(format="A4", print_background=True)
    assert pdf.startswith(b"%PDF-"), pdf[:16]
    assert len(pdf) > 1000 and pdf_pages(pdf) >= 1
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / "slip-print.pdf").write_bytes(pdf)

    # The unit head names the handler.
    handler, unit_head, unit_leader = live.cast.staff[LEAD_UNIT]
    boss = await _desk_of(live, desk, unit_head)
    await boss.open(path)
    naming = boss.page.locator("#form-handler")
    await fill(naming, {"user_id": handler.user_id, "name": handler.name, "phone": "023-63660000"})
    assert await send_fresh(boss.page, "#form-handler") == 200

    # The handler records the call to the writer and drafts the reply.
    worker = await _desk_of(live, desk, handler)
    await worker.open(path)
    contact = worker.page.locator("#form-contact")
    await fill(contact, {"at": local_now(), "channel": "phone", "outcome": "reached"})
    assert await send_fresh(worker.page, "#form-contact") == 200
    name, phone = writer.get("name", "来信人"), writer.get("phone", "")
    result = f"已电话告知来信人{name}（电话{phone}），商家已退还预付卡余额，来信人表示满意。"
    parts = _reply_parts(result=result)
    reply = worker.page.locator("[data-form=reply]")
    # A part missing: the live check names it, and saving is refused with the text kept.
    await fill(reply, {**parts, "policy_basis": ""})
    await worker.page.wait_for_selector("#reply-missing li[data-part=policy_basis]")
    assert await send(worker.page, reply, button="保存答复") == 422
    assert await reply.locator("[role=alert]").count() == 1
    kept = await worker.page.locator("#reply-investigation").input_value()
    assert kept == parts["investigation"]
    assert (await live.api(CLERK).letter(letter_id)).get("reply") is None
    await worker.shot("reply-editor-missing-part")
    # Complete, the check is satisfied and the reply is saved.
    await fill(worker.page.locator("[data-form=reply]"), parts)
    await worker.page.wait_for_selector("#reply-missing .ok")
    assert (
        await send(worker.page, worker.page.locator("[data-form=reply]"), button="保存答复") == 200
    )
    await worker.shot("reply-editor")

    # A second window of the handler's, opened before an edit made in the first: its save
    # meets a stale version, told beside the form with what was typed kept; sent again, it
    # goes through.
    second = await _desk_of(live, desk, handler)
    await second.open(path)
    await fill(worker.page.locator("[data-form=reply]"), {"result": result + "（第一窗口）"})
    assert (
        await send(worker.page, worker.page.locator("[data-form=reply]"), button="保存答复") == 200
    )
    retyped = result + "（第二窗口修改）"
    await fill(second.page.locator("[data-form=reply]"), {"result": retyped})
    stale = await send(second.page, second.page.locator("[data-form=reply]"), button="保存答复")
    assert stale == 409
    told = await second.page.locator("[data-form=reply] [role=alert]").inner_text()
    assert "刚被他人更新" in told, told
    assert await second.page.locator("#reply-result").input_value() == retyped
    await second.shot("reply-stale-version")
    again = await send(second.page, second.page.locator("[data-form=reply]"), button="保存答复")
    assert again == 200
    saved = (await live.api(CLERK).letter(letter_id))["reply"]
    assert saved["parts"]["result"] == retyped

    # Sent for review; the unit head and the unit leader approve; the handler reports it.
    await worker.open(path)
    assert await send_fresh(worker.page, "[data-form=send_review]") == 200
    for person in (unit_head, unit_leader):
        reviewer = boss if person is unit_head else await _desk_of(live, desk, person)
        await reviewer.open(path)
        assert await send_fresh(reviewer.page, "[data-form=unit_approve]") == 200
    # The form takes minutes (datetime-local); routing refuses a time before the hand-over,
    # so a writer told within the hand-over's minute is recorded once that minute is past.
    handed_over = datetime.fromisoformat(
        str((await live.api(CLERK).letter(letter_id))["decision"]["at"])
    )
    await _wait_past_minute_of(handed_over)
    await worker.open(path)
    report = worker.page.locator("[data-form=submit]")
    await fill(report, {"informed_channel": "phone", "informed_at": local_now()})
    assert await send_fresh(worker.page, "[data-form=submit]") == 200
    assert await _state(live, letter_id) == "office_recheck"

    # The office's chain: each previews the public text; the last agrees to publish online.
    desks = {CLERK.user_id: clerk, OFFICE_HEAD.user_id: head}
    for person in (CLERK, OFFICE_HEAD, OFFICE_LEADER):
        reviewer = desks.get(person.user_id) or await _desk_of(live, desk, person)
        await reviewer.open(path)
        if person is not OFFICE_LEADER:
            await _preview(reviewer, phone=phone)
            approve = reviewer.page.locator("[data-form=review_approve]")
            await fill(approve, {"publication_mode": "online", "comment": "同意。"})
            status = await send_fresh(
                reviewer.page, "[data-form=review_approve]", button="审核通过"
            )
            assert status == 200
            continue
        for _ in range(2):  # the preview's form too may meet a version an event moved on
            await _preview(reviewer, phone=phone)
            await reviewer.shot("reply-preview")
            publish = reviewer.page.locator("[data-form=publish]")
            status = await send(reviewer.page, publish, button="同意公开")
            if status != 409:
                break
            told = await reviewer.page.locator("#replies [role=alert]").first.inner_text()
            assert "刚被他人更新" in told, told
        assert status == 200

    # Publishing uploads the masked answer; the platform (the simulator) has it.
    upload = await _uploaded(live, external_id="flow-0")
    assert (upload["kind"], upload["visibility"]) == ("reply", "public")
    if phone:
        assert phone not in upload["text"]
    if name and len(name) >= 2:
        assert name not in upload["text"]
    await clerk.open(path)
    await clerk.shot("letter-published")


async def _wait_past_minute_of(moment: datetime) -> None:
    """Until the clock's minute is later than `moment`'s."""
    next_minute = moment.replace(second=0, microsecond=0) + timedelta(minutes=1)
    wait_s = (next_minute - datetime.now(UTC)).total_seconds()
    if wait_s > 0:
        await asyncio.sleep(wait_s + 0.5)


async def _preview(reviewer: Desk, *, phone: str) -> None:
    """预览公开文本: the original beside the public text, each mask marked."""
    await reviewer.page.locator("form.preview-form button[type=submit]").click()
    shown = reviewer.page.locator(
        "#reply-preview table.side-by-side, #reply-preview [role=alert]"
    ).first
    await shown.wait_for()
    table = reviewer.page.locator("#reply-preview table.side-by-side")
    if not await table.count():
        await reviewer.shot("reply-preview-refused")
        pytest.fail("the preview was refused: " + await shown.inner_text())
    assert await table.locator("td.masked mark.mask").count() >= 1
    masked = await table.locator("td.masked").all_inner_texts()
    if phone:
        assert not any(phone in text for text in masked), masked


async def _uploaded(live: Deployment, *, external_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + PUBLISHED_TIMEOUT_S
    while True:
        answer = await live.client.get(
            live.urls.simulator + "/_admin/uploads",
            headers={"Authorization": f"Bearer {DEFAULT_ADMIN_TOKEN}"},
        )
        assert answer.status_code == 200, answer.text
        for upload in answer.json()["uploads"]:
            if upload["external_id"] == external_id:
                return dict(upload)
        assert time.monotonic() < deadline, f"no upload for {external_id} on the simulator"
        await asyncio.sleep(1.0)
