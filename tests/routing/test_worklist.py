"""待办 (`GET /letters/worklist`): each role sees the letters waiting for its action."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from services.routing.letters.repository import Desk as LetterDesk
from services.routing.letters.worklist import DESK_FIELDS, on_some_desk
from shared.auth import Role
from shared.events.vocabulary import ClockKind
from shared.mongo import make_client
from tests.routing.harness import ASSIST, HANDLER, LEAD, NOW, OTHER, Desk, clock_scheduled
from tests.support import MONGO_URL

QUESTION = {"unit_id": ASSIST, "question": "请提供该商家预付卡备案情况。"}


async def _worklist(desk: Desk, role: Role, unit: str | None = None) -> dict[str, Any]:
    response = await desk.client.get("/letters/worklist", headers=desk.headers(role, unit))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _entry(worklist: dict[str, Any], letter_id: str) -> dict[str, Any] | None:
    return next((i for i in worklist["items"] if i["letter"]["id"] == letter_id), None)


async def test_the_clerk_and_the_head_see_the_slips_waiting_on_them(desk: Desk) -> None:
    letter_id = await desk.register()
    await desk.stack.probe.publish(
        clock_scheduled(
            letter_id, due=NOW + timedelta(hours=20), kind=ClockKind.acceptance, unit_id=None
        )
    )
    await desk.eventually_clock(letter_id, "acceptance")
    entry = _entry(await _worklist(desk, Role.office_clerk), letter_id)
    assert entry is not None
    assert entry["actions"] == ["draft_slip"]
    assert entry["clock"] == "acceptance"
    assert entry["due"] is not None
    assert entry["overdue"] is False
    assert _entry(await _worklist(desk, Role.office_head), letter_id) is None
    slip = {"opinion": "属我委职责，直办。", "nature": "complaint", "accepted": True}
    slip |= {"route": "direct", "lead_unit_id": LEAD}
    await desk.call(letter_id, "/slip", Role.office_clerk, slip, method="PUT")
    await desk.call(letter_id, "/slip/submit", Role.office_clerk)
    assert _entry(await _worklist(desk, Role.office_clerk), letter_id) is None
    entry = _entry(await _worklist(desk, Role.office_head), letter_id)
    assert entry is not None
    assert entry["actions"] == ["approve_slip"]


async def test_a_unit_sees_only_its_own_letters(desk: Desk) -> None:
    letter_id = await desk.register()
    await desk.accept_direct(letter_id, assisting=[ASSIST])
    lead = await _worklist(desk, Role.unit_head, LEAD)
    assert _entry(lead, letter_id) is not None
    assert _entry(lead, letter_id)["actions"] == ["name_handler"]  # type: ignore[index]
    assert _entry(await _worklist(desk, Role.unit_head, OTHER), letter_id) is None
    # An assisting unit has work only once the lead unit asks it something.
    assert _entry(await _worklist(desk, Role.unit_handler, ASSIST), letter_id) is None
    await desk.call(letter_id, "/handler", Role.unit_head, {"user_id": HANDLER, "name": "李华"})
    await desk.call(letter_id, "/assist-requests", Role.unit_handler, QUESTION)
    entry = _entry(await _worklist(desk, Role.unit_handler, ASSIST), letter_id)
    assert entry is not None
    assert entry["actions"] == ["answer_assist"]
    # The lead unit's handler (the named one) now drafts and sends the reply on.
    handler = _entry(await _worklist(desk, Role.unit_handler, LEAD), letter_id)
    assert handler is not None
    assert handler["actions"] == ["send_reply_for_review"]
    assert handler["clock"] == "handling"


async def test_waiting_decisions_reach_the_head_and_the_leader(desk: Desk) -> None:
    letter_id = await desk.accept_with_clock(due_in=timedelta(days=14))
    await desk.call(
        letter_id,
        "/extensions",
        Role.unit_head,
        {"reason": "需会同区县现场核查。", "extra_working_days": 5},
    )
    head = _entry(await _worklist(desk, Role.office_head), letter_id)
    assert head is not None
    assert head["actions"] == ["decide_extension"]
    await desk.call(
        letter_id,
        "/referral",
        Role.office_clerk,
        {"agency": "public_security", "reason": "来信涉及危害国家安全的线索。"},
    )
    leader = _entry(await _worklist(desk, Role.office_leader), letter_id)
    assert leader is not None
    assert leader["actions"] == ["decide_referral"]
    counts = (await _worklist(desk, Role.office_leader))["counts"]
    assert counts["decide_referral"] >= 1


async def test_overdue_letters_come_first(desk: Desk) -> None:
    late = await desk.accept_with_clock(due_in=timedelta(days=-2))
    soon = await desk.accept_with_clock(due_in=timedelta(days=1))
    later = await desk.accept_with_clock(due_in=timedelta(days=9))
    worklist = await _worklist(desk, Role.unit_head, LEAD)
    order = [i["letter"]["id"] for i in worklist["items"]]
    assert order.index(late) < order.index(soon) < order.index(later)
    assert _entry(worklist, late)["overdue"] is True  # type: ignore[index]
    assert _entry(worklist, soon)["overdue"] is False  # type: ignore[index]
    assert worklist["overdue"] >= 1
    assert worklist["truncated"] is False


async def test_a_role_without_work_gets_an_empty_list(desk: Desk) -> None:
    await desk.register()
    worklist = await _worklist(desk, Role.admin)
    assert worklist == {"items": [], "counts": {}, "overdue": 0, "truncated": False}


# ---- 待办's index: small entries of the letters some desk may wait on ---------------------


async def _desk_entries(desk: Desk, *ids: str) -> dict[str, dict[str, Any]]:
    client = make_client(MONGO_URL)
    try:
        db = client[desk.stack.settings.mongo_db]
        found = db["desk"].find({"_id": {"$in": list(ids)}})
        return {str(e["_id"]): e async for e in found}
    finally:
        await client.close()


def _index(db: Any) -> LetterDesk:
    return LetterDesk(db["desk"], letters=db["letters"], keep=on_some_desk, fields=DESK_FIELDS)


async def test_the_index_keeps_open_letters_small_and_drops_closed_ones(desk: Desk) -> None:
    letter_id = await desk.register()
    entry = (await _desk_entries(desk, letter_id))[letter_id]
    assert entry["state"] == "registered"
    assert "text" not in entry and "writer" not in entry  # what a letter says stays out
    slip = {
        "opinion": "建议不予受理。",
        "nature": "other",
        "accepted": False,
        "not_accepted_reason": "repetitive_or_empty",
    }
    await desk.call(letter_id, "/slip", Role.office_clerk, slip, method="PUT")
    await desk.call(letter_id, "/slip/submit", Role.office_clerk)
    assert (await _desk_entries(desk, letter_id))[letter_id]["state"] == "slip_submitted"
    letter = await desk.call(letter_id, "/slip/approve", Role.office_head)
    assert letter["state"] == "not_accepted"
    assert await _desk_entries(desk, letter_id) == {}
    assert _entry(await _worklist(desk, Role.office_clerk), letter_id) is None


async def test_an_older_version_never_replaces_a_newer_entry(desk: Desk) -> None:
    letter_id = await desk.register()
    client = make_client(MONGO_URL)
    try:
        db = client[desk.stack.settings.mongo_db]
        index = _index(db)
        current = await db["letters"].find_one({"_id": letter_id})
        assert current is not None
        stale = {**current, "version": current["version"] - 1, "state": "slip_drafted"}
        await index.sync(stale)  # a writer on another instance, late
        assert (await _desk_entries(desk, letter_id))[letter_id]["state"] == "registered"
        # A closed version older than the entry does not remove it either.
        await index.sync({**stale, "state": "archived"})
        assert letter_id in await _desk_entries(desk, letter_id)
    finally:
        await client.close()


async def test_reconcile_repairs_what_a_crash_between_the_writes_left(desk: Desk) -> None:
    lost = await desk.register()
    client = make_client(MONGO_URL)
    try:
        db = client[desk.stack.settings.mongo_db]
        entry = await db["desk"].find_one({"_id": lost})
        assert entry is not None
        # As if the process died after the letter's write and before its entry's ...
        await db["desk"].delete_one({"_id": lost})
        # ... and an entry whose letter is gone (or closed) meanwhile.
        await db["desk"].insert_one({**entry, "_id": "ltr_gone"})
        assert _entry(await _worklist(desk, Role.office_clerk), lost) is None

        kept, removed = await _index(db).reconcile()

        assert kept >= 1 and removed >= 1
        assert set(await _desk_entries(desk, lost, "ltr_gone")) == {lost}
    finally:
        await client.close()
    assert _entry(await _worklist(desk, Role.office_clerk), lost) is not None
