"""The texts the writer reads: a reply laid out from its parts (Art. 29), and the notices.

Pure functions. The parts come in already redacted where the text goes public; the
layout adds only fixed labels and the date, never personal data.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from datetime import datetime

from services.publishing.letters.models import Notice
from shared.clock import to_shanghai
from shared.events.vocabulary import LABELS_ZH

# A platform takes titles up to 500 characters; the letter's title is one part of ours.
MAX_QUOTED_TITLE_CHARS = 200
REGULATION = "《重庆市商务委员会公开电子信箱办理工作制度》"

PART_LABELS = {
    "unit_name": "承办单位",
    "handler_name": "经办人员",
    "investigation": "调查经过",
    "policy_basis": "政策依据",
    "result": "处理结果",
}
# Short parts on the label's line; long ones below it, as a paper reply reads.
_INLINE_PARTS = frozenset({"unit_name", "handler_name"})


def chinese_date(at: datetime) -> str:
    """`2026年10月12日`, the date in Asia/Shanghai."""
    local = to_shanghai(at)
    return f"{local.year}年{local.month}月{local.day}日"


def escape_markup(text: str) -> str:
    """The text with `&`, `<` and `>` written as HTML entities.

    The platforms show a public reply inside their web pages as HTML (docs/platform-api.md):
    a tag the writer typed would be markup on a government page, and an entity (`&#49;`) a
    character the leak scan never saw. Escaped, both read as typed.
    """
    return html.escape(text, quote=False)


def _escaped_within(title: str, limit: int) -> str:
    """The title escaped, cut (never inside an entity) to at most `limit` characters."""
    escaped = escape_markup(title)
    if len(escaped) <= limit:
        return escaped
    pieces: list[str] = []
    size = 0
    for char in title:
        piece = escape_markup(char)
        if size + len(piece) > limit - 1:
            break
        pieces.append(piece)
        size += len(piece)
    return "".join(pieces) + "…"


def _quoted(title: str, *, escaped: bool = False) -> str:
    title = " ".join(title.split()) or "无标题"
    if escaped:
        title = _escaped_within(title, MAX_QUOTED_TITLE_CHARS)
    elif len(title) > MAX_QUOTED_TITLE_CHARS:
        title = title[: MAX_QUOTED_TITLE_CHARS - 1] + "…"
    return f"关于“{title}”"


def reply_title(letter_title: str, *, escaped: bool = False) -> str:
    """The upload's title of a reply; `escaped` for a public one (see `escape_markup`)."""
    return f"{_quoted(letter_title, escaped=escaped)}的答复"


def reply_text(
    *,
    parts: Mapping[str, str],
    answered_at: datetime,
    letter_title: str | None = None,
    letter_text: str | None = None,
) -> str:
    """A reply in the usual reading order; with the letter above it when it is published."""
    lines: list[str] = []
    if letter_title is not None:
        lines.append(f"来信标题：{letter_title}")
    if letter_text is not None:
        lines += ["来信内容：", letter_text.strip(), ""]
    if lines:
        lines.append("【答复内容】")
    for key, label in PART_LABELS.items():
        value = parts.get(key, "").strip()
        if key in _INLINE_PARTS:
            lines.append(f"{label}：{value}")
        else:
            lines += [f"{label}：", value]
    lines += ["", f"答复日期：{chinese_date(answered_at)}"]
    return "\n".join(lines)


def notice_title(letter_title: str, notice: Notice) -> str:
    """The upload's title of a notice."""
    what = {"not_accepted": "不受理告知", "forwarded": "转办告知", "escalated": "呈办告知"}
    return f"{_quoted(letter_title)}的{what[notice.kind]}"


def notice_text(notice: Notice) -> str:
    """The notice to the writer: the office's text, the ground or recipient, the date."""
    lines = [notice.text.strip(), ""]
    if notice.kind == "not_accepted" and notice.reason is not None:
        lines.append(f"不受理原因：{LABELS_ZH[notice.reason]}（依据{REGULATION}第九条）")
    elif notice.kind == "forwarded":
        lines.append(f"转交单位：{notice.recipient_name or ''}（依据{REGULATION}第十三条 转阅）")
    elif notice.kind == "escalated":
        lines.append(f"呈交单位：{notice.recipient_name or ''}（依据{REGULATION}第十三条 呈办）")
    lines.append(f"告知日期：{chinese_date(notice.decided_at)}")
    return "\n".join(lines)


def email_text(*, title: str, body: str) -> str:
    """The e-mail a writer receives for an `email` reply."""
    return (
        "您好！\n\n"
        f"您通过公开信箱反映的问题已办理完毕，{title}如下：\n\n"
        f"{body}\n\n"
        "此邮件由重庆市商务委员会公开信箱系统发送，请勿直接回复。\n"
    )
