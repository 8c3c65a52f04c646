"""The casework forms as routing's requests, what a page shows again after an error, and
the letter's timeline from what routing's letter read shows the person.

Each form posts the letter's `version` as the page read it; routing answers a stale one 409
and the page is shown again with the fresh letter and everything the person typed. The
console checks no rule of routing's: a bad value is routing's 422, named beside the form.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from services.console.casework.schemas import Directory, Dossier, Slip
from services.console.upstream.service import Upstream, UpstreamError, explain
from shared.events.vocabulary import LABELS_ZH

if TYPE_CHECKING:
    from services.console.letters.schemas import LetterRead
    from services.console.replies.schemas import Review

# Routing's pattern for a letter id ("." and ".." would walk out of /letters/).
_LETTER_ID = re.compile(r"^(?!\.{1,2}$)(?!worklist$)[A-Za-z0-9_.:-]{1,64}$")
_LOCAL_MINUTE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$")
ASSISTING_FIELDS = ("assisting_unit_1", "assisting_unit_2", "assisting_unit_3")
# Art. 22 grounds; national security is a referral (Art. 23), its own form.
SENSITIVITIES = ("state_secret", "trade_secret", "privacy", "sensitive", "public_opinion_risk")
OFFICE_ROLES = frozenset({"office_clerk", "office_head", "office_leader", "principal_leader"})
# 409s that are not a stale version: the state moved on, and saying "refresh" is true too.
_STALE = "信件刚被他人更新，页面已显示最新内容，您填写的内容已保留，请核对后重新提交。"
_WRONG_STATE = "信件当前所处环节不允许这样做，页面已显示最新状态。"


# The free text of the forms, as their labels name it (what a vanished form shows again).
TYPED_LABELS = {
    "opinion": "受理意见",
    "summary": "内容摘要",
    "notes": "备注",
    "reply_text": "不受理答复",
    "notice_text": "告知来信人",
    "comment": "意见",
    "user_id": "用户名",
    "name": "姓名",
    "phone": "联系电话",
    "at": "联系时间",
    "note": "情况说明",
    "reason": "理由",
    "reference": "文号或回执号",
    "sent_at": "送出时间",
}


# Routing's (pydantic's) usual reasons, as the person reads them.
_REASONS = [
    (re.compile(r"^Field required$"), "必须填写"),
    (re.compile(r"must not be blank"), "不能为空"),
    (re.compile(r"at least (\d+) characters?"), "至少 {} 个字"),
    (re.compile(r"at most (\d+) characters?"), "最多 {} 个字"),
    (re.compile(r"List should have at least (\d+) item"), "至少选择 {} 项"),
    (re.compile(r"a refusal says why"), "不同意时须写明理由"),
    (re.compile(r"in the future|after it happened"), "不能晚于现在"),
    (re.compile(r"valid datetime|valid date"), "请填写正确的日期和时间"),
    (re.compile(r"^Input should be"), "所选的值无效"),
]


@dataclass(frozen=True)
class FormError:
    """An API's answer to one form, shown beside it with its status."""

    form: str
    status: int
    message: str
    reasons: list[str] = field(default_factory=list)


@dataclass
class CaseworkView:
    """What the panel shows beyond the letter: the directory, an error and the typed values."""

    directory: Directory | None = None
    error: FormError | None = None
    typed: dict[str, Any] = field(default_factory=dict)

    def kept(self) -> list[tuple[str, str]]:
        """What was typed, named as the forms name it, for a form the new state took away."""
        return [
            (TYPED_LABELS.get(name, name), value)
            for name, value in self.typed.items()
            if isinstance(value, str) and value.strip() and name in TYPED_LABELS
        ]

    def typed_for(self, form: str) -> dict[str, Any]:
        """The values typed into `form` if it is the one that failed, else none."""
        return self.typed if self.error is not None and self.error.form == form else {}


def letter_path(letter_id: str, tail: str = "") -> str:
    """Routing's path of the letter (`UpstreamError` 404 for an id that is no letter's)."""
    if not _LETTER_ID.match(letter_id):
        raise UpstreamError(404, code="not_found", message="no such letter")
    return "/letters/" + quote(letter_id, safe="") + tail


