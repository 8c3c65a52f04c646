"""Who reads a writer's data (Art. 3 严格保密): the office, the assigned units, the archive.

The admin runs the system and reads no letter: on every read path — routing's letter, slip,
dossier and search snippets, intake's letter as received and its quarantine — it gets the
case without the writer's name, contacts or the letter's words, and `withheld` says so. The
office and the archive's service account (Art. 16) still get everything. A unit role whose
token names no unit sees nothing anywhere.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest

from shared.auth import ISSUER, UNIT_ROLES, Role
from shared.events import make_event
from shared.events.catalog import LetterReceived
from shared.events.vocabulary import LetterSource, Person
from shared.ids import new_id
from tests.security.conftest import GOV, Deployment, Seeded, accept_for, call
from tests.security.harness import NOW, UNIT_A, UNIT_ASSIST, headers
from tests.support import TEST_SECRET

WRITER = "欧阳晓峰"
TITLE = "预付卡商家跑路无法退款（个人信息）"
PHONE = "13912345678"
ID_NUMBER = "500103199001011234"
ADDRESS = "沙坪坝区天星桥街道学府大道66号"
TEXT = (
    f"我叫{WRITER}，住在{ADDRESS}，身份证号{ID_NUMBER}，电话{PHONE}。我在附近的榴莲健身房"
    "办理了预付卡，充值五千元，现在健身房突然关门，老板联系不上，请商务部门督促商家退款。"
)
SECRETS = (WRITER, PHONE, ID_NUMBER, ADDRESS, "榴莲健身房")


def _need(deployed: Deployment, *services: str) -> None:
    missing = [s for s in services if s not in deployed.apps]
    if missing:
        pytest.skip(f"not built yet: {missing}")


def _leaks(body: str) -> list[str]:
    """Which of the writer's data the answer shows."""
    return [secret for secret in SECRETS if secret in body]


@pytest.fixture(scope="module")
async def letter(deployed: Deployment, seeded: Seeded) -> str:
    """A letter naming its writer in its text, accepted for UNIT_A with UNIT_ASSIST assisting,
    with the slip's summary made from that text."""
    _need(deployed, "routing")
    letter_id = new_id("ltr")
    data = LetterReceived(
        platform=GOV,
        external_id=new_id("ext"),
        source=LetterSource.platform,
        title=TITLE,
        text=TEXT,
        person=Person(name=WRITER, phone=PHONE, address=ADDRESS),
        submitted_at=NOW - timedelta(minutes=20),
        received_at=NOW,
        raw_sha256="0" * 64,
    )
    event = make_event(data, producer="intake", occurred_at=NOW, letter_id=letter_id)
    await deployed.probe.publish(event)
    await deployed.probe.wait_for("letter.classified", letter_id=letter_id)
    await accept_for(deployed, letter_id, lead=UNIT_A, assisting=[UNIT_ASSIST])
    return letter_id


async def _get(client: httpx.AsyncClient, path: str, role: Role, **params: Any) -> httpx.Response:
    return await client.get(path, params=params, headers=headers(role))


async def test_the_admin_reads_a_letter_without_the_writer_or_its_words(
    deployed: Deployment, letter: str
) -> None:
    client = deployed.client("routing")
    office = (await _get(client, f"/letters/{letter}", Role.office_clerk)).json()
    assert office["text"] == TEXT and office["person"]["name"] == WRITER
    assert WRITER in office["slip"]["summary"], "the control: the slip summarises the text"
    assert office["withheld"] == []
    for role, unit in ((Role.unit_handler, UNIT_A), (Role.unit_head, UNIT_ASSIST)):
        unit_view = await client.get(f"/letters/{letter}", headers=headers(role, unit=unit))
        assert unit_view.json()["person"]["phone"] == PHONE, role
        assert unit_view.json()["text"] == TEXT, role

    answer = await _get(client, f"/letters/{letter}", Role.admin)
    assert answer.status_code == 200, answer.text
    admin = answer.json()
    assert _leaks(answer.text) == []
    assert admin["text"] is None and admin["person"] is None and admin["slip"] is None
    # A title is the writer's words too (titles name people and places as often as texts).
    assert admin["title"] is None and office["title"] == TITLE
    assert {"title", "text", "person", "slip", "reply", "contact_attempts"} <= set(
        admin["withheld"]
    )
    listed = (await _get(client, "/letters", Role.admin, limit=200)).json()["items"]
    assert [item["title"] for item in listed if item["id"] == letter] == [None]
    listed = (await _get(client, "/letters", Role.office_clerk, limit=200)).json()["items"]
    assert [item["title"] for item in listed if item["id"] == letter] == [TITLE]
    # The case itself stays: what the admin needs to run the system.
    assert (admin["state"], admin["lead_unit_id"]) == ("assigned", UNIT_A)


