"""The reply's forms turned into the services' requests (a moment typed in Beijing time
becomes an instant by `casework.service.local_instant`, as the casework forms' do), the
live check of Art. 29's five parts, and the masked preview cut into highlighted pieces.

The check mirrors routing's `ReplyDraft` (each part substantive: not a placeholder, at
least so many characters of substance); routing decides, and refuses what this misses.
`tests/console/test_replies_check.py` holds the two to the same verdicts.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from services.console.casework.service import local_instant
from services.console.letters.schemas import LetterRead
from services.console.replies.schemas import (
    FieldRedaction,
    Missing,
    PublicationPreview,
    ReplyView,
    Segment,
)
from services.console.upstream.service import Upstream, UpstreamError

# Art. 29: 承办单位、经办人员、调查经过、政策依据、处理结果, with routing's minimum substance.
PARTS: tuple[tuple[str, str, int], ...] = (
    ("unit", "承办单位", 2),
    ("handler", "经办人员", 2),
    ("investigation", "调查经过", 15),
    ("policy_basis", "政策依据", 6),
    ("result", "处理结果", 10),
)
PART_LABELS = {name: label for name, label, _ in PARTS}
# What people type when they do not want to write the part (as routing's PLACEHOLDERS).
PLACEHOLDERS = frozenset(
    "无 略 见附件 详见附件 同上 暂无 待定 待补充 待查 无意见 不详 空 无内容 见上 见前 如上"
    " 同前 某某 测试 na n/a none null tbd todo xx xxx test".split()
)
_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)

MODES = {"online": "网上发布", "email": "邮件答复", "not_public": "不公开"}
RETURN_REASONS = {"off_topic": "答非所问", "perfunctory": "敷衍了事", "buck_passing": "推诿扯皮"}
CHANNELS = {
    "phone": "电话",
    "sms": "短信",
    "email": "电子邮件",
    "visit": "上门走访",
    "other": "其他方式",
}
SPAN_KINDS = {
    "name": "姓名",
    "phone": "手机号码",
    "landline": "固定电话",
    "id_number": "身份证号码",
    "email": "电子邮箱",
    "bank_card": "银行卡号",
    "house_number": "门牌号",
    "address": "详细地址",
    "account": "账号",
    "plate": "车牌号",
}
PREVIEW_FIELDS = {
    "title": "来信标题",
    "text": "来信内容",
    "unit_name": "承办单位",
    "handler_name": "经办人员",
    "investigation": "调查经过",
    "policy_basis": "政策依据",
    "result": "处理结果",
}
UNIT_APPROVALS = frozenset({"unit_head_approve", "unit_leader_approve"})
UNIT_SEND_BACKS = frozenset({"unit_head_send_back", "unit_leader_send_back"})
OFFICE_APPROVALS = frozenset(
    {"recheck_approve", "office_head_approve", "office_leader_approve", "principal_approve"}
)
# The office's steps that may mark the matter major on approving (Art. 15 ¶2).
MARKS_MAJOR = frozenset({"recheck_approve", "office_head_approve", "office_leader_approve"})
OFFICE_ROLES = frozenset({"office_clerk", "office_head", "office_leader", "principal_leader"})
UNIT_ROLES = frozenset({"unit_handler", "unit_head", "unit_leader"})


def _meaningful(text: str) -> str:
    return _NOT_WORD.sub("", unicodedata.normalize("NFKC", text)).lower()


def why_missing(value: str, min_chars: int) -> str | None:
    """Why routing would refuse this part, in words; None when it says something."""
    value = value.strip()
    if not value:
        return "未填写"
    core = _meaningful(value)
    if core in PLACEHOLDERS or _meaningful(value.replace("无", "")) == "":
        return "只写了占位的字词，请写明内容"
    if len(core) < min_chars:
        return f"过于简略，至少写{min_chars}个字"
    if len(set(core)) < min(3, min_chars):
        return "没有实际内容"
    return None


def missing_parts(values: dict[str, str]) -> list[Missing]:
    """The parts of Art. 29 (and the reason a not-public mode needs) still missing."""
    found = [
        Missing(name, label, why)
        for name, label, min_chars in PARTS
        if (why := why_missing(values.get(name, ""), min_chars)) is not None
    ]
    if (
        values.get("proposed_mode") == "not_public"
        and not values.get("not_public_reason", "").strip()
    ):
        found.append(
            Missing("not_public_reason", "不公开理由", "选择不公开时须写明理由（第二十二条）")
        )
    return found


def missing_of(error: UpstreamError) -> list[Missing]:
    """The parts routing's 422 names, with its reason."""
    named = []
    for item in error.details.get("errors") or []:
        if isinstance(item, dict) and item.get("field") in PART_LABELS:
            name = str(item["field"])
            named.append(Missing(name, PART_LABELS[name], str(item.get("reason", ""))))
    return named


def _text(value: str) -> str | None:
    value = value.strip()
    return value or None


def _int(value: str) -> int | str | None:
    value = value.strip()
    if not value:
        return None
    return int(value) if value.isdigit() else value  # routing names a wrong one (422)


