"""运维 · 死信: each service's parked events over its `/operations/dead-letters` (type, ids,
reason; never the payload), and the admin's requeue of one or all of them through the
console; the services' refusals shown beside the form in Chinese."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aio_pika
import pytest

from shared.auth import Role
from shared.events import make_event
from shared.events.catalog import TokenRevoked
from shared.events.topology import dead_queue_name
from tests.console.harness import Browser
from tests.console.services_harness import ServicesStack, services_stack
from tests.routing.admin_harness import admin
from tests.support import AMQP_URL, auth

PASSWORD = "千山鸟飞绝-万径人踪灭"
SECRET = "tok-payload-must-not-show"  # in the parked event's data, never on a page
WRITER = "张三丰 13800000000"


@pytest.fixture(scope="module")
async def stack() -> AsyncIterator[ServicesStack]:
    async with services_stack() as running_stack:
        yield running_stack


async def _signed_in(stack: ServicesStack, browser: Browser, user_id: str, role: str) -> str:
    await stack.person(user_id, role=role, password=PASSWORD)
    assert (await browser.sign_in(user_id, PASSWORD)).status_code == 303
    return await browser.token("/worklist")


async def _park(stack: ServicesStack) -> str:
    """A valid event parked in routing's dead-letter queue after failing five times, and a
    malformed one (carrying a writer's data) that routing's own consumer parks."""
    exchange = stack.routing.settings.exchange_name
    event = make_event(
        TokenRevoked(token_id=SECRET, expires_at=datetime.now(UTC) + timedelta(hours=1)),
        producer="routing",
        occurred_at=datetime.now(UTC),
        letter_id="ltr_DEADLETTER01",
    )
    connection = await aio_pika.connect(AMQP_URL)
    try:
        channel = await connection.channel()
        await channel.default_exchange.publish(
            aio_pika.Message(
                event.to_json(),
                message_id=event.id,
                type=event.type,
                headers={
                    "x-attempts": 5,
                    "x-last-error": f"RuntimeError: lost the database while reading '{WRITER}'"
                    "\nTraceback (most recent call last): …",
                    "x-parked-at": datetime.now(UTC).isoformat(),
                },
            ),
            routing_key=dead_queue_name(exchange, "routing"),
        )
        topic = await channel.get_exchange(exchange)
        await topic.publish(
            aio_pika.Message(
                f'{{"id": "poison", "name": "{WRITER}"}}'.encode(),
                message_id="poison-1",
                type="letter.received",
            ),
            routing_key="letter.received",
        )
    finally:
        await connection.close()
    return event.id


async def _routing_queue(stack: ServicesStack, count: int) -> dict[str, Any]:
    """Routing's dead letters once `count` are parked (its consumer parks asynchronously)."""
    for _ in range(300):
        answer = await stack.routing.client.get("/operations/dead-letters", headers=admin())
        body: dict[str, Any] = answer.json()
        if body["count"] == count:
            return body
        await asyncio.sleep(0.05)
    raise AssertionError(f"routing's dead letters never reached {count}: {body}")


async def test_the_service_lists_its_dead_letters_to_the_admin_only(
    stack: ServicesStack,
) -> None:
    client = stack.routing.client
    event_id = await _park(stack)
    body = await _routing_queue(stack, 2)
    assert body["queue"].endswith(".dead") and ".routing." in body["queue"]
    items = {i["message_id"]: i for i in body["items"]}
    parked = items[event_id]
    assert parked["type"] == "token.revoked" and parked["letter_id"] == "ltr_DEADLETTER01"
    assert parked["attempts"] == 5 and parked["reason"].startswith("RuntimeError: lost")
    assert "malformed event" in items["poison-1"]["reason"]
    assert SECRET not in str(body) and "13800000000" not in str(body)
    clerk = await client.get("/operations/dead-letters", headers=auth(Role.office_clerk))
    assert clerk.status_code == 403 and clerk.json()["error"] == "forbidden"
    bad = await client.post(
        "/operations/dead-letters/replay", json={"message_id": ""}, headers=admin()
    )
    assert bad.status_code == 422 and "message_id" in bad.text
    gone = await client.post(
        "/operations/dead-letters/replay", json={"message_id": "no-such"}, headers=admin()
    )
    assert gone.status_code == 404 and "no-such" in gone.json()["message"]
    # Left as they were: listing and a refused replay take nothing away.
    assert (await _routing_queue(stack, 2))["count"] == 2
    # Sent back, the valid event is handled; the malformed one is parked again.
    replayed = await client.post("/operations/dead-letters/replay", json={}, headers=admin())
    assert replayed.json() == {"service": "routing", "requeued": 2}
    after = await _routing_queue(stack, 1)
    assert [i["message_id"] for i in after["items"]] == ["poison-1"]


async def test_the_admin_reads_and_requeues_dead_letters_in_the_console(
    stack: ServicesStack, browser: Browser
) -> None:
    await _drain(stack)
    token = await _signed_in(stack, browser, "admin.dead", "admin")
    event_id = await _park(stack)
    await _routing_queue(stack, 2)
    page = await browser.get("/operations/dead-letters")
    assert page.status_code == 200, page.text
    sections = dict(
        re.findall(r'<section class="card" data-service="(\w+)">(.*?)</section>', page.text, re.S)
    )
    assert set(sections) == {"intake", "routing", "deadlines", "publishing"}
    assert "无法连接" in sections["intake"] and "无法连接" in sections["publishing"]
    assert "0 条" in sections["deadlines"] and "没有死信" in sections["deadlines"]
    routing = sections["routing"]
    assert "2 条" in routing and f'data-message="{event_id}"' in routing
    assert "token.revoked" in routing and "ltr_DEADLETTER01" in routing
    assert "RuntimeError: lost the database" in routing and "malformed event" in routing
    assert SECRET not in page.text and "13800000000" not in page.text and "张三丰" not in page.text
    assert "全部重新投递（2 条）" in routing
    one = {"service": "routing", "message_id": event_id}
    sent = await browser.post("/operations/dead-letters/replay", one, token=token)
    assert (sent.status_code, sent.headers["location"]) == (303, "/operations/dead-letters?done=1")
    await _routing_queue(stack, 1)
    done = await browser.get(sent.headers["location"])
    assert "已重新投递 1 条" in done.text and f'data-message="{event_id}"' not in done.text
    # The same one again: it is gone, told beside the form.
    again = await browser.post("/operations/dead-letters/replay", one, token=token)
    assert again.status_code == 404, again.text
    assert 'id="dead-letters-error"' in again.text and "已不在队列中" in again.text
    nowhere = await browser.post(
        "/operations/dead-letters/replay", {"service": "mailroom", "message_id": ""}, token=token
    )
    assert nowhere.status_code == 422 and "请选择一个服务" in nowhere.text
    down = await browser.post(
        "/operations/dead-letters/replay", {"service": "intake", "message_id": ""}, token=token
    )
    assert down.status_code == 503  # the service does not answer: the console's outage page
    everything = {"service": "routing", "message_id": ""}
    sent = await browser.post("/operations/dead-letters/replay", everything, token=token)
    assert sent.headers["location"] == "/operations/dead-letters?done=1"
    assert (
        await browser.post("/operations/dead-letters/replay", one, token=None)
    ).status_code == 403


async def test_the_office_is_refused_the_dead_letters(
    stack: ServicesStack, browser: Browser
) -> None:
    token = await _signed_in(stack, browser, "clerk.dead", "office_clerk")
    page = await browser.get("/operations/dead-letters")
    assert page.status_code == 403 and "无权查看死信" in page.text
    assert 'class="dead-replay' not in page.text
    nav = await browser.get("/operations")
    assert 'href="/operations/dead-letters"' not in nav.text
    refused = await browser.post(
        "/operations/dead-letters/replay", {"service": "routing", "message_id": ""}, token=token
    )
    assert refused.status_code == 403 and 'id="dead-letters-error"' in refused.text
    assert "无权" in refused.text


async def _drain(stack: ServicesStack) -> None:
    """Routing's dead-letter queue empty (an earlier test's malformed event is dropped)."""
    connection = await aio_pika.connect(AMQP_URL)
    try:
        channel = await connection.channel()
        queue = dead_queue_name(stack.routing.settings.exchange_name, "routing")
        await (await channel.declare_queue(queue, passive=True)).purge()
    finally:
        await connection.close()
