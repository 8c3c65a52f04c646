"""Each role is limited to its actions: every other role gets 403.

`ALLOWED` is the specification, written from requirements.md and the regulation rather
than read from the code: per service, endpoint → the roles that may call it. Every
documented endpoint must have an entry. Each endpoint is called, with real ids and a valid
body, by every role not listed (unit roles as members of the letter's own lead unit, so
visibility is not what refuses them) and must answer 403; the listed roles' reads must
pass. Routing's state-dependent rules get their own cases: the assisting unit on the lead
unit's work, and the office's review where each reviewer approves only their own step.
"""

from __future__ import annotations

from typing import Any

import pytest

from shared.auth import Role
from tests.security.conftest import Deployment, Seeded, accept_for, act, register_letter
from tests.security.harness import (
    BUILT,
    MUTATING,
    UNIT_A,
    UNIT_ASSIST,
    Operation,
    concrete_path,
    example_body,
    headers,
    operations,
)

OFFICE = frozenset({Role.office_clerk, Role.office_head, Role.office_leader, Role.principal_leader})
UNITS = frozenset({Role.unit_handler, Role.unit_head, Role.unit_leader})
ADMIN = frozenset({Role.admin})
EVERYONE = frozenset(Role)
OPERATIONAL = frozenset({"/healthz", "/readyz", "/metrics"})

Table = dict[tuple[str, str], frozenset[Role]]

INTAKE: Table = {
    ("GET", "/letters"): OFFICE | ADMIN,
    ("POST", "/letters"): frozenset({Role.office_clerk}),  # Art. 31: the clerk registers
    # Publishing's archiver files the letter as received (Art. 16).
    ("GET", "/letters/{letter_id}"): OFFICE | ADMIN | {Role.service},
    ("GET", "/platforms"): OFFICE | ADMIN,
    ("POST", "/platforms/{platform_id}/poll"): frozenset({Role.office_clerk, Role.admin}),
    ("GET", "/quarantine"): OFFICE | ADMIN,
    ("GET", "/quarantine/{item_id}"): OFFICE | ADMIN,
    ("POST", "/quarantine/{item_id}/reprocess"): frozenset({Role.office_clerk, Role.admin}),
}

