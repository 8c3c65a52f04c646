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
from zoneinfo import ZoneInfo

from services.console.casework.errors import FormError
from services.console.casework.labels import (
    AGENCIES,
    CHANNELS,
    CONTACT_OUTCOMES,
    OUTCOMES,
    REFERRAL_STATUS,
    REVIEW_STEPS,
    TRANSFER_CHANNELS,
)
from services.console.casework.schemas import Directory, Dossier, Entry, Slip
from services.console.upstream.service import Upstream, UpstreamError
from shared.events.vocabulary import LABELS_ZH

if TYPE_CHECKING:
    from services.console.letters.schemas import LetterRead
    from services.console.replies.schemas import Review

# Routing's pattern for a letter id ("." and ".." would walk out of /letters/).
_LETTER_ID = re.compile(r"^(?!\.{1,2}$)(?!worklist$)[A-Za-z0-9_.:-]{1,64}$")
# What people type a moment in: Beijing time (a `datetime-local` field carries no zone).
BEIJING = ZoneInfo("Asia/Shanghai")
_LOCAL_LAYOUTS = ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d")
ASSISTING_FIELDS = ("assisting_unit_1", "assisting_unit_2", "assisting_unit_3")
# Art. 22 grounds; national security is a referral (Art. 23), its own form.
SENSITIVITIES = ("state_secret", "trade_secret", "privacy", "sensitive", "public_opinion_risk")
OFFICE_ROLES = frozenset({"office_clerk", "office_head", "office_leader", "principal_leader"})


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
    "question": "请配合单位提供的内容",
    "text": "答复内容",
}


@dataclass
class CaseworkView:
    """What the panel shows beyond the letter: the directory, the lead unit's handlers to
    name one from (None: not listed for this person), an error and the typed values."""

    directory: Directory | None = None
    error: FormError | None = None
    typed: dict[str, Any] = field(default_factory=dict)
    handlers: list[Entry] | None = None

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


def _text(form: dict[str, str], name: str) -> str | None:
    value = form.get(name, "").strip()
    return value or None


def _version(form: dict[str, str]) -> int | str:
    raw = form.get("version", "").strip()
    # Not a number: routing names the field in its 422.
    return int(raw) if raw.isdigit() and len(raw) < 10 else raw


def local_instant(value: str | None) -> str | None:
    """A `datetime-local` value (to the minute or the second) typed in Beijing time, as the
    ISO instant the services read; a bare date (a date field) is the end of that day.
    Blank: None. Anything else goes as it came, for the service to name in its 422."""
    value = (value or "").strip()
    if not value:
        return None
    for layout in _LOCAL_LAYOUTS:
        try:
            moment = datetime.strptime(value, layout)
        except ValueError:
            continue
        if len(value) == len("2026-10-12"):
            moment = moment.replace(hour=23, minute=59, second=59)
        return moment.replace(tzinfo=BEIJING).isoformat()
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
            "at": local_instant(form.get("at")),
            "channel": _text(form, "channel"),
            "outcome": _text(form, "outcome"),
            "note": form.get("note", "").strip(),
        }
    )


def assist_request_body(form: dict[str, str]) -> dict[str, Any]:
    return {
        "version": _version(form),
        "unit_id": form.get("unit_id", "").strip(),
        "question": form.get("question", ""),
    }


def assist_answer_body(form: dict[str, str]) -> dict[str, Any]:
    return {"version": _version(form), "text": form.get("text", "")}


def reason_body(form: dict[str, str]) -> dict[str, Any]:
    return {"version": _version(form), "reason": form.get("reason", "")}


def transfer_body(form: dict[str, str]) -> dict[str, Any]:
    return _bare(
        {
            "version": _version(form),
            "channel": _text(form, "channel"),
            "reference": form.get("reference", ""),
            "note": _text(form, "note"),
            "sent_at": local_instant(form.get("sent_at")),
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
        Action("assist-request", "POST", "/assist-requests", assist_request_body),
        Action("transfer-sent", "POST", "/transfer/sent", transfer_body),
        Action("sensitivity", "POST", "/sensitivity", sensitivity_body),
        Action("referral", "POST", "/referral", referral_body),
        Action("referral-decision", "POST", "/referral/decision", referral_decision_body),
    )
}


# Not in the table: its route carries the request's id (`api.answer_assist`).
ASSIST_ANSWER = Action(
    "assist-answer", "POST", "/assist-requests/{request}/answer", assist_answer_body
)


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
    body = action.body(form)
    if action.form == "handler" and not body.get("name") and body.get("user_id"):
        # Chosen from the list: the name is the one the unit's list gives the person.
        letter = await upstream.call("routing", "GET", letter_path(letter_id), token=token)
        people = await handlers(upstream, token=token, unit_id=letter.get("lead_unit_id"))
        chosen = (p.name for p in people or [] if p.id == body["user_id"])
        body["name"] = next(chosen, body["user_id"])  # not listed: routing names the user
    await upstream.call("routing", action.method, path, token=token, json=body)


async def answer_assist(
    upstream: Upstream, *, token: str, letter_id: str, request_id: str, form: dict[str, str]
) -> None:
    """The assisting unit's answer to the lead unit's request (协办)."""
    tail = "/assist-requests/" + quote(request_id, safe="") + "/answer"
    path = letter_path(letter_id, tail)
    await upstream.call("routing", "POST", path, token=token, json=assist_answer_body(form))


async def handlers(upstream: Upstream, *, token: str, unit_id: object) -> list[Entry] | None:
    """The unit's active handlers to name one from; None if this person may not list them."""
    if not isinstance(unit_id, str) or not unit_id:
        return None
    path = "/admin/units/" + quote(unit_id, safe="") + "/handlers"
    try:
        answer = await upstream.call("routing", "GET", path, token=token)
    except UpstreamError as exc:
        if exc.status in (401, 503):
            raise
        return None
    return [Entry.model_validate(item) for item in answer.get("items") or []]


async def directory(upstream: Upstream, *, token: str) -> Directory | None:
    """The active directory for the slip's pickers; none if this person may not read it."""
    try:
        answer = await upstream.call("routing", "GET", "/admin/directory", token=token)
    except UpstreamError as exc:
        if exc.status in (401, 503):
            raise
        return None
    return Directory.model_validate(answer)


async def page_view(upstream: Upstream, *, token: str, letter: LetterRead) -> CaseworkView:
    """What the panel reads besides the letter on its page: the people to name as handler."""
    view = CaseworkView()
    if "name_handler" in letter.allowed_actions:
        view.handlers = await handlers(upstream, token=token, unit_id=letter.lead_unit_id)
    return view


async def dossier(upstream: Upstream, *, token: str, letter_id: str) -> Dossier:
    """The letter's dossier (the office's): the audit trail of the timeline."""
    answer = await upstream.call("routing", "GET", letter_path(letter_id, "/dossier"), token=token)
    return Dossier.model_validate(answer)


# ---- the timeline: the steps the letter read shows (the office also loads the audit trail)


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
        told = reply.writer_informed
        if told is not None:
            channel = CHANNELS.get(told.channel, told.channel)
            text = f"告知来信人办理情况（{channel}）" + (f"：{told.note}" if told.note else "")
            events.append(Event(told.at, text))
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
    for ask in letter.assist_requests:
        text = f"请{ask.unit_shown}配合：{ask.question}"
        events.append(Event(ask.requested_at, text, ask.requested_by.shown))
        if ask.answered_at is not None:
            who = ask.answered_by.shown if ask.answered_by else ""
            events.append(Event(ask.answered_at, f"{ask.unit_shown}答复：{ask.answer}", who))
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