def draft_body(form: dict[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = {name: form.get(name, "") for name, _, _ in PARTS}
    body["proposed_mode"] = form.get("proposed_mode", "")
    body["not_public_reason"] = _text(form.get("not_public_reason", ""))
    return body


def approve_body(form: dict[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = {"comment": _text(form.get("comment", ""))}
    mode = form.get("publication_mode", "").strip()
    if mode:
        body["publication_mode"] = mode
        body["not_public_reason"] = _text(form.get("not_public_reason", ""))
    if form.get("major") == "on":
        body |= {"major": True, "major_reason": _text(form.get("major_reason", ""))}
    return body


def return_body(form: dict[str, str]) -> dict[str, Any]:
    return {
        "reason": form.get("reason", ""),
        "comment": form.get("comment", ""),
        "new_due": local_instant(form.get("new_due", "")),
    }


def submit_body(form: dict[str, str]) -> dict[str, Any]:
    channel = form.get("informed_channel", "").strip()
    if not channel:
        return {}  # contact details marked invalid (Art. 14 ¶3): routing says if not
    return {
        "writer_informed": {
            "channel": channel,
            "at": local_instant(form.get("informed_at", "")),
            "note": _text(form.get("informed_note", "")),
        }
    }


def extension_body(form: dict[str, str]) -> dict[str, Any]:
    return {
        "reason": form.get("reason", ""),
        "extra_working_days": _int(form.get("extra_working_days", "")),
        "new_due": local_instant(form.get("new_due", "")),
    }


def decide_extension_body(form: dict[str, str], *, approve: bool) -> dict[str, Any]:
    if not approve:
        return {"reason": form.get("reason", "")}
    return {
        "extra_working_days": _int(form.get("extra_working_days", "")),
        "new_due": local_instant(form.get("new_due", "")),
        "comment": _text(form.get("comment", "")),
    }


def version_of(form: dict[str, str]) -> int | str:
    """The letter's version the form was rendered with (routing answers 409 if stale)."""
    value = form.get("version", "").strip()
    return int(value) if value.isdigit() else value


def segments(field: FieldRedaction) -> list[Segment]:
    """The field cut at its masks: each mask's original beside its replacement."""
    pieces: list[Segment] = []
    at = 0
    original = field.original
    for span in sorted(field.spans, key=lambda s: s.start):
        if span.start < at or span.end > len(original):
            continue  # overlapping or out of range: redaction never answers these
        if span.start > at:
            plain = original[at : span.start]
            pieces.append(Segment(plain, plain))
        pieces.append(Segment(original[span.start : span.end], span.replacement, span.kind))
        at = span.end
    if at < len(original):
        pieces.append(Segment(original[at:], original[at:]))
    return pieces


# The action a form needs in `allowed_actions` to be on the page.
FORM_ACTIONS: dict[str, frozenset[str]] = {
    "reply": frozenset({"draft_reply"}),
    "send_review": frozenset({"send_reply_for_review"}),
    "unit_approve": UNIT_APPROVALS,
    "unit_send_back": UNIT_SEND_BACKS,
    "submit": frozenset({"submit_reply"}),
    "review_approve": OFFICE_APPROVALS,
    "publish": OFFICE_APPROVALS,
    "review_return": frozenset({"return_reply"}),
    "extension": frozenset({"request_extension"}),
    "extension_approve": frozenset({"decide_extension"}),
    "extension_refuse": frozenset({"decide_extension"}),
}


def form_shown(form_key: str, letter: LetterRead, *, role: str) -> bool:
    """Whether the letter's page shows the form `form_key` to this person now."""
    kind, _, item = form_key.partition(":")
    if kind == "reminder":
        if role not in UNIT_ROLES:
            return False
        return any(r.reminder_id == item and r.answered_at is None for r in letter.reminders)
    if kind.startswith("extension_") and not any(
        e.id == item and e.status == "pending" for e in letter.extensions
    ):
        return False
    return bool(FORM_ACTIONS.get(kind, frozenset()) & set(letter.allowed_actions))


def _letter_path(letter_id: str, tail: str) -> str:
    return "/letters/" + quote(letter_id, safe="") + tail


async def routing_action(
    upstream: Upstream,
    *,
    token: str,
    letter_id: str,
    tail: str,
    version: int | str,
    body: Mapping[str, Any],
    method: str = "POST",
) -> None:
    """One of routing's actions on the letter, at the version the page showed."""
    path = _letter_path(letter_id, tail)
    await upstream.call("routing", method, path, token=token, json={"version": version, **body})


async def answer_reminder(upstream: Upstream, *, token: str, reminder_id: str, text: str) -> None:
    """The unit's answer to a reminder: deadlines owns reminders and their answers."""
    path = "/reminders/" + quote(reminder_id, safe="") + "/answer"
    await upstream.call("deadlines", "POST", path, token=token, json={"text": text})


async def preview(
    upstream: Upstream, *, token: str, letter_id: str, reply: ReplyView | None
) -> PublicationPreview:
    """Publishing's redaction of the letter with the reply as it stands (read only)."""
    body: dict[str, Any] = {}
    if reply is not None:
        parts = reply.parts
        body["reply"] = {
            "unit_name": parts.unit,
            "handler_name": parts.handler,
            "investigation": parts.investigation,
            "policy_basis": parts.policy_basis,
            "result": parts.result,
        }
    path = _letter_path(letter_id, "/preview")
    answer = await upstream.call("publishing", "POST", path, token=token, json=body)
    return PublicationPreview.model_validate(answer)