def form_error(form: str, error: UpstreamError) -> FormError:
    """The API's error in plain Chinese, with routing's reasons for a 422."""
    message = explain(error)
    if error.status == 409:
        message = _STALE if error.code == "stale_version" else _WRONG_STATE
    items = [i for i in error.details.get("errors") or [] if isinstance(i, dict) and i.get("field")]
    reasons = [
        f"{label}：{in_words(str(item.get('reason', '')))}"
        for label, item in zip(error.fields(), items, strict=False)
    ]
    return FormError(form=form, status=error.status, message=message, reasons=reasons)


def in_words(reason: str) -> str:
    """Routing's reason for a field in Chinese where it is a common one, else as it came."""
    for pattern, words in _REASONS:
        found = pattern.search(reason)
        if found:
            return words.format(*found.groups())
    return reason


def _text(form: dict[str, str], name: str) -> str | None:
    value = form.get(name, "").strip()
    return value or None


def _version(form: dict[str, str]) -> int | str:
    raw = form.get("version", "").strip()
    # Not a number: routing names the field in its 422.
    return int(raw) if raw.isdigit() and len(raw) < 10 else raw


def _instant(value: str | None) -> str | None:
    """A `datetime-local` value, typed in Beijing time, as an instant routing reads."""
    if value is not None and _LOCAL_MINUTE.match(value):
        return value + ":00+08:00"
    return value


def _bare(body: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in body.items() if value is not None}


def slip_body(form: dict[str, str]) -> dict[str, Any]:
    """保存处理单: the clerk's slip; what the chosen decision needs, nothing else."""
    accepted = {"true": True, "false": False}.get(form.get("accepted", ""))
    body: dict[str, Any] = {
        "version": _version(form),
        "opinion": form.get("opinion", ""),
        "summary": _text(form, "summary"),
        "nature": _text(form, "nature"),
        "accepted": accepted,
        "notes": form.get("notes", "").strip(),
        "major": form.get("major") == "on",
    }
    if accepted is False:
        body["not_accepted_reason"] = _text(form, "not_accepted_reason")
        body["reply_text"] = _text(form, "reply_text")
    else:
        route = _text(form, "route")
        body["route"] = route
        if route == "direct":
            body["lead_unit_id"] = _text(form, "lead_unit_id")
            assisting = [_text(form, name) for name in ASSISTING_FIELDS]
            body["assisting_unit_ids"] = list(dict.fromkeys(a for a in assisting if a))
        else:
            body["recipient_id"] = _text(form, "recipient_id")
            body["notice_text"] = _text(form, "notice_text")
    return _bare(body)


def version_body(form: dict[str, str]) -> dict[str, Any]:
    return {"version": _version(form)}


def comment_body(form: dict[str, str]) -> dict[str, Any]:
    return _bare({"version": _version(form), "comment": _text(form, "comment")})


def handler_body(form: dict[str, str]) -> dict[str, Any]:
    return _bare(
        {
            "version": _version(form),
            "user_id": form.get("user_id", "").strip(),
            "name": form.get("name", ""),
            "phone": _text(form, "phone"),
        }
    )


def contact_body(form: dict[str, str]) -> dict[str, Any]:
    return _bare(
        {
            "version": _version(form),
            "at": _instant(_text(form, "at")),
            "channel": _text(form, "channel"),
            "outcome": _text(form, "outcome"),
            "note": form.get("note", "").strip(),
        }
    )


def reason_body(form: dict[str, str]) -> dict[str, Any]:
    return {"version": _version(form), "reason": form.get("reason", "")}


def transfer_body(form: dict[str, str]) -> dict[str, Any]:
    return _bare(
        {
            "version": _version(form),
            "channel": _text(form, "channel"),
            "reference": form.get("reference", ""),
            "note": _text(form, "note"),
            "sent_at": _instant(_text(form, "sent_at")),
        }
    )


def sensitivity_body(form: dict[str, str]) -> dict[str, Any]:
    chosen = [name for name in SENSITIVITIES if form.get(f"sensitivity_{name}") == "on"]
    return {"version": _version(form), "sensitivities": chosen, "reason": form.get("reason", "")}


def referral_body(form: dict[str, str]) -> dict[str, Any]:
    return {
        "version": _version(form),
        "agency": _text(form, "agency"),
        "reason": form.get("reason", ""),
    }