_LETTER = "/letters/{letter_id}"
_CLERK = frozenset({Role.office_clerk})
_HEAD = frozenset({Role.office_head})
_UNIT_WORKERS = frozenset({Role.unit_handler, Role.unit_head})
_UNIT_APPROVERS = frozenset({Role.unit_head, Role.unit_leader})
_WEBHOOK_EDITORS = frozenset({Role.unit_head, Role.admin})
ROUTING: Table = {
    ("GET", "/letters"): EVERYONE,  # units: their own only (test_isolation)
    ("GET", "/letters/worklist"): EVERYONE,  # each role its own waiting letters
    ("GET", _LETTER): EVERYONE,
    # The archive's view, whole: not the admin, who reads no writer's data (Art. 3).
    ("GET", f"{_LETTER}/dossier"): OFFICE | {Role.service},
    ("GET", f"{_LETTER}/slip.html"): OFFICE | UNITS | {Role.service},  # names the writer
    # Art. 13: the clerk drafts the slip, the office head approves it.
    ("PUT", f"{_LETTER}/slip"): _CLERK,
    ("POST", f"{_LETTER}/slip/submit"): _CLERK,
    ("POST", f"{_LETTER}/slip/approve"): _HEAD,
    ("POST", f"{_LETTER}/slip/send-back"): _HEAD,
    # Art. 13 转阅/呈办: the office passes the content on and records that it did.
    ("GET", f"{_LETTER}/transfer.html"): OFFICE,
    ("POST", f"{_LETTER}/transfer/sent"): _CLERK | _HEAD,
    # Art. 14: the lead unit names its handler, handles, drafts; its head and leader approve.
    ("POST", f"{_LETTER}/handler"): _UNIT_APPROVERS,
    ("POST", f"{_LETTER}/contact-attempts"): _UNIT_WORKERS,
    ("POST", f"{_LETTER}/contact-invalid"): _UNIT_WORKERS,
    ("POST", f"{_LETTER}/assist-requests"): _UNIT_WORKERS,
    ("POST", f"{_LETTER}/assist-requests/{{request_id}}/answer"): UNITS,
    ("PUT", f"{_LETTER}/reply"): _UNIT_WORKERS,
    ("POST", f"{_LETTER}/reply/send-for-review"): _UNIT_WORKERS,
    ("POST", f"{_LETTER}/reply/unit-approve"): _UNIT_APPROVERS,
    ("POST", f"{_LETTER}/reply/unit-send-back"): _UNIT_APPROVERS,
    ("POST", f"{_LETTER}/reply/submit"): UNITS,
    ("POST", f"{_LETTER}/extensions"): UNITS,  # Art. 19 ③: the unit asks
    # Art. 15, 26: the office reviews (each reviewer their own step) and may return.
    ("POST", f"{_LETTER}/reply/review/approve"): OFFICE,
    ("POST", f"{_LETTER}/reply/review/return"): OFFICE,
    ("POST", f"{_LETTER}/extensions/{{extension_id}}/approve"): _HEAD,
    ("POST", f"{_LETTER}/extensions/{{extension_id}}/refuse"): _HEAD,
    ("POST", f"{_LETTER}/sensitivity"): OFFICE,  # Art. 22
    ("POST", f"{_LETTER}/referral"): frozenset({Role.office_clerk, Role.office_head}),  # Art. 23
    ("POST", f"{_LETTER}/referral/decision"): frozenset({Role.office_leader}),
    ("GET", "/workflow"): EVERYONE,
    ("GET", "/inbox"): OFFICE | UNITS,  # notices quote the letters: not the admin
    ("GET", "/admin/directory"): OFFICE | ADMIN,
    ("POST", "/admin/directory/import"): ADMIN,
    ("GET", "/admin/directory/units"): OFFICE | ADMIN,
    ("POST", "/admin/directory/units"): ADMIN,
    ("GET", "/admin/directory/units/{unit_id}"): OFFICE | ADMIN,
    ("PUT", "/admin/directory/units/{unit_id}"): ADMIN,
    ("POST", "/admin/directory/units/{unit_id}/deactivate"): ADMIN,
    ("POST", "/admin/directory/units/{unit_id}/reactivate"): ADMIN,
    ("GET", "/admin/directory/recipients"): OFFICE | ADMIN,
    ("POST", "/admin/directory/recipients"): ADMIN,
    ("GET", "/admin/directory/recipients/{recipient_id}"): OFFICE | ADMIN,
    ("PUT", "/admin/directory/recipients/{recipient_id}"): ADMIN,
    ("POST", "/admin/directory/recipients/{recipient_id}/deactivate"): ADMIN,
    ("POST", "/admin/directory/recipients/{recipient_id}/reactivate"): ADMIN,
    ("GET", "/admin/rules"): OFFICE | ADMIN,
    ("PUT", "/admin/rules"): frozenset({Role.office_head, Role.admin}),
    ("GET", "/admin/rules/history"): OFFICE | ADMIN,
    ("GET", "/admin/rules/history/{version}"): OFFICE | ADMIN,
    ("GET", "/admin/users"): OFFICE | ADMIN,
    # The handler picker: a unit's head and leader name its handler; the office sees all.
    ("GET", "/admin/units/{unit_id}/handlers"): OFFICE | ADMIN | _UNIT_APPROVERS,
    ("POST", "/admin/users"): ADMIN,
    ("GET", "/admin/users/{user_id}"): OFFICE | ADMIN,
    ("PUT", "/admin/users/{user_id}"): ADMIN,
    ("POST", "/admin/users/{user_id}/deactivate"): ADMIN,
    ("POST", "/admin/users/{user_id}/tokens"): ADMIN,
    ("PUT", "/admin/users/{user_id}/password"): ADMIN,
    ("POST", "/admin/users/{user_id}/unlock"): ADMIN,
    # Signing in takes no token; signing out ends the caller's own token, whoever they are.
    ("POST", "/auth/login"): EVERYONE,
    ("POST", "/auth/password"): EVERYONE,
    ("POST", "/auth/logout"): EVERYONE,
    ("DELETE", "/admin/tokens/{token_id}"): ADMIN,
    ("GET", "/units/{unit_id}/inbox"): OFFICE | UNITS,
    ("POST", "/units/{unit_id}/inbox/{notice_id}/read"): UNITS,  # the office only reads
    ("GET", "/units/{unit_id}/webhook"): OFFICE | UNITS | ADMIN,
    ("PUT", "/units/{unit_id}/webhook"): frozenset({Role.unit_head}),  # not the admin
    ("DELETE", "/units/{unit_id}/webhook"): _WEBHOOK_EDITORS,
    ("GET", "/units/{unit_id}/webhook/deliveries"): OFFICE | UNITS | ADMIN,
    ("GET", "/units/{unit_id}/webhook/deliveries/{delivery_id}"): OFFICE | UNITS | ADMIN,
    ("POST", "/units/{unit_id}/webhook/deliveries/{delivery_id}/retry"): frozenset(
        {Role.unit_head}
    ),
    ("GET", "/search/letters"): EVERYONE - ADMIN,  # units: their own only
}

