"""A unit at work on a letter: handler, contact, assisting input, the reply and its approvals.

The handler (经办人员) does the work, the unit head (处室负责人) names the handler and approves
first, the unit leader (分管委领导) approves second (Art. 14, 21, 29). Reminders are answered on
the deadlines service (Art. 27).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from devkit.actors.people import ActorError, Cast, Json, Urls, act
from shared.events.vocabulary import PublicationMode


class Unit:
    """One unit's three people."""

    def __init__(self, cast: Cast, *, client: httpx.AsyncClient, urls: Urls, unit_id: str) -> None:
        handler, head, leader = cast.staff[unit_id]
        self.unit_id = unit_id
        self.handler_person = handler
        self.handler = cast.api(handler, client=client, urls=urls)
        self.head = cast.api(head, client=client, urls=urls)
        self.leader = cast.api(leader, client=client, urls=urls)

    async def name_handler(self, letter_id: str, *, label: str) -> Json:
        """The unit head names the handler."""
        person = self.handler_person
        return await act(
            self.head,
            letter_id=letter_id,
            action="name_handler",
            method="POST",
            path="/handler",
            body={"user_id": person.user_id, "name": person.name, "phone": "023-63660000"},
            label=label,
        )

    async def contact_writer(self, letter_id: str, *, label: str) -> Json:
        """The handler telephones the writer and records it (Art. 14)."""
        at = datetime.now(UTC) - timedelta(minutes=1)
        return await act(
            self.handler,
            letter_id=letter_id,
            action="record_contact",
            method="POST",
            path="/contact-attempts",
            body={
                "at": at.isoformat(),
                "channel": "phone",
                "outcome": "reached",
                "note": "与来信人电话沟通，进一步了解了来信反映的情况和诉求。",
            },
            label=label,
        )

    async def mark_contact_invalid(self, letter_id: str, *, label: str) -> Json:
        """Art. 14 ¶3: the number is void; the reply is made from the letter alone."""
        return await act(
            self.handler,
            letter_id=letter_id,
            action="mark_contact_invalid",
            method="POST",
            path="/contact-invalid",
            body={"reason": "来信人所留电话为空号，无法取得联系，根据来信内容办理。"},
            label=label,
        )

    async def ask_assist(self, letter_id: str, *, unit_id: str, label: str) -> str:
        """The handler asks an assisting unit for its part; the request's id."""
        letter = await act(
            self.handler,
            letter_id=letter_id,
            action="request_assist",
            method="POST",
            path="/assist-requests",
            body={"unit_id": unit_id, "question": "请就来信涉及贵单位职责的部分提供核查意见。"},
            label=label,
        )
        asked = [r for r in letter["assist_requests"] if r["unit_id"] == unit_id]
        if not asked:
            raise ActorError(f"letter {letter_id}{label}: the assist request to {unit_id} is gone")
        request_id: str = asked[-1]["id"]
        return request_id

    async def answer_assist(self, letter_id: str, *, request_id: str, label: str) -> Json:
        """This (assisting) unit's handler sends its part to the lead unit."""
        return await act(
            self.handler,
            letter_id=letter_id,
            action="answer_assist",
            method="POST",
            path=f"/assist-requests/{request_id}/answer",
            body={"text": "经我单位核查，来信反映的情况基本属实，已配合牵头单位督促整改。"},
            label=label,
        )

    async def draft_reply(
        self,
        letter_id: str,
        *,
        mode: PublicationMode,
        not_public_reason: str | None,
        revision: int,
        label: str,
    ) -> Json:
        """The handler writes the reply's five parts (Art. 29) and proposes the mode."""
        letter = await self.handler.letter(letter_id)
        unit_name = (letter.get("slip") or {}).get("lead_unit_name") or self.unit_id
        deeper = "在上次办理基础上，会同相关单位再次实地核查，" if revision > 1 else ""
        body = {
            "unit": f"重庆市商务委员会{unit_name}",
            "handler": f"{self.handler_person.name}，联系电话023-63660000",
            "investigation": (
                f"收到来信后，我们{deeper}与来信人电话沟通，调阅了相关经营主体的备案资料，"
                "并组织工作人员到现场进行了核查。"
            ),
            "policy_basis": "《重庆市商务委员会公开电子信箱办理工作制度》及相关法律法规的规定",
            "result": "经核查，已责令相关经营主体限期整改，并将持续跟踪整改落实情况。",
            "proposed_mode": mode.value,
            "not_public_reason": not_public_reason,
        }
        return await act(
            self.handler,
            letter_id=letter_id,
            action="draft_reply",
            method="PUT",
            path="/reply",
            body=body,
            label=label,
        )

    async def pass_reply(self, letter_id: str, *, label: str) -> Json:
        """Handler → unit head → unit leader → submitted to the office (`reply.submitted`).

        The handler telephones the writer with the result as the reply goes to the office
        (Art. 14 ¶1); not when the contact details are void (Art. 14 ¶3).
        """
        await act(
            self.handler,
            letter_id=letter_id,
            action="send_reply_for_review",
            method="POST",
            path="/reply/send-for-review",
            label=label,
        )
        for person, action in (
            (self.head, "unit_head_approve"),
            (self.leader, "unit_leader_approve"),
        ):
            await act(
                person,
                letter_id=letter_id,
                action=action,
                method="POST",
                path="/reply/unit-approve",
                body={"comment": "同意报送。"},
                label=label,
            )
        return await act(
            self.handler,
            letter_id=letter_id,
            action="submit_reply",
            method="POST",
            path="/reply/submit",
            body=_writer_informed,
            label=label,
        )

    async def request_extension(self, letter_id: str, *, days: int, label: str) -> str:
        """The unit head asks for more working days (Art. 19 ③); the request's id."""
        letter = await act(
            self.head,
            letter_id=letter_id,
            action="request_extension",
            method="POST",
            path="/extensions",
            body={"reason": "需会同区县相关部门现场核查，时间较长。", "extra_working_days": days},
            label=label,
        )
        pending = [e for e in letter["extensions"] if e["status"] == "pending"]
        if not pending:
            raise ActorError(f"letter {letter_id}{label}: the extension request is not pending")
        extension_id: str = pending[-1]["id"]
        return extension_id

    async def answer_reminder(self, reminder_id: str) -> Json:
        """The unit head answers a reminder (催办) on the deadlines service."""
        answer: Json = await self.head.deadlines.post(
            f"/reminders/{reminder_id}/answer",
            body={"text": "已收到催办，正在加紧办理，将于两个工作日内报送答复。"},
        )
        return answer


def _writer_informed(letter: Json) -> Json:
    """The submission's account of telling the writer the result (none if unreachable)."""
    if letter.get("contact_invalid"):
        return {}
    told = {
        "channel": "phone",
        "at": datetime.now(UTC).isoformat(),
        "note": "已电话告知来信人办理结果。",
    }
    return {"writer_informed": told}