def referral_decision_body(form: dict[str, str]) -> dict[str, Any]:
    approve = {"approve": True, "refuse": False}.get(form.get("decision", ""))
    return _bare({"version": _version(form), "approve": approve, "comment": _text(form, "comment")})


@dataclass(frozen=True)
class Action:
    """A form of the panel: routing's call and how the form becomes its body."""

    form: str
    method: str
    tail: str
    body: Callable[[dict[str, str]], dict[str, Any]]


ACTIONS: dict[str, Action] = {
    action.form: action
    for action in (
        Action("slip", "PUT", "/slip", slip_body),
        Action("slip-submit", "POST", "/slip/submit", version_body),
        Action("slip-approve", "POST", "/slip/approve", comment_body),
        Action("slip-send-back", "POST", "/slip/send-back", comment_body),
        Action("handler", "POST", "/handler", handler_body),
        Action("contact", "POST", "/contact-attempts", contact_body),
        Action("contact-invalid", "POST", "/contact-invalid", reason_body),
        Action("transfer-sent", "POST", "/transfer/sent", transfer_body),
        Action("sensitivity", "POST", "/sensitivity", sensitivity_body),
        Action("referral", "POST", "/referral", referral_body),
        Action("referral-decision", "POST", "/referral/decision", referral_decision_body),
    )
}


def typed_values(action: Action, form: dict[str, str]) -> dict[str, Any]:
    """What the person typed, as the form shows it again (the slip's units as a list)."""
    typed: dict[str, Any] = {k: v for k, v in form.items() if k not in ("csrf_token", "version")}
    if action.form == "slip":
        typed["assisting_unit_ids"] = [form[n] for n in ASSISTING_FIELDS if form.get(n)]
        typed["accepted"] = form.get("accepted") != "false"
        typed["major"] = form.get("major") == "on"
    return typed


async def act(
    upstream: Upstream, *, token: str, letter_id: str, action: Action, form: dict[str, str]
) -> None:
    """The form's call to routing, as the signed-in person."""
    path = letter_path(letter_id, action.tail)
    await upstream.call("routing", action.method, path, token=token, json=action.body(form))


async def directory(upstream: Upstream, *, token: str) -> Directory | None:
    """The active directory for the slip's pickers; none if this person may not read it."""
    try:
        answer = await upstream.call("routing", "GET", "/admin/directory", token=token)
    except UpstreamError as exc:
        if exc.status in (401, 503):
            raise
        return None
    return Directory.model_validate(answer)


async def dossier(upstream: Upstream, *, token: str, letter_id: str) -> Dossier:
    """The letter's dossier (the office's): the audit trail of the timeline."""
    answer = await upstream.call("routing", "GET", letter_path(letter_id, "/dossier"), token=token)
    return Dossier.model_validate(answer)


# ---- the timeline: the steps the letter read shows (the office also loads the audit trail)

OUTCOMES = {
    "assigned": "直办，交承办单位办理",
    "not_accepted": "不予受理",
    "forwarded": "转阅",
    "escalated": "呈办",
}
CHANNELS = {"phone": "电话", "sms": "短信", "email": "电子邮件", "visit": "走访", "other": "其他"}
CONTACT_OUTCOMES = {
    "reached": "已联系上",
    "no_answer": "无人接听",
    "wrong_number": "空号或信息有误",
    "refused": "拒绝沟通",
    "other": "其他",
}
TRANSFER_CHANNELS = {
    "document_exchange": "公文交换",
    "platform": "平台转办",
    "email": "电子邮件",
    "fax": "传真",
    "post": "邮寄",
    "by_hand": "专人送达",
}
AGENCIES = {"public_security": "公安机关", "state_security": "国家安全机关"}
REVIEW_STEPS = {
    "unit_head": "处室负责人",
    "unit_leader": "分管委领导",
    "office_recheck": "办公室复核",
    "office_head": "办公室负责人",
    "office_leader": "分管办公室委领导",
    "principal_leader": "委主要领导",
}
REFERRAL_STATUS = {"pending": "待审批", "approved": "已同意移交", "refused": "不同意移交"}


@dataclass(frozen=True)
class Event:
    """One step of the letter: when, what, by whom."""

    at: datetime
    text: str
    who: str = ""


def _zh(value: str | None) -> str:
    return LABELS_ZH.get(value or "", value or "")


