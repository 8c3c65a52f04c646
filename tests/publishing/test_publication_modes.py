"""Every letter gets its answer on its platform: each publication mode and each notice.

Against the real broker and database, the platform simulator over HTTP and a local SMTP
sink; what arrived is read back from the simulator's `/_admin/uploads`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from shared.events.vocabulary import Person, PublicationMode
from shared.ids import new_id
from tests.publishing.harness import (
    CLERK,
    SECRETS,
    WRITER,
    Stack,
    approved,
    escalated,
    forwarded,
    not_accepted,
    received,
    stack,
)

Env = tuple[Stack, httpx.AsyncClient]

PRIVATE_REPLY = """来信标题：刘德明反映预付卡退款问题
【答复内容】
承办单位：市场秩序处
经办人员：王建国
调查经过：
经办人员联系了刘德明先生（13983451234），并约谈健身房店长陈立军。
政策依据：
《单用途商业预付卡管理办法（试行）》第十四条
处理结果：
商家已于2026年10月15日退款2000元。

答复日期：2026年10月12日"""

PUBLIC_REPLY = (
    "来信标题：刘某反映预付卡退款问题\n来信内容：\n"
    "我叫刘某，身份证500103********1234，住渝中区邹容路×××，"
    "电话139 **** 1234。某健身房店长陈某拒不退款2000元。\n"
    """
【答复内容】
承办单位：市场秩序处
经办人员：王某
调查经过：
经办人员联系了刘某先生（139****1234），并约谈健身房店长陈某。
政策依据：
《单用途商业预付卡管理办法（试行）》第十四条
处理结果：
商家已于2026年10月15日退款2000元。