async def test_the_admin_gets_no_dossier_and_no_slip_page(
    deployed: Deployment, letter: str
) -> None:
    client = deployed.client("routing")
    # Publishing's archiver files the dossier whole (Art. 16).
    dossier = await _get(client, f"/letters/{letter}/dossier", Role.service)
    assert dossier.json()["letter"]["person"]["name"] == WRITER
    for path in (f"/letters/{letter}/dossier", f"/letters/{letter}/slip.html"):
        answer = await _get(client, path, Role.admin)
        assert answer.status_code == 403, (path, answer.text)
        assert _leaks(answer.text) == []


async def test_the_admin_does_not_search_the_letters(deployed: Deployment, letter: str) -> None:
    client = deployed.client("routing")
    office = await _get(client, "/search/letters", Role.office_clerk, q="榴莲健身房")
    hits = {hit["id"]: hit for hit in office.json()["items"]}
    assert "榴莲" in hits[letter]["snippet"], "the control: the office's hit shows the text"
    # Whether a word (a name, a phone number) stands in some letter is itself the letter's
    # content: the admin, who reads no letter, gets no answer to it at all.
    answer = await _get(client, "/search/letters", Role.admin, q="榴莲健身房")
    assert answer.status_code == 403, answer.text
    assert _leaks(answer.text) == []


async def test_intake_gives_the_admin_no_writer_and_no_raw_record(
    deployed: Deployment, seeded: Seeded
) -> None:
    _need(deployed, "intake")
    client = deployed.client("intake")
    path = f"/letters/{seeded.intake_letter}"
    archive = (await _get(client, path, Role.service)).json()
    assert archive["person"]["name"] == "张某某" and archive["raw"] is not None
    assert archive["withheld"] == []
    answer = await _get(client, path, Role.admin)
    assert answer.status_code == 200, answer.text
    admin = answer.json()
    for secret in ("张某某", "13800000000", "占道经营，影响通行"):
        assert secret not in answer.text, secret
    assert (admin["text"], admin["person"], admin["raw_json"], admin["raw"]) == (None,) * 4
    assert set(admin["withheld"]) == {"title", "text", "person", "attachments", "raw_json", "raw"}
    assert admin["raw_sha256"] == archive["raw_sha256"]


async def test_intake_gives_the_admin_no_quarantined_bytes(
    deployed: Deployment, seeded: Seeded
) -> None:
    _need(deployed, "intake")
    client = deployed.client("intake")
    path = f"/quarantine/{seeded.quarantined}"
    office = (await _get(client, path, Role.office_clerk)).json()
    assert "没有标题的记录" in office["raw_text"]
    answer = await _get(client, path, Role.admin)
    assert answer.status_code == 200, answer.text
    admin = answer.json()
    assert "没有标题的记录" not in answer.text
    assert (admin["raw_text"], admin["raw_base64"]) == (None, None)
    assert admin["withheld"] == ["raw_text", "raw_base64"]
    assert admin["reason"] == office["reason"]


def _unitless(role: Role) -> dict[str, str]:
    """A token of a unit role that names no unit, signed with the deployment's secret."""
    now = datetime.now(UTC)
    claims = {
        "iss": ISSUER,
        "sub": "u_nowhere",
        "name": "无单位",
        "role": role.value,
        "unit": None,
        "jti": new_id("tok"),
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(hours=1)).timestamp()),
    }
    return {"Authorization": f"Bearer {jwt.encode(claims, TEST_SECRET, algorithm='HS256')}"}


UNITLESS_READS = {
    "routing": ["/letters", "/letters/worklist", "/search/letters?q=预付卡", "/inbox"],
    "deadlines": ["/reminders", "/clocks/overdue"],
}


@pytest.mark.parametrize("role", sorted(UNIT_ROLES))
async def test_a_unit_role_without_a_unit_sees_nothing(
    deployed: Deployment, letter: str, role: Role
) -> None:
    listed = await call(deployed.client("routing"), "GET", "/letters", role=Role.office_clerk)
    assert letter in [item["id"] for item in listed["items"]], "the control: it is listed"
    failures = []
    for service, paths in UNITLESS_READS.items():
        if service not in deployed.apps:
            continue
        for path in [*paths, *([f"/letters/{letter}"] if service == "routing" else [])]:
            answer = await deployed.client(service).get(path, headers=_unitless(role))
            if answer.status_code != 401 or letter in answer.text:
                failures.append(f"{service} {path}: {answer.status_code} {answer.text[:200]}")
    assert not failures, "\n".join(failures)
