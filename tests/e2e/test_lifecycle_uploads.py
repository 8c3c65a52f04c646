"""What the platforms received: one upload per answered letter, its exact text and visibility,
personal data masked where it went public; nothing parked in a dead-letter queue."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import aio_pika
import pytest

from devkit.actors.script import Case
from devkit.demo.scenarios import load_dev_letters
from services.publishing.letters.models import Notice, ReplyParts
from services.publishing.redaction.service import PersonData, RedactionConfig
from services.publishing.uploads.compose import (
    email_text,
    notice_text,
    notice_title,
    reply_text,
    reply_title,
)
from services.publishing.uploads.publication import public_draft
from shared.events.topology import SUBSCRIPTIONS, dead_queue_name
from tests.e2e.conftest import Lifecycle
from tests.e2e.test_lifecycle import PLANS, expected_mode, played
from tests.support import AMQP_URL

pytestmark = pytest.mark.timeout(900)

NOTICE_KINDS = {"not_accepted": "not_accepted", "forwarded": "forwarded", "escalated": "escalated"}


def expected_upload(letter: dict[str, Any]) -> tuple[str, str, str, str]:
    """(kind, visibility, title, text) as the writer must receive them, from routing's record."""
    state_kind = letter["decision"]["outcome"]
    slip = letter["slip"]
    if state_kind in NOTICE_KINDS:
        notice = Notice(
            kind=NOTICE_KINDS[state_kind],
            slip_id=slip["id"],
            text=slip["reply_text"] if state_kind == "not_accepted" else slip["notice_text"],
            reason=slip.get("not_accepted_reason"),
            recipient_id=slip.get("recipient_id"),
            recipient_name=slip.get("recipient_name"),
            decided_at=datetime.fromisoformat(letter["decision"]["at"]),
        )
        return (
            notice.upload_kind,
            "private",
            notice_title(letter["title"], notice),
            notice_text(notice),
        )
    reply = letter["reply"]
    given = reply["parts"]
    parts = ReplyParts(
        unit_name=given["unit"],
        handler_name=given["handler"],
        investigation=given["investigation"],
        policy_basis=given["policy_basis"],
        result=given["result"],
    )
    approved_at = datetime.fromisoformat(reply["approved_at"])
    if reply["mode"] != "online":
        title = letter["title"]
        text = reply_text(parts=parts.fields(), answered_at=approved_at, letter_title=title)
        return "reply", "private", reply_title(title), text
    draft = public_draft(
        letter_title=letter["title"],
        letter_text=letter["text"],
        parts=parts,
        person=PersonData(**(letter.get("person") or {})),
        config=RedactionConfig(),
        answered_at=approved_at,
    )
    assert draft.findings == []
    return "reply", "public", draft.title, draft.text


def only_upload(lifecycle: Lifecycle, *, case: Case) -> dict[str, Any]:
    """The letter's one upload on its platform."""
    uploads = lifecycle.outcome.uploads_of(case)
    assert len(uploads) == 1, [u["idempotency_key"] for u in uploads]
    return uploads[0]


@pytest.mark.parametrize("plan_name", PLANS)
async def test_upload_has_the_exact_text_and_visibility(
    lifecycle: Lifecycle, plan_name: str
) -> None:
    case, letter_id = played(lifecycle, plan_name=plan_name)
    if case.plan.overdue:
        assert lifecycle.outcome.uploads_of(case) == []
        return
    letter = await lifecycle.api().routing.get(f"/letters/{letter_id}")
    upload = only_upload(lifecycle, case=case)
    kind, visibility, title, text = expected_upload(letter)
    assert (upload["kind"], upload["visibility"]) == (kind, visibility)
    assert upload["title"] == title
    assert upload["text"] == text
    # Publishing names an upload by its key, which is also the platform's idempotency key.
    (published,) = lifecycle.probe.of_type("letter.published", letter_id=letter_id)
    assert published.data["upload_id"] == upload["idempotency_key"]
    assert published.data["visibility"] == visibility
    assert published.data["kind"] == kind
    assert letter["publications"][0]["upload_id"] == upload["idempotency_key"]
    if kind == "reply":
        assert letter["reply"]["mode"] == expected_mode(case.plan).value