答复日期：2026年10月12日"""
)


@pytest.fixture(scope="module")
async def env(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Env]:
    async with stack(Path(tmp_path_factory.mktemp("modes"))) as s, s.service() as (_, client):
        yield s, client


async def _published(s: Stack, letter_id: str) -> dict[str, object]:
    events = await s.probe.wait_for("letter.published", letter_id=letter_id)
    return events[0].data


async def test_not_public_is_uploaded_privately_as_written(env: Env) -> None:
    s, client = env
    letter_id, external_id = await s.letter(client)
    await s.probe.publish(approved(letter_id, mode=PublicationMode.not_public))
    data = await _published(s, letter_id)
    assert data["kind"] == "reply"
    assert data["visibility"] == "private"
    assert data["mode"] == "not_public"
    assert data["emailed"] is False
    assert data["upload_id"] == f"{letter_id}:reply:1"
    [upload] = await s.uploads(external_id)
    assert upload["visibility"] == "private"
    assert upload["kind"] == "reply"
    assert upload["title"] == "关于“刘德明反映预付卡退款问题”的答复"
    assert upload["text"] == PRIVATE_REPLY
    assert upload["idempotency_key"] == f"{letter_id}:reply:1"
    assert s.smtp.to(WRITER.email or "") == []


async def test_email_reply_goes_to_the_writer_and_privately_to_the_platform(env: Env) -> None:
    s, client = env
    address = f"writer-{len(s.smtp.messages)}@example.com"
    person = WRITER.model_copy(update={"email": address})
    letter_id, external_id = await s.letter(client, person=person)
    await s.probe.publish(approved(letter_id, mode=PublicationMode.email))
    data = await _published(s, letter_id)
    assert data["visibility"] == "private"
    assert data["mode"] == "email"
    assert data["emailed"] is True
    [upload] = await s.uploads(external_id)
    assert upload["visibility"] == "private"
    assert upload["text"] == PRIVATE_REPLY
    [message] = s.smtp.to(address)
    assert message["Subject"] == "关于“刘德明反映预付卡退款问题”的答复"
    assert message["Message-ID"] == f"<{letter_id}.reply.1@mailbox.publishing>"
    body = message.get_content()
    assert PRIVATE_REPLY in body
    view = (await client.get(f"/uploads/{letter_id}:reply:1", headers=CLERK)).json()
    assert view["email"]["state"] == "sent"
    assert view["email"]["to"] == address


async def test_email_without_an_address_is_recorded_and_uploaded_privately(env: Env) -> None:
    s, client = env
    person = WRITER.model_copy(update={"email": None})
    before = len(s.smtp.messages)
    letter_id, external_id = await s.letter(client, person=person)
    await s.probe.publish(approved(letter_id, mode=PublicationMode.email))
    data = await _published(s, letter_id)
    assert data["visibility"] == "private"
    assert data["emailed"] is False
    [upload] = await s.uploads(external_id)
    assert upload["visibility"] == "private"
    assert len(s.smtp.messages) == before
    view = (await client.get(f"/uploads/{letter_id}:reply:1", headers=CLERK)).json()
    assert view["email"] == {"state": "no_address", "to": None, "sent_at": None, "error": None}


async def test_online_publishes_exactly_the_redacted_letter_and_reply(env: Env) -> None:
    s, client = env
    letter_id, external_id = await s.letter(client)
    await s.probe.publish(approved(letter_id, mode=PublicationMode.online))
    data = await _published(s, letter_id)
    assert data["visibility"] == "public"
    assert data["mode"] == "online"
    [upload] = await s.uploads(external_id)
    assert upload["visibility"] == "public"
    assert upload["title"] == "关于“刘某反映预付卡退款问题”的答复"
    assert upload["text"] == PUBLIC_REPLY
    for secret in SECRETS:
        assert secret not in upload["title"]
        assert secret not in upload["text"]
    view = (await client.get(f"/uploads/{letter_id}:reply:1", headers=CLERK)).json()
    assert view["redacted"] is True
    assert view["findings"] == []


NOTICES = {
    "not_accepted": (
        not_accepted,
        "not_accepted",
        "关于“一个问题”的不受理告知",
        "您好，您的来信属于推销广告，不予受理。\n\n"
        "不受理原因：推销广告（依据《重庆市商务委员会公开电子信箱办理工作制度》第九条）\n"
        "告知日期：2026年10月12日",
    ),
    "forwarded": (
        forwarded,
        "transfer",
        "关于“一个问题”的转办告知",
        "您好，您反映的问题已转交九龙坡区人民政府办理。\n\n"
        "转交单位：九龙坡区人民政府"
        "（依据《重庆市商务委员会公开电子信箱办理工作制度》第十三条 转阅）\n"
        "告知日期：2026年10月12日",
    ),
    "escalated": (
        escalated,
        "transfer",
        "关于“一个问题”的呈办告知",
        "您好，您反映的问题涉及多个部门，已呈交市政府公开信箱办公室协调处理。\n\n"
        "呈交单位：市政府公开信箱办公室"
        "（依据《重庆市商务委员会公开电子信箱办理工作制度》第十三条 呈办）\n"
        "告知日期：2026年10月12日",
    ),
}


@pytest.mark.parametrize("which", sorted(NOTICES))
async def test_each_notice_is_uploaded_privately(env: Env, which: str) -> None:
    s, client = env
    make, kind, title, text = NOTICES[which]
    letter_id, external_id = await s.letter(client, title="一个问题", text="请问某事。")
    await s.probe.publish(make(letter_id))
    data = await _published(s, letter_id)
    assert data["kind"] == kind
    assert data["visibility"] == "private"
    assert data["mode"] is None
    [upload] = await s.uploads(external_id)
    assert upload["kind"] == kind
    assert upload["visibility"] == "private"
    assert upload["title"] == title
    assert upload["text"] == text
    assert upload["idempotency_key"] == f"{letter_id}:{kind}:slp_{letter_id[-10:]}"


async def test_a_reply_before_its_letter_is_retried_until_the_letter_comes(env: Env) -> None:
    s, _ = env
    external_id = "T-LATE-" + str(len(s.probe.events))
    response = await s.sim.admin.post(
        "/_admin/letters",
        json={
            "platform_id": "gov_mailbox",
            "letters": [
                {
                    "external_id": external_id,
                    "title": "迟到的来信",
                    "text": "请问某事。",
                    "submitted_at": "2026-10-12T02:00:00+00:00",
                    "person": {"name": "王五"},
                }
            ],
        },
    )
    response.raise_for_status()
    letter_id = new_id("ltr")
    await s.probe.publish(approved(letter_id, mode=PublicationMode.not_public))
    # The approval fails (no letter yet) and goes to the retry queues; the letter follows.
    await s.probe.publish(
        received(
            letter_id,
            external_id=external_id,
            person=Person(name="王五"),
            title="迟到的来信",
            text="请问某事。",
        )
    )
    await _published(s, letter_id)
    [upload] = await s.uploads(external_id)
    assert upload["title"] == "关于“迟到的来信”的答复"