def _slip_events(slip: Slip) -> list[Event]:
    events: list[Event] = []
    if slip.drafted_at is not None:
        who = slip.drafted_by.shown if slip.drafted_by else ""
        events.append(Event(slip.drafted_at, "拟写处理单", who))
    if slip.submitted_at is not None:
        events.append(Event(slip.submitted_at, "处理单提交办公室负责人审核"))
    for review in slip.reviews:
        verdict = "审核同意处理单" if review.decision == "approved" else "退回处理单"
        text = f"{verdict}：{review.comment}" if review.comment else verdict
        events.append(Event(review.at, text, review.by.shown))
    return events


def _review_event(review: Review) -> list[Event]:
    if review.at is None:
        return []
    step = REVIEW_STEPS.get(review.step, review.step)
    verdict = "审核同意" if review.decision == "approved" else "退回"
    return [
        Event(review.at, f"{step}{verdict}答复" + (f"：{review.comment}" if review.comment else ""))
    ]


def _reply_events(letter: LetterRead) -> list[Event]:
    """The reply's steps the letter read keeps: its reviews, submission and approval."""
    events: list[Event] = []
    reply = letter.reply
    if reply is not None:
        # In the order they happen, for steps recorded at the same instant: the unit's
        # approvals, the submission, the office's.
        unit = [r for r in reply.reviews if r.step.startswith("unit_")]
        office = [r for r in reply.reviews if not r.step.startswith("unit_")]
        for review in unit:
            events += _review_event(review)
        if reply.submitted_at is not None:
            events.append(Event(reply.submitted_at, f"答复报送办公室（第{reply.revision}稿）"))
        for review in office:
            events += _review_event(review)
        if reply.approved_at is not None:
            events.append(Event(reply.approved_at, "答复审定"))
    for reminder in letter.reminders:
        if reminder.answered_at is not None:
            events.append(Event(reminder.answered_at, "答复催办"))
    return events


def events_of(letter: LetterRead) -> list[Event]:
    """The steps the letter read shows, oldest first."""
    events = [Event(letter.received_at, f"收到来信（{letter.platform}）")]
    if letter.slip:
        events += _slip_events(Slip.model_validate(letter.slip))
    if letter.decision is not None:
        outcome = OUTCOMES.get(letter.decision.outcome, letter.decision.outcome)
        events.append(Event(letter.decision.at, f"决定：{outcome}", letter.decision.by.shown))
    if letter.handler is not None:
        handler = letter.handler
        events.append(
            Event(handler.named_at, f"指定经办人：{handler.name}", handler.named_by.shown)
        )
    for call in letter.contact_attempts:
        text = f"联系来信人（{CHANNELS.get(call.channel, call.channel)}）：" + CONTACT_OUTCOMES.get(
            call.outcome, call.outcome
        )
        events.append(
            Event(call.at, text + (f"，{call.note}" if call.note else ""), call.recorded_by.shown)
        )
    if letter.contact_invalid is not None:
        invalid = letter.contact_invalid
        events.append(Event(invalid.at, f"联系方式无效：{invalid.reason}", invalid.by.shown))
    if letter.sensitivity is not None:
        mark = letter.sensitivity
        grounds = "、".join(_zh(s) for s in mark.sensitivities)
        events.append(Event(mark.at, f"标记敏感信息（{grounds}）：{mark.reason}", mark.by.shown))
    for referral in letter.referrals:
        agency = AGENCIES.get(referral.agency, referral.agency)
        events.append(
            Event(
                referral.proposed_at,
                f"提出移交{agency}：{referral.reason}",
                referral.proposed_by.shown,
            )
        )
        if referral.decided_at is not None:
            status = REFERRAL_STATUS.get(referral.status, referral.status)
            text = status + (f"：{referral.comment}" if referral.comment else "")
            who = referral.decided_by.shown if referral.decided_by else ""
            events.append(Event(referral.decided_at, text, who))
    events += _reply_events(letter)
    transfer = letter.transfer
    if transfer is not None and transfer.sent_at is not None:
        channel = TRANSFER_CHANNELS.get(transfer.channel or "", transfer.channel or "")
        who = transfer.sent_by.shown if transfer.sent_by else ""
        text = f"来信内容已送{transfer.recipient_name}（{channel}，{transfer.reference or ''}）"
        events.append(Event(transfer.sent_at, text, who))
    events.sort(key=lambda event: event.at)
    return events
