"""The commission's office at work: the handling slip, the review chain, extensions, marks.

Each method is one person's action through routing's API, taken with the version they read
(`actors.act`), so a 409 for a stale version is read again and retried.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from devkit.actors.people import (
    CLERK,
    OFFICE_HEAD,
    OFFICE_LEADER,
    PRINCIPAL,
    ActorError,
    Cast,
    Json,
    Urls,
    act,
)
from shared.events.vocabulary import ReturnReason, Sensitivity

# Which office reviewer approves a reply in which state (Art. 15).
REVIEW_STEPS = {
    "office_recheck": "clerk",
    "office_head_review": "head",
    "office_leader_review": "leader",
    "principal_review": "principal",
}
RETURN_COMMENTS = {
    ReturnReason.off_topic: "答复未回应来信人的具体诉求，请围绕来信反映的问题重新办理。",
    ReturnReason.perfunctory: "调查经过过于简略，请补充核查情况和处理依据后重新报送。",
    ReturnReason.buck_passing: "答复将问题推给其他部门，请按职责牵头协调办理。",
}


class Office:
    """The clerk, the office head, the office leader and the principal leader."""

    def __init__(self, cast: Cast, *, client: httpx.AsyncClient, urls: Urls) -> None:
        self.clerk = cast.api(CLERK, client=client, urls=urls)
        self.head = cast.api(OFFICE_HEAD, client=client, urls=urls)
        self.leader = cast.api(OFFICE_LEADER, client=client, urls=urls)
        self.principal = cast.api(PRINCIPAL, client=client, urls=urls)

    async def draft_slip(self, letter_id: str, *, slip: Mapping[str, Any], label: str) -> Json:
        """The clerk writes (or rewrites) the handling slip."""
        return await act(
            self.clerk,
            letter_id=letter_id,
            action="draft_slip",
            method="PUT",
            path="/slip",
            body=slip,
            label=label,
        )

    async def submit_slip(self, letter_id: str, *, label: str) -> Json:
        """The clerk hands the slip to the office head."""
        return await act(
            self.clerk,
            letter_id=letter_id,
            action="submit_slip",
            method="POST",
            path="/slip/submit",
            label=label,
        )

    async def send_back_slip(self, letter_id: str, *, comment: str, label: str) -> Json:
        """The office head sends the slip back to the clerk."""
        return await act(
            self.head,
            letter_id=letter_id,
            action="send_back_slip",
            method="POST",
            path="/slip/send-back",
            body={"comment": comment},
            label=label,
        )

    async def approve_slip(self, letter_id: str, *, comment: str, label: str) -> Json:
        """The office head approves the slip: the decision's event goes out."""
        return await act(
            self.head,
            letter_id=letter_id,
            action="approve_slip",
            method="POST",
            path="/slip/approve",
            body={"comment": comment},
            label=label,
        )

    async def record_transfer(self, letter_id: str, *, reference: str, label: str) -> Json:
        """The clerk sends the forwarded or escalated letter's content on and records it."""
        return await act(
            self.clerk,
            letter_id=letter_id,
            action="record_transfer",
            method="POST",
            path="/transfer/sent",
            body={"channel": "document_exchange", "reference": reference},
            label=label,
        )

    async def approve_step(self, letter_id: str, *, label: str) -> Json:
        """Whoever reviews the reply in its current state approves it (re-check → leaders)."""
        letter = await self.clerk.letter(letter_id)
        step = REVIEW_STEPS.get(letter["state"])
        if step is None:
            raise ActorError(
                f"letter {letter_id}{label}: no office review step in state '{letter['state']}'"
            )
        reviewer = getattr(self, step)
        action = {
            "clerk": "recheck_approve",
            "head": "office_head_approve",
            "leader": "office_leader_approve",
            "principal": "principal_approve",
        }[step]
        return await act(
            reviewer,
            letter_id=letter_id,
            action=action,
            method="POST",
            path="/reply/review/approve",
            body={"comment": "同意。"},
            label=label,
        )

    async def approve_reply(self, letter_id: str, *, label: str) -> Json:
        """Every office reviewer in turn, until the reply is approved (Art. 15)."""
        letter = await self.clerk.letter(letter_id)
        for _ in range(len(REVIEW_STEPS)):
            if letter["state"] not in REVIEW_STEPS:
                break
            letter = await self.approve_step(letter_id, label=label)
        if letter["state"] in REVIEW_STEPS:
            raise ActorError(f"letter {letter_id}{label}: still '{letter['state']}' after review")
        return letter

    async def return_reply(self, letter_id: str, *, reason: ReturnReason, label: str) -> Json:
        """The clerk's re-check returns the reply to the unit (Art. 26)."""
        return await act(
            self.clerk,
            letter_id=letter_id,
            action="return_reply",
            method="POST",
            path="/reply/review/return",
            body={"reason": reason.value, "comment": RETURN_COMMENTS[reason]},
            label=label,
        )

    async def decide_extension(
        self, letter_id: str, *, extension_id: str, approve: bool, label: str
    ) -> Json:
        """The office head grants the extension as asked, or refuses it with the reason."""
        verb = "approve" if approve else "refuse"
        body = {"comment": "同意延期。"} if approve else {"reason": "延期理由不充分，请按期办结。"}
        return await act(
            self.head,
            letter_id=letter_id,
            action="decide_extension",
            method="POST",
            path=f"/extensions/{extension_id}/{verb}",
            body=body,
            label=label,
        )

    async def mark_sensitive(
        self, letter_id: str, *, sensitivities: tuple[Sensitivity, ...], label: str
    ) -> Json:
        """The clerk marks Art. 22 grounds: the answer is not public from now on."""
        return await act(
            self.clerk,
            letter_id=letter_id,
            action="mark_sensitive",
            method="POST",
            path="/sensitivity",
            body={
                "sensitivities": [s.value for s in sensitivities],
                "reason": "来信涉及来信人家庭及个人隐私，答复不宜公开。",
            },
            label=label,
        )

    async def refer(self, letter_id: str, *, agency: str, label: str) -> Json:
        """Art. 23: the clerk proposes the referral, the office leader approves (locked)."""
        await act(
            self.clerk,
            letter_id=letter_id,
            action="propose_referral",
            method="POST",
            path="/referral",
            body={"agency": agency, "reason": "来信内容涉及国家安全，建议移交有关机关协助调查。"},
            label=label,
        )
        return await act(
            self.leader,
            letter_id=letter_id,
            action="decide_referral",
            method="POST",
            path="/referral/decision",
            body={"approve": True, "comment": "同意移交。"},
            label=label,
        )
