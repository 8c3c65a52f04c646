"""A refused casework form's error in plain Chinese, as shown beside the form: routing's
409 as what the person does next, a 422's fields with routing's reasons in words."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from services.console.upstream.service import UpstreamError, explain

# 409s that are not a stale version: the state moved on, and saying "refresh" is true too.
_STALE = "信件刚被他人更新，页面已显示最新内容，您填写的内容已保留，请核对后重新提交。"
_WRONG_STATE = "信件当前所处环节不允许这样做，页面已显示最新状态。"

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
    (re.compile(r"is not an assisting unit"), "不是这封信的配合单位"),
    (re.compile(r"is not a member of unit"), "不是本单位人员"),
    (re.compile(r"is deactivated"), "账号已停用"),
    (re.compile(r"^no user "), "没有这个用户"),
]
# Fields a form names otherwise than the pages at large do (`upstream.service._FIELDS`).
_FORM_FIELDS = {
    "assist-request": {"unit_id": "配合单位", "question": "请配合单位提供的内容"},
    "assist-answer": {"text": "答复内容"},
    "handler": {"user_id": "经办人员"},
}


@dataclass(frozen=True)
class FormError:
    """An API's answer to one form, shown beside it with its status."""

    form: str
    status: int
    message: str
    reasons: list[str] = field(default_factory=list)


def form_error(form: str, error: UpstreamError) -> FormError:
    """The API's error in plain Chinese, with routing's reasons for a 422."""
    message = explain(error)
    if error.status == 409:
        message = _STALE if error.code == "stale_version" else _WRONG_STATE
    items = [i for i in error.details.get("errors") or [] if isinstance(i, dict) and i.get("field")]
    own = next((names for key, names in _FORM_FIELDS.items() if form.startswith(key)), {})
    labels = [
        own.get(str(item["field"]), label)
        for label, item in zip(error.fields(), items, strict=False)
    ]
    if error.status == 422 and own and labels:
        message = "填写的内容有误：" + "、".join(dict.fromkeys(labels)) + "。"
    reasons = [
        f"{label}：{in_words(str(item.get('reason', '')))}"
        for label, item in zip(labels, items, strict=False)
    ]
    return FormError(form=form, status=error.status, message=message, reasons=reasons)


def in_words(reason: str) -> str:
    """Routing's reason for a field in Chinese where it is a common one, else as it came."""
    for pattern, words in _REASONS:
        found = pattern.search(reason)
        if found:
            return words.format(*found.groups())
    return reason