_REPORTS = OFFICE | ADMIN | {Role.service}
DEADLINES: Table = {
    ("GET", "/letters/{letter_id}/clocks"): EVERYONE,  # units: their own letters only
    ("GET", "/units/{unit_id}/clocks"): EVERYONE,
    ("GET", "/clocks/overdue"): EVERYONE,
    ("GET", "/clocks/{clock_id}"): EVERYONE,
    ("GET", "/reminders"): EVERYONE,
    ("GET", "/reminders/{reminder_id}"): EVERYONE,
    ("POST", "/reminders/{reminder_id}/answer"): UNITS,  # Art. 27: the reminded unit answers
    ("GET", "/assessment"): EVERYONE,
    ("POST", "/assessment"): frozenset({Role.office_head, Role.office_leader}),  # Art. 28
    # Who records a deduction (委办公室, Art. 25) annuls a wrong one.
    ("POST", "/assessment/{item_id}/annul"): frozenset({Role.office_head, Role.office_leader}),
    ("GET", "/assessment/scores"): EVERYONE,
    ("GET", "/letters/{letter_id}/supervision"): EVERYONE,  # units: their own letters only
    ("GET", "/calendar/{year}"): EVERYONE,
    ("PUT", "/calendar/overrides/{day}"): ADMIN,
    ("DELETE", "/calendar/overrides/{day}"): ADMIN,
    ("PUT", "/calendar/years/{year}"): ADMIN,
    ("GET", "/reports/monthly"): _REPORTS,
    ("GET", "/reports/annual"): _REPORTS,
    ("GET", "/reports/monthly/chart.svg"): _REPORTS,
    ("GET", "/reports/annual/chart.svg"): _REPORTS,
    ("POST", "/admin/sweep"): ADMIN,
    ("POST", "/admin/clock"): ADMIN,
}

_OPERATORS = frozenset({Role.office_clerk, Role.office_head})
PUBLISHING: Table = {
    ("GET", "/letters/{letter_id}"): OFFICE,
    ("GET", "/letters/{letter_id}/preview"): OFFICE,
    ("POST", "/letters/{letter_id}/preview"): OFFICE,
    ("POST", "/preview"): OFFICE,
    ("GET", "/uploads"): OFFICE,
    ("GET", "/uploads/{upload_id}"): OFFICE,
    ("POST", "/uploads/{upload_id}/retry"): _OPERATORS,
    ("POST", "/uploads/{upload_id}/delivered"): _OPERATORS,  # Art. 31: the office calls back
    ("GET", "/archive"): OFFICE,
    ("GET", "/archive/export"): OFFICE,
    ("POST", "/archive/run"): _OPERATORS,
    ("GET", "/archive/{letter_id}"): OFFICE,
    ("GET", "/archive/{letter_id}/record.html"): OFFICE,
}

# Every service's dead letters (`shared/dead_letters_api.py`): the admin runs the system.
DEAD_LETTERS: Table = {
    ("GET", "/operations/dead-letters"): ADMIN,
    ("POST", "/operations/dead-letters/replay"): ADMIN,
}
ALLOWED: dict[str, Table] = {
    "intake": INTAKE | DEAD_LETTERS,
    "routing": ROUTING | DEAD_LETTERS,
    "deadlines": DEADLINES | DEAD_LETTERS,
    "publishing": PUBLISHING | DEAD_LETTERS,
}


def allowed_roles(op: Operation) -> frozenset[Role]:
    """The roles that may call the operation (all of them for an unlisted one)."""
    return ALLOWED.get(op.service, {}).get(op.key, EVERYONE)


