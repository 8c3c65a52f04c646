"""Who may act on a letter's reply: four eyes, and only the unit's own people as handler.

The person who drafts a reply never approves it, whatever their role (a unit head may draft:
another head approves, or the draft goes back to the handler). The handler a unit names is
a person who exists, is active and belongs to the lead unit (Art. 14 明确具体承办人).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from shared.auth import Role
from tests.security.conftest import Deployment, Seeded, accept_for, call, register_letter
from tests.security.harness import UNIT_A, UNIT_B, headers

HEAD = "u_unit_head"  # the user the tests' unit_head tokens name (tests.support.token)
OTHER_HEAD = "u_unit_head_2"


def _need(deployed: Deployment) -> None:
    if "routing" not in deployed.apps:
        pytest.skip("routing not built yet")


async def _do(
    client: httpx.AsyncClient,
    letter: str,
    path: str,
    *,
    role: Role,
    user: str | None = None,
    body: dict[str, Any] | None = None,
    method: str = "POST",
) -> httpx.Response:
    """One action with the letter's current version, again if it moved meanwhile."""
    who = headers(role, user=user)
    for _ in range(20):  # deadlines' clock events move the version meanwhile
        current = (await client.get(f"/letters/{letter}", headers=who)).json()
        response = await client.request(
            method,
            f"/letters/{letter}{path}",
            json={**(body or {}), "version": current["version"]},
            headers=who,
        )
        if response.status_code != 409 or response.json()["error"] != "stale_version":
            return response
    raise AssertionError(f"{path}: the letter kept changing")


async def _ok(client: httpx.AsyncClient, letter: str, path: str, **kwargs: Any) -> Any:
    response = await _do(client, letter, path, **kwargs)
    assert response.status_code == 200, f"{path}: {response.status_code} {response.text}"
    return response.json()


async def _accepted(deployed: Deployment, title: str) -> str:
    letter = await register_letter(deployed, title=title)
    await accept_for(deployed, letter, lead=UNIT_A)
    return letter


REPLY = {
    "unit": "市商务委市场秩序处",
    "handler": "张处长，联系电话023-63661234",
    "investigation": "接件后我处与来信人电话联系，并会同区商务委实地核查门店经营状况。",
    "policy_basis": "《单用途商业预付卡管理办法（试行）》第二十条",
    "result": "区商务委已约谈经营者并督促其制定退款方案，来信人余额已全额退还。",
    "proposed_mode": "online",
}


async def test_the_unit_head_who_drafted_the_reply_does_not_approve_it(
    deployed: Deployment, seeded: Seeded
) -> None:
    _need(deployed)
    client = deployed.client("routing")
    head = {"id": HEAD, "name": "张处长", "role": "unit_head", "unit_id": UNIT_A}
    other = {"id": OTHER_HEAD, "name": "赵副处长", "role": "unit_head", "unit_id": UNIT_A}
    for user in (head, other):
        await call(client, "POST", "/admin/users", role=Role.admin, body=user, expect=201)
    letter = await _accepted(deployed, "预付卡退款投诉（四眼）")
    # The head names himself handler and does all the work himself.
    await _ok(client, letter, "/handler", role=Role.unit_head, body={"user_id": HEAD, "name": "张"})
    contact = {"at": deployed.clocks["routing"].now().isoformat(), "channel": "phone"}
    await _ok(
        client,
        letter,
        "/contact-attempts",
        role=Role.unit_head,
        body={**contact, "outcome": "reached"},
    )
    await _ok(client, letter, "/reply", role=Role.unit_head, body=REPLY, method="PUT")
    sent = await _ok(client, letter, "/reply/send-for-review", role=Role.unit_head)
    assert sent["reply"]["drafted_by"]["user_id"] == HEAD
    assert "unit_head_approve" not in sent["allowed_actions"]

    refused = await _do(client, letter, "/reply/unit-approve", role=Role.unit_head)
    assert refused.status_code == 403, refused.text
    assert refused.json()["details"]["reason"] == "own_draft"
    assert "drafted this reply" in refused.json()["message"]
    after = (await client.get(f"/letters/{letter}", headers=headers(Role.office_clerk))).json()
    assert (after["state"], after["reply"]["reviews"]) == ("unit_head_review", [])

    seen = await client.get(f"/letters/{letter}", headers=headers(Role.unit_head, user=OTHER_HEAD))
    assert "unit_head_approve" in seen.json()["allowed_actions"]
    approved = await _ok(
        client, letter, "/reply/unit-approve", role=Role.unit_head, user=OTHER_HEAD
    )
    assert approved["state"] == "unit_leader_review"
    assert approved["reply"]["reviews"][0]["by"]["user_id"] == OTHER_HEAD


@pytest.fixture(scope="module")
async def assigned(deployed: Deployment, seeded: Seeded) -> str:
    """A letter assigned to UNIT_A, waiting for its handler."""
    _need(deployed)
    return await _accepted(deployed, "预付卡退款投诉（经办人）")


async def _users(client: httpx.AsyncClient, *users: dict[str, Any]) -> None:
    for user in users:
        await call(client, "POST", "/admin/users", role=Role.admin, body=user, expect=201)


async def test_the_handler_is_an_active_person_of_the_lead_unit(
    deployed: Deployment, assigned: str
) -> None:
    client = deployed.client("routing")
    elsewhere = {"id": "u_b_handler", "name": "外处", "role": "unit_handler", "unit_id": UNIT_B}
    clerk = {"id": "u_clerk_2", "name": "文书", "role": "office_clerk"}
    gone = {"id": "u_a_gone", "name": "离职", "role": "unit_handler", "unit_id": UNIT_A}
    await _users(client, elsewhere, clerk, gone)
    gone_now = await call(client, "GET", "/admin/users/u_a_gone", role=Role.admin)
    await call(
        client,
        "POST",
        "/admin/users/u_a_gone/deactivate",
        role=Role.admin,
        body={"version": gone_now["version"]},
    )
    for user_id, why in (
        ("u_nobody_here", "no user"),
        ("u_b_handler", "not a member"),
        ("u_clerk_2", "not a member"),
        ("u_a_gone", "deactivated"),
    ):
        refused = await _do(
            client,
            assigned,
            "/handler",
            role=Role.unit_head,
            body={"user_id": user_id, "name": "某"},
        )
        assert refused.status_code == 422, (user_id, refused.text)
        errors = refused.json()["details"]["errors"]
        assert errors[0]["field"] == "user_id" and why in errors[0]["reason"], (user_id, errors)
    still = (await client.get(f"/letters/{assigned}", headers=headers(Role.office_clerk))).json()
    assert (still["state"], still["handler"]) == ("assigned", None)

    named = await _ok(
        client,
        assigned,
        "/handler",
        role=Role.unit_head,
        body={"user_id": "u_unit_handler", "name": "李华"},
    )
    assert (named["state"], named["handler"]["user_id"]) == ("in_handling", "u_unit_handler")