@pytest.mark.parametrize("plan_name", ["direct-online", "returned-resubmitted"])
async def test_online_publication_masks_the_writers_personal_data(
    lifecycle: Lifecycle, plan_name: str
) -> None:
    case, _ = played(lifecycle, plan_name=plan_name)
    upload = only_upload(lifecycle, case=case)
    assert upload["visibility"] == "public"
    published = upload["title"] + "\n" + upload["text"]
    person = case.letter.person
    for field in ("name", "phone", "id_number"):
        value = person.get(field)
        if value:
            assert value not in published, f"the writer's {field} was published"
    name = person.get("name")
    if name and name in case.letter.text:
        assert "某" in published
    rows = {r["id"]: r for r in load_dev_letters()}
    row = rows.get(case.letter.external_id)
    if row is not None:
        for span in row.get("pii") or []:
            if span.get("secret"):
                assert span["text"] not in published, f"{span['kind']} {span['text']!r} published"
        for kept in row.get("keep") or []:
            assert kept in published, f"{kept!r} should have survived redaction"
    handler = lifecycle.outcome.cast.staff[case.final["lead_unit_id"] if case.final else ""][0]
    assert handler.name not in upload["text"], "the handler's name was published unmasked"


async def test_sensitive_and_referred_letters_are_never_public(lifecycle: Lifecycle) -> None:
    api = lifecycle.api()
    for name in ("sensitive", "national-security"):
        case, letter_id = played(lifecycle, plan_name=name)
        upload = only_upload(lifecycle, case=case)
        letter = await api.routing.get(f"/letters/{letter_id}")
        assert upload["visibility"] == "private"
        assert letter["reply"]["mode"] == "not_public"
        assert letter["text"] not in upload["text"]
        if name == "sensitive":
            # The unit proposed online; the Art. 22 mark overrode it.
            assert letter["reply"]["proposed_mode"] == "online"
            assert letter["sensitivity"]["sensitivities"] == ["privacy"]
        else:
            assert letter["locked"] is True
            assert [r["status"] for r in letter["referrals"]] == ["approved"]


async def test_every_answered_letter_uploaded_once(lifecycle: Lifecycle) -> None:
    outcome = lifecycle.outcome
    answered = [c for c in outcome.cases if c.plan.final_state == "archived"]
    keys = [(u["platform_id"], u["external_id"]) for u in outcome.uploads]
    assert len(keys) == len(set(keys)) == len(answered)
    assert set(keys) == {(c.letter.platform, c.letter.external_id) for c in answered}


async def test_no_message_was_parked_in_a_dead_letter_queue(lifecycle: Lifecycle) -> None:
    exchange = lifecycle.deployment.env()["MAILBOX_EXCHANGE_NAME"]
    connection = await aio_pika.connect(AMQP_URL)
    try:
        channel = await connection.channel()
        for service in SUBSCRIPTIONS:
            queue = await channel.declare_queue(dead_queue_name(exchange, service), passive=True)
            assert queue.declaration_result.message_count == 0, f"{service} parked messages"
    finally:
        await connection.close()


async def test_email_reply_reaches_the_writer(lifecycle: Lifecycle) -> None:
    case, letter_id = played(lifecycle, plan_name="email")
    address = case.letter.person["email"]
    upload = only_upload(lifecycle, case=case)
    (mail,) = lifecycle.mail.to(address)
    assert mail.subject == upload["title"]
    assert mail.body.rstrip("\n") == email_text(title=upload["title"], body=upload["text"]).rstrip(
        "\n"
    )
    (published,) = lifecycle.probe.of_type("letter.published", letter_id=letter_id)
    assert published.data["emailed"] is True
    assert published.data["mode"] == "email"
    others = [m for m in lifecycle.mail.messages if address not in m.recipients]
    assert others == [], "only the e-mail reply is sent by e-mail"