# Who calls an endpoint in the tests that need it to get past the role check: the first
# role of this order the endpoint allows.
PREFERENCE = (
    Role.office_clerk,
    Role.office_head,
    Role.admin,
    Role.unit_head,
    Role.unit_handler,
    Role.office_leader,
    Role.principal_leader,
    Role.unit_leader,
    Role.service,
)


def caller_role(op: Operation) -> Role:
    """A role the endpoint lets through (the office's or the admin's where it can)."""
    allowed = allowed_roles(op)
    return next(role for role in PREFERENCE if role in allowed)


def _checked(service: str, deployed: Deployment) -> list[Operation]:
    return [op for op in operations(service, deployed.apps[service]) if op.path not in OPERATIONAL]


@pytest.mark.parametrize("service", BUILT)
def test_the_table_names_every_documented_endpoint(deployed: Deployment, service: str) -> None:
    documented = {op.key for op in _checked(service, deployed)}
    table = set(ALLOWED[service])
    assert not documented - table, f"{service}: give these endpoints their roles in ALLOWED"
    assert not table - documented, f"{service}: ALLOWED names endpoints that are gone"


async def _call(
    deployed: Deployment, seeded: Seeded, op: Operation, role: Role, **extra: Any
) -> tuple[int, Any]:
    openapi = deployed.apps[op.service].openapi()
    response = await deployed.client(op.service).request(
        op.method,
        concrete_path(op, seeded.path_ids(op.service)),
        json=example_body(openapi, op),
        headers=headers(role, **extra),
    )
    ctype = response.headers.get("content-type", "")
    return response.status_code, response.json() if "json" in ctype else None


@pytest.mark.parametrize("service", BUILT)
async def test_every_other_role_is_refused_with_403(
    deployed: Deployment, seeded: Seeded, service: str
) -> None:
    failures = []
    refused = 0
    for op in _checked(service, deployed):
        for role in sorted(EVERYONE - allowed_roles(op)):
            status, body = await _call(deployed, seeded, op, role)
            refused += 1
            if status != 403 or (body or {}).get("error") != "forbidden":
                failures.append(f"{op.method} {op.path} as {role}: {status} {body}")
    assert refused > 0
    assert not failures, f"{len(failures)} of {refused} not refused:\n" + "\n".join(failures)


@pytest.mark.parametrize("service", BUILT)
async def test_the_allowed_roles_read(deployed: Deployment, seeded: Seeded, service: str) -> None:
    failures = []
    for op in _checked(service, deployed):
        if op.method in MUTATING:
            continue  # the services' own tests take these actions
        for role in sorted(allowed_roles(op)):
            status, body = await _call(deployed, seeded, op, role)
            if status in (401, 403):
                failures.append(f"{op.method} {op.path} as {role}: {status} {body}")
    assert not failures, "\n".join(failures)


# The lead unit's work; the assisting unit only answers the lead unit's requests (Art. 14).
LEAD_ONLY = [
    ("POST", f"{_LETTER}/handler"),
    ("POST", f"{_LETTER}/contact-attempts"),
    ("POST", f"{_LETTER}/assist-requests"),
    ("PUT", f"{_LETTER}/reply"),
    ("POST", f"{_LETTER}/reply/send-for-review"),
    ("POST", f"{_LETTER}/reply/unit-approve"),
    ("POST", f"{_LETTER}/reply/submit"),
    ("POST", f"{_LETTER}/extensions"),
]


async def test_the_assisting_unit_does_not_do_the_lead_units_work(
    deployed: Deployment, seeded: Seeded
) -> None:
    if "routing" not in BUILT:
        pytest.skip("routing not built")
    ops = {op.key: op for op in operations("routing", deployed.apps["routing"])}
    for key in LEAD_ONLY:
        for role in sorted(allowed_roles(ops[key])):
            status, body = await _call(deployed, seeded, ops[key], role, unit=UNIT_ASSIST)
            assert (status, body["error"]) == (403, "forbidden"), (key, role, body)
    answer = ops[("POST", f"{_LETTER}/assist-requests/{{request_id}}/answer")]
    for role in sorted(UNITS):
        status, body = await _call(deployed, seeded, answer, role, unit=UNIT_A)
        assert (status, body["error"]) == (403, "forbidden"), (role, body)


