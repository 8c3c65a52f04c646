"""A unit never sees another unit's letter: to unit B, unit A's letter does not exist (404).

The letter comes the way letters come: `letter.received` on the bus, then the office's slip
through routing's API hands it to UNIT_A (UNIT_ASSIST assisting); deadlines opens its clocks
from routing's events and, once overdue, reminds UNIT_A. Unit B (UNIT_B) then asks for all
of it, through every letter-scoped endpoint; the lead and assisting units are the controls.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from shared.auth import UNIT_ROLES, Role
from tests.security.conftest import Deployment, Seeded
from tests.security.harness import UNIT_A, UNIT_ASSIST, UNIT_B, concrete_path, example_body, headers
from tests.security.harness import operations as documented

NO_SUCH_LETTER = "ltr_01JX0000000000000000000000"
OUTSIDER_ROLES = sorted(UNIT_ROLES)

pytestmark = pytest.mark.parametrize("role", OUTSIDER_ROLES)


def _need(deployed: Deployment, *services: str) -> None:
    missing = [s for s in services if s not in deployed.apps]
    if missing:
        pytest.skip(f"not built yet: {missing}")


async def _get(
    client: httpx.AsyncClient, path: str, role: Role, *, of: str, **params: Any
) -> httpx.Response:
    """GET as `role` of unit `of`, with query parameters."""
    return await client.get(path, params=params, headers=headers(role, unit=of))


def _ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return [str(item.get("letter_id") or item.get("id")) for item in items]


def _reminder_ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [str(item["id"]) for item in response.json()["items"]]


async def test_routing_letter_endpoints_answer_unit_b_as_for_no_letter(
    deployed: Deployment, seeded: Seeded, role: Role
) -> None:
    _need(deployed, "routing")
    assert seeded.letter is not None
    client = deployed.client("routing")
    openapi = deployed.apps["routing"].openapi()
    checked = 0
    for op in documented("routing", deployed.apps["routing"]):
        if "{letter_id}" not in op.path:
            continue
        answers = []
        for letter in (seeded.letter, NO_SUCH_LETTER):
            response = await client.request(
                op.method,
                concrete_path(op, {"letter_id": letter}),
                json=example_body(openapi, op),
                headers=headers(role, unit=UNIT_B),
            )
            # Messages name the id asked for; with it blanked the answers must be equal.
            answers.append((response.status_code, response.text.replace(letter, "<id>")))
        checked += 1
        theirs, nothing = answers
        assert theirs == nothing, f"{op}: unit B tells A's letter from none: {theirs} vs {nothing}"
        assert theirs[0] in (403, 404), f"{op}: {theirs}"
    assert checked >= 20, "routing's letter-scoped endpoints went missing from its OpenAPI"


async def test_routing_letter_and_slip_are_404_to_unit_b_and_shown_to_a(
    deployed: Deployment, seeded: Seeded, role: Role
) -> None:
    _need(deployed, "routing")
    client = deployed.client("routing")
    letter = seeded.letter
    for path in (f"/letters/{letter}", f"/letters/{letter}/slip.html"):
        assert (await _get(client, path, role, of=UNIT_B)).status_code == 404, path
        assert (await _get(client, path, role, of=UNIT_A)).status_code == 200, path
        assert (await _get(client, path, role, of=UNIT_ASSIST)).status_code == 200, path
    # The dossier (with its audit trail) is the office's and the archive's: no unit reads
    # one, so B's answer is the same as for a letter that does not exist.
    for unit in (UNIT_A, UNIT_B):
        dossier = await _get(client, f"/letters/{letter}/dossier", role, of=unit)
        nothing = await _get(client, f"/letters/{NO_SUCH_LETTER}/dossier", role, of=unit)
        assert dossier.status_code == nothing.status_code == 403


async def test_routing_lists_and_search_leave_out_unit_as_letter(
    deployed: Deployment, seeded: Seeded, role: Role
) -> None:
    _need(deployed, "routing")
    client = deployed.client("routing")
    letter = seeded.letter
    assert letter in _ids(await _get(client, "/letters", role, of=UNIT_A, limit=200))
    assert letter not in _ids(await _get(client, "/letters", role, of=UNIT_B, limit=200))
    assert _ids(await _get(client, "/letters", role, of=UNIT_B, unit=UNIT_A)) == []
    search = {"q": "预付卡", "limit": 50}
    assert letter in _ids(await _get(client, "/search/letters", role, of=UNIT_A, **search))
    assert letter not in _ids(await _get(client, "/search/letters", role, of=UNIT_B, **search))
    mixed = {**search, "unit": UNIT_A}
    # Naming another unit narrows to nothing, as the letters' list does.
    assert _ids(await _get(client, "/search/letters", role, of=UNIT_B, **mixed)) == []


async def test_routing_inbox_of_unit_a_is_closed_to_unit_b(
    deployed: Deployment, seeded: Seeded, role: Role
) -> None:
    _need(deployed, "routing")
    client = deployed.client("routing")
    mine = await _get(client, f"/units/{UNIT_A}/inbox", role, of=UNIT_A)
    assert seeded.letter in _ids(mine)
    assert (await _get(client, f"/units/{UNIT_A}/inbox", role, of=UNIT_B)).status_code == 404
    assert (await _get(client, "/inbox", role, of=UNIT_B, unit_id=UNIT_A)).status_code == 403
    assert seeded.letter not in _ids(await _get(client, "/inbox", role, of=UNIT_B))


async def test_deadlines_clocks_of_unit_as_letter_are_404_to_unit_b(
    deployed: Deployment, seeded: Seeded, role: Role
) -> None:
    _need(deployed, "routing", "deadlines")
    client = deployed.client("deadlines")
    letter, clock = seeded.letter, seeded.handling_clock
    for path in (f"/letters/{letter}/clocks", f"/clocks/{clock}", f"/units/{UNIT_A}/clocks"):
        assert (await _get(client, path, role, of=UNIT_A)).status_code == 200, path
        assert (await _get(client, path, role, of=UNIT_B)).status_code == 404, path
    assert (await _get(client, f"/letters/{letter}/clocks", role, of=UNIT_ASSIST)).is_success
    overdue = "/clocks/overdue"
    assert letter in _ids(await _get(client, overdue, role, of=UNIT_A))
    assert letter not in _ids(await _get(client, overdue, role, of=UNIT_B))
    assert (await _get(client, overdue, role, of=UNIT_B, unit=UNIT_A)).status_code == 404
    for path in ("/assessment", "/assessment/scores"):
        mine = await _get(client, path, role, of=UNIT_A, unit=UNIT_A, year=2026)
        assert mine.status_code == 200, mine.text
        theirs = await _get(client, path, role, of=UNIT_B, unit=UNIT_A, year=2026)
        assert theirs.status_code == 404, theirs.text


async def test_deadlines_reminder_to_unit_a_is_404_to_unit_b(
    deployed: Deployment, seeded: Seeded, role: Role
) -> None:
    _need(deployed, "routing", "deadlines")
    client = deployed.client("deadlines")
    reminder = seeded.reminder
    path = f"/reminders/{reminder}"
    assert (await _get(client, path, role, of=UNIT_A)).status_code == 200
    assert (await _get(client, path, role, of=UNIT_B)).status_code == 404
    answer = {"text": "已联系来信人，明日提交答复。"}
    response = await client.post(f"{path}/answer", json=answer, headers=headers(role, unit=UNIT_B))
    assert response.status_code == 404, response.text
    assert reminder in _reminder_ids(await _get(client, "/reminders", role, of=UNIT_A))
    assert reminder not in _reminder_ids(await _get(client, "/reminders", role, of=UNIT_B))
    assert (await _get(client, "/reminders", role, of=UNIT_B, unit=UNIT_A)).status_code == 404
