"""Unit webhooks against a real HTTP receiver: signed, retried, kept in the inbox as well."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from services.routing.app import create_app
from services.routing.notify.dispatcher import RetryPolicy, WebhookDispatcher
from services.routing.notify.webhooks import DeliveryStore, WebhookStore
from shared.auth import Role
from shared.clock import FixedClock
from shared.events import make_event
from shared.events.catalog import ReminderIssued
from shared.mongo import make_client
from tests.routing.admin_harness import (
    Receiver,
    admin,
    admin_stack,
    as_unit,
    routing_settings,
    wait_until,
    webhook_receiver,
)
from tests.routing.harness import ASSIST, LEAD, NOW, OTHER, Desk, Stack
from tests.support import (
    MONGO_URL,
    EventProbe,
    auth,
    delete_exchange_and_queues,
    drop_database,
    eventually,
    running,
    unique_name,
)

SECRET = "unit-webhook-secret-0123456789"
# The receivers listen on the loopback, which webhooks may reach only when the operator allows.
LOOPBACK = ("127.0.0.1",)
KINDS = ("letter.assigned", "extension.approved", "reply.returned", "reminder.issued")


@pytest.fixture(scope="module")
async def stack() -> AsyncIterator[Stack]:
    settings = routing_settings(
        webhook_backoff_base_s=0.05,
        webhook_backoff_max_s=0.2,
        webhook_max_attempts=4,
        webhook_allowed_hosts=LOOPBACK,
    )
    async with admin_stack(settings) as running_stack:
        yield running_stack


async def _register_webhook(stack: Stack, unit: str, url: str, **extra: Any) -> dict[str, Any]:
    response = await stack.client.put(
        f"/units/{unit}/webhook",
        json={"url": url, "secret": SECRET, **extra},
        headers=as_unit(Role.unit_head, unit),
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _signed(body: bytes) -> str:
    return "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()


async def _inbox(stack: Stack, unit: str, letter_id: str) -> list[dict[str, Any]]:
    response = await stack.client.get(
        f"/units/{unit}/inbox", params={"limit": 200}, headers=as_unit(Role.unit_handler, unit)
    )
    assert response.status_code == 200, response.text
    return [n for n in response.json()["items"] if n["letter_id"] == letter_id]


async def _to_every_kind(desk: Desk, letter_id: str) -> None:
    """An extension decision, a returned reply and a reminder (the assignment came first)."""
    asked = await desk.call(
        letter_id,
        "/extensions",
        Role.unit_head,
        {"reason": "需现场核查。", "extra_working_days": 5},
    )
    extension_id = asked["extensions"][0]["id"]
    await desk.call(letter_id, f"/extensions/{extension_id}/approve", Role.office_head)
    await desk.handle_to_submission(letter_id)
    await desk.call(letter_id, "/reply/review/approve", Role.office_clerk)
    await desk.call(
        letter_id,
        "/reply/review/return",
        Role.office_head,
        {"reason": "perfunctory", "comment": "敷衍了事，请重新办理。"},
    )
    reminder = ReminderIssued(
        reminder_id=f"rem_{letter_id}",
        clock_id=f"{letter_id}:handling",
        unit_id=LEAD,
        answer_due=NOW + timedelta(days=1),
        text="请于1个工作日内反馈办理情况。",
    )
    event = make_event(reminder, producer="deadlines", occurred_at=NOW, letter_id=letter_id)
    await desk.stack.probe.publish(event)


def _for_letter(receiver: Receiver, letter_id: str, kind: str) -> list[Any]:
    return [h for h in receiver.delivered(event=kind) if h.json["letter_id"] == letter_id]


async def test_assignments_returns_reminders_and_decisions_reach_the_webhook_signed(
    stack: Stack,
) -> None:
    desk = Desk(stack)
    async with webhook_receiver(fail_first=2) as receiver:
        hook = await _register_webhook(stack, LEAD, receiver.url)
        assert (hook["version"], hook["active"], hook["events"]) == (1, True, [])
        assert "secret" not in hook
        letter_id = await desk.accept_with_clock()
        await _to_every_kind(desk, letter_id)
        await eventually(
            lambda: all(_for_letter(receiver, letter_id, kind) for kind in KINDS),
            what="every kind delivered",
        )
    for hit in receiver.hits:
        assert hit.headers["x-mailbox-signature"] == _signed(hit.body)
        assert hit.headers["x-mailbox-delivery"] == hit.json["delivery_id"]
        assert hit.headers["x-mailbox-event"] == hit.json["event"]
        assert hit.json["unit_id"] == LEAD
    by_delivery: dict[str, list[Any]] = {}
    for hit in receiver.hits:
        by_delivery.setdefault(hit.headers["x-mailbox-delivery"], []).append(hit)
    assert sum(h.status == 500 for h in receiver.hits) == 2
    for tries in by_delivery.values():
        statuses = [h.status for h in tries]
        assert statuses == [500] * (len(tries) - 1) + [200]
        assert [h.headers["x-mailbox-attempt"] for h in tries] == [
            str(n) for n in range(1, len(tries) + 1)
        ]
        assert len({h.body for h in tries}) == 1
    first = receiver.hits[0].headers["x-mailbox-delivery"]
    first_statuses = [h.status for h in by_delivery[first]]
    reminder = _for_letter(receiver, letter_id, "reminder.issued")[0].json
    assert reminder["payload"]["text"] == "请于1个工作日内反馈办理情况。"
    returned = _for_letter(receiver, letter_id, "reply.returned")[0].json
    assert returned["payload"]["reason"] == "perfunctory"

    deliveries = await stack.client.get(
        f"/units/{LEAD}/webhook/deliveries", params={"limit": 200}, headers=admin()
    )
    by_id = {d["id"]: d for d in deliveries.json()["items"]}
    assert by_id[first]["state"] == "delivered"
    assert by_id[first]["attempts"] == len(first_statuses) > 1
    assert [a["status"] for a in by_id[first]["history"]] == first_statuses
    assert by_id[first]["next_attempt_at"] is None

    kinds = {n["kind"] for n in await _inbox(stack, LEAD, letter_id)}
    assert set(KINDS) <= kinds
    assert {n["kind"] for n in await _inbox(stack, ASSIST, letter_id)} >= {"letter.assigned"}
    assisting = await stack.client.get(
        f"/units/{ASSIST}/webhook/deliveries", headers=as_unit(Role.unit_head, ASSIST)
    )
    assert assisting.json()["items"] == []


async def test_a_delivery_that_keeps_failing_ends_failed_and_can_be_sent_again(
    stack: Stack,
) -> None:
    desk = Desk(stack)
    async with webhook_receiver(fail_first=1000) as receiver:
        await _register_webhook(stack, ASSIST, receiver.url, events=["letter.assigned"])
        letter_id = await desk.register()
        await desk.accept_direct(letter_id)

        async def failed() -> dict[str, Any] | None:
            response = await stack.client.get(
                f"/units/{ASSIST}/webhook/deliveries",
                params={"state": "failed"},
                headers=as_unit(Role.unit_head, ASSIST),
            )
            found = [d for d in response.json()["items"] if d["letter_id"] == letter_id]
            return found[0] if found else None

        delivery = await wait_until(failed, what="a failed delivery")
        assert delivery["attempts"] == 4
        assert delivery["last_error"].startswith("HTTP 500")
        assert len(_for_letter(receiver, letter_id, "letter.assigned")) == 0
        receiver.fail_first = 0
        path = f"/units/{ASSIST}/webhook/deliveries/{delivery['id']}/retry"
        handler = await stack.client.post(path, headers=as_unit(Role.unit_handler, ASSIST))
        assert handler.status_code == 403
        again = await stack.client.post(path, headers=as_unit(Role.unit_head, ASSIST))
        assert again.status_code == 200, again.text
        assert again.json()["state"] == "pending"
        await eventually(
            lambda: len(_for_letter(receiver, letter_id, "letter.assigned")) == 1,
            what="the retried delivery",
        )

        async def delivered() -> bool | None:
            response = await stack.client.get(
                f"/units/{ASSIST}/webhook/deliveries/{delivery['id']}", headers=admin()
            )
            return response.json()["state"] == "delivered" or None

        await wait_until(delivered, what="the delivery marked delivered")
        conflict = await stack.client.post(path, headers=as_unit(Role.unit_head, ASSIST))
        assert conflict.status_code == 409


async def test_a_unit_reaches_only_its_own_inbox_and_webhook(stack: Stack) -> None:
    desk = Desk(stack)
    letter_id = await desk.register()
    await desk.accept_direct(letter_id)
    notices = await wait_until(
        lambda: _inbox(stack, LEAD, letter_id), what="the assignment in the inbox"
    )
    notice = next(n for n in notices if n["kind"] == "letter.assigned")
    stranger = as_unit(Role.unit_head, OTHER)
    for method, path in [
        ("GET", f"/units/{LEAD}/inbox"),
        ("POST", f"/units/{LEAD}/inbox/{notice['id']}/read"),
        ("GET", f"/units/{LEAD}/webhook"),
        ("GET", f"/units/{LEAD}/webhook/deliveries"),
    ]:
        response = await stack.client.request(method, path, headers=stranger)
        assert response.status_code == 404, (method, path)
    put = await stack.client.put(
        f"/units/{LEAD}/webhook",
        json={"url": "http://127.0.0.1:9/hook", "secret": SECRET},
        headers=stranger,
    )
    assert put.status_code == 404
    handler = await stack.client.put(
        f"/units/{LEAD}/webhook",
        json={"url": "http://127.0.0.1:9/hook", "secret": SECRET},
        headers=as_unit(Role.unit_handler, LEAD),
    )
    assert handler.status_code == 403
    office = await stack.client.get(f"/units/{LEAD}/inbox", headers=auth(Role.office_clerk))
    assert office.status_code == 200
    unknown = await stack.client.get("/units/no-such-unit/inbox", headers=auth(Role.office_clerk))
    assert unknown.status_code == 404


async def test_notices_are_marked_read_once_and_filtered(stack: Stack) -> None:
    desk = Desk(stack)
    letter_id = await desk.register()
    await desk.accept_direct(letter_id)
    notices = await wait_until(lambda: _inbox(stack, LEAD, letter_id), what="the assignment")
    notice = notices[0]
    assert notice["read_at"] is None
    path = f"/units/{LEAD}/inbox/{notice['id']}/read"
    office = await stack.client.post(path, headers=auth(Role.office_head))
    assert office.status_code == 403
    first = await stack.client.post(path, headers=as_unit(Role.unit_handler, LEAD, "u_li"))
    assert first.status_code == 200, first.text
    assert first.json()["read_by"] == "u_li"
    second = await stack.client.post(path, headers=as_unit(Role.unit_head, LEAD, "u_wang"))
    assert second.json()["read_by"] == "u_li"
    assert second.json()["read_at"] == first.json()["read_at"]
    unread = await stack.client.get(
        f"/units/{LEAD}/inbox",
        params={"unread": "true", "limit": 200},
        headers=as_unit(Role.unit_head, LEAD),
    )
    assert notice["id"] not in [n["id"] for n in unread.json()["items"]]


async def test_webhook_urls_are_http_only_and_versions_are_checked(stack: Stack) -> None:
    unit = OTHER
    for url in ("ftp://127.0.0.1/hook", "file:///etc/passwd", "not a url"):
        response = await stack.client.put(
            f"/units/{unit}/webhook",
            json={"url": url, "secret": SECRET},
            headers=as_unit(Role.unit_head, unit),
        )
        assert response.status_code == 422, url
        assert response.json()["details"]["errors"][0]["field"] == "url"
    short = await stack.client.put(
        f"/units/{unit}/webhook",
        json={"url": "http://127.0.0.1:9/hook", "secret": "short"},
        headers=as_unit(Role.unit_head, unit),
    )
    assert short.status_code == 422
    created = await _register_webhook(stack, unit, "http://127.0.0.1:9/a")
    assert created["version"] == 1
    stale = await stack.client.put(
        f"/units/{unit}/webhook",
        json={"url": "http://127.0.0.1:9/b", "secret": SECRET, "version": 5},
        headers=as_unit(Role.unit_head, unit),
    )
    assert stale.status_code == 409
    moved = await _register_webhook(stack, unit, "http://127.0.0.1:9/b", version=created["version"])
    assert (moved["url"], moved["version"]) == ("http://127.0.0.1:9/b", created["version"] + 1)
    off = await stack.client.delete(f"/units/{unit}/webhook", headers=admin())
    assert off.json()["active"] is False


async def test_a_pending_delivery_is_sent_after_a_restart() -> None:
    # A back-off longer than a shutdown: the retry falls to the next process.
    settings = routing_settings(
        webhook_backoff_base_s=3.0, webhook_backoff_max_s=3.0, webhook_allowed_hosts=LOOPBACK
    )
    probe = EventProbe(settings.exchange_name)
    await probe.start()
    try:
        async with webhook_receiver(fail_first=1) as receiver:
            async with running(create_app(settings, clock=FixedClock(NOW))) as client:
                stack = Stack(client=client, probe=probe, clock=FixedClock(NOW), settings=settings)
                await _register_webhook(stack, LEAD, receiver.url)
                desk = Desk(stack)
                letter_id = await desk.register()
                await desk.accept_direct(letter_id)
                await eventually(lambda: len(receiver.hits) == 1, what="the first attempt")
            assert receiver.hits[0].status == 500
            delivery_id = receiver.hits[0].headers["x-mailbox-delivery"]
            mongo = make_client(MONGO_URL)
            try:
                stored = await mongo[settings.mongo_db]["webhook_deliveries"].find_one(
                    {"_id": delivery_id}
                )
            finally:
                await mongo.close()
            assert stored is not None
            assert (stored["state"], stored["attempts"]) == ("pending", 1)
            async with running(create_app(settings, clock=FixedClock(NOW))):
                await eventually(
                    lambda: len(receiver.delivered()) == 1, timeout_s=20, what="the retry"
                )
        retried = receiver.delivered()[0]
        assert retried.headers["x-mailbox-delivery"] == delivery_id
        assert retried.headers["x-mailbox-attempt"] == "2"
        assert retried.json["letter_id"] == letter_id
    finally:
        await probe.close()
        await delete_exchange_and_queues(settings.exchange_name)
        await drop_database(settings.mongo_db)


async def test_the_dispatcher_stops_when_an_attempt_ends_as_it_is_stopped() -> None:
    # An attempt ending wakes the sweep loop; the stop's cancellation landed in that same
    # turn and was lost, so the routing app's shutdown hung (seen in CI).
    client = make_client(MONGO_URL)
    name = unique_name("routing_stop")
    try:
        db = client[name]
        dispatcher = WebhookDispatcher(
            deliveries=DeliveryStore(db["webhook_deliveries"]),
            webhooks=WebhookStore(db["webhooks"]),
            policy=RetryPolicy(max_attempts=3, base_s=1.0, max_s=1.0),
            timeout_s=1.0,
            poll_interval_s=30.0,
        )
        dispatcher.start()
        await asyncio.sleep(0.2)  # the first sweep has run and the loop idles
        async with asyncio.timeout(5) as bound:
            dispatcher.wake()
            await dispatcher.stop()  # cancels the loop before this turn ends
        assert not bound.expired(), "the stop's cancellation was lost: the loop ran on"
    finally:
        await client.drop_database(name)
        await client.close()