async def _to_office_head_review(deployed: Deployment) -> str:
    """A letter of UNIT_A handled, approved by its unit, submitted, re-checked by the clerk."""
    letter = await register_letter(deployed, title="预付卡退款投诉（审核）")
    await accept_for(deployed, letter, lead=UNIT_A)
    client = deployed.client("routing")
    openapi = deployed.apps["routing"].openapi()
    ops = {op.key: op for op in operations("routing", deployed.apps["routing"])}
    base = f"/letters/{letter}"
    handler = {"user_id": "u_unit_handler", "name": "李华"}
    contact = {
        "at": deployed.clocks["routing"].now().isoformat(),
        "channel": "phone",
        "outcome": "reached",
    }
    told = {"channel": "phone", "at": contact["at"]}
    reply = example_body(openapi, ops[("PUT", f"{_LETTER}/reply")])
    steps: list[tuple[str, str, Role, dict[str, Any]]] = [
        ("POST", "/handler", Role.unit_head, handler),
        ("POST", "/contact-attempts", Role.unit_handler, contact),
        ("PUT", "/reply", Role.unit_handler, reply),
        ("POST", "/reply/send-for-review", Role.unit_handler, {}),
        ("POST", "/reply/unit-approve", Role.unit_head, {}),
        ("POST", "/reply/unit-approve", Role.unit_leader, {}),
        ("POST", "/reply/submit", Role.unit_handler, {"writer_informed": told}),
        ("POST", "/reply/review/approve", Role.office_clerk, {}),
    ]
    for method, path, role, body in steps:
        await act(client, method, base + path, role=role, body=body)
    return letter


@pytest.fixture(scope="module")
async def at_office_head_review(deployed: Deployment, seeded: Seeded) -> str:
    """A letter waiting for the office head's approval."""
    if "routing" not in BUILT:
        pytest.skip("routing not built")
    letter = await _to_office_head_review(deployed)
    client = deployed.client("routing")
    current = (await client.get(f"/letters/{letter}", headers=headers(Role.office_head))).json()
    assert current["state"] == "office_head_review"
    assert "office_head_approve" in current["allowed_actions"]
    return letter


OTHER_REVIEWERS = (Role.office_clerk, Role.office_leader, Role.principal_leader)
RETURN = {"reason": "off_topic", "comment": "答复未回应诉求。"}


async def _review(deployed: Deployment, letter: str, verb: str, role: Role) -> dict[str, Any]:
    """One review request on the letter's current version; status and error body."""
    client = deployed.client("routing")
    body = RETURN if verb == "return" else {}
    for _ in range(20):  # the version moves while deadlines' clock events come in
        current = (await client.get(f"/letters/{letter}", headers=headers(role))).json()
        response = await client.post(
            f"/letters/{letter}/reply/review/{verb}",
            json={"version": current["version"], **body},
            headers=headers(role),
        )
        if response.json().get("error") != "stale_version":
            return {"status": response.status_code, **response.json()}
    raise AssertionError("the letter kept changing")


async def test_no_other_reviewer_acts_at_the_office_heads_step(
    deployed: Deployment, at_office_head_review: str
) -> None:
    letter = at_office_head_review
    for role in OTHER_REVIEWERS:
        returned = await _review(deployed, letter, "return", role)
        assert (returned["status"], returned["error"]) == (403, "forbidden"), (role, returned)
        assert returned["details"]["allowed_roles"] == [Role.office_head.value]
        approved = await _review(deployed, letter, "approve", role)
        assert (approved["status"], approved["error"]) == (403, "forbidden"), (role, approved)
        assert approved["details"]["allowed_roles"] == [Role.office_head.value]
    client = deployed.client("routing")
    after = (await client.get(f"/letters/{letter}", headers=headers(Role.office_head))).json()
    assert after["state"] == "office_head_review"
    steps = [review["step"] for review in after["reply"]["reviews"]]
    assert steps == ["unit_head", "unit_leader", "office_recheck"]
    assert after["returns"] == []


async def test_another_reviewers_approval_is_forbidden_not_a_state_conflict(
    deployed: Deployment, at_office_head_review: str
) -> None:
    for role in OTHER_REVIEWERS:
        approved = await _review(deployed, at_office_head_review, "approve", role)
        assert (approved["status"], approved["error"]) == (403, "forbidden"), (role, approved)
