"""Printable Chinese pages of archive records (内部资料: the writer's data is shown).

Every value is escaped; routing's parts of the record are read defensively, so a
field that is missing in an older record leaves its line empty rather than failing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from html import escape
from typing import Any

from shared.clock import to_shanghai
from shared.events.vocabulary import LABELS_ZH

_STYLE = """
body { font-family: "SimSun", "Songti SC", "Noto Serif CJK SC", serif; margin: 2em auto;
       max-width: 46em; line-height: 1.6; color: #000; }
h1 { text-align: center; font-size: 1.5em; margin-bottom: 0.2em; }
h2 { font-size: 1.15em; border-bottom: 1px solid #000; margin-top: 1.6em; }
.secret { text-align: center; color: #b00; font-weight: bold; letter-spacing: 0.3em; }
table { border-collapse: collapse; width: 100%; margin: 0.5em 0; }
th, td { border: 1px solid #444; padding: 0.25em 0.5em; vertical-align: top; text-align: left; }
th { width: 8em; background: #f2f2f2; font-weight: normal; }
pre { white-space: pre-wrap; font-family: inherit; margin: 0; }
.small { font-size: 0.85em; color: #333; }
@media print { body { margin: 0; max-width: none; } h2 { break-after: avoid; }
               table { break-inside: auto; } tr { break-inside: avoid; } }
"""

PUBLICATION_KINDS = {"reply": "答复", "not_accepted": "不受理告知", "transfer": "转办/呈办告知"}
VISIBILITY = {"public": "公开", "private": "不公开（仅来信人可见）"}
STATES = {"sent": "已上传", "pending": "待上传", "parked": "上传失败待处理", "refused": "拒绝发布"}
SOURCES = {"platform": "平台来信", "hotline": "电话", "other": "其他"}
CLOCK_STATES = {"running": "进行中", "met": "按时办结", "overdue": "超期", "stopped": "已停止"}
ASSESSMENT_KINDS = {
    "reminder_unanswered": "催办未按时反馈",
    "wrong_publication_mode": "公开方式错误（第二十八条）",
    "manual": "其他",
}
DECISIONS = {"approved": "同意", "sent_back": "退回修改", "returned": "退回重办"}
ROLES = {
    "office_clerk": "委办公室",
    "office_head": "办公室负责人",
    "office_leader": "分管委领导",
    "principal_leader": "委主要领导",
    "unit_handler": "承办人",
    "unit_head": "处室负责人",
    "unit_leader": "分管委领导",
    "admin": "系统管理员",
    "service": "系统",
    "system": "系统",
}


def _text(value: Any) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        return "、".join(_text(v) for v in value)
    return escape(str(value))


def _label(value: Any) -> str:
    """A vocabulary value as users read it (直办, 网上发布 …)."""
    if isinstance(value, list):
        return "、".join(_label(v) for v in value)
    return _text(LABELS_ZH.get(value, value) if isinstance(value, str) else value)


def _when(value: Any) -> str:
    if not isinstance(value, str) or not value:
        return _text(value)
    try:
        local = to_shanghai(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        return escape(value)
    return f"{local:%Y-%m-%d %H:%M}"


def _pre(value: Any) -> str:
    return f"<pre>{_text(value)}</pre>"


def _rows(pairs: Iterable[tuple[str, str]]) -> str:
    body = "".join(f"<tr><th>{escape(label)}</th><td>{value}</td></tr>" for label, value in pairs)
    return f"<table>{body}</table>"


def _who(actor: Any) -> str:
    if not isinstance(actor, Mapping):
        return _text(actor)
    name = actor.get("name") or actor.get("user_id") or ""
    role = ROLES.get(actor.get("role") or "", actor.get("role") or "")
    return _text(f"{name}（{role}）" if role else name)


def _page(title: str, body: str) -> bytes:
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>"
        f'<p class="secret">内部资料 注意保密</p>{body}'
        '<p class="secret">内部资料 注意保密</p></body></html>\n'
    ).encode()


def _letter(record: Mapping[str, Any]) -> str:
    letter = record.get("letter") or {}
    person = letter.get("person") or {}
    decisions = record.get("decisions") or {}
    lock = decisions.get("lock") or {}
    mark = decisions.get("sensitivity") or {}
    basics = _rows(
        [
            ("信件编号", _text(record.get("letter_id"))),
            ("来源平台", _text(letter.get("platform"))),
            ("平台编号", _text(letter.get("external_id"))),
            ("来信方式", _text(SOURCES.get(letter.get("source") or "", letter.get("source")))),
            ("提交时间", _when(letter.get("submitted_at"))),
            ("登记时间", _when(letter.get("received_at"))),
            ("来信标题", _text(letter.get("title"))),
        ]
    )
    writer = _rows(
        [
            ("姓名", _text(person.get("name"))),
            ("电话", _text(person.get("phone"))),
            ("身份证号", _text(person.get("id_number"))),
            ("地址", _text(person.get("address"))),
            ("电子邮箱", _text(person.get("email"))),
        ]
    )
    limits = _rows(
        [
            ("不公开理由", _label(mark.get("sensitivities")) + " " + _text(mark.get("reason"))),
            ("国家安全/特别敏感", _text(lock.get("agency")) + " " + _text(lock.get("reason"))),
        ]
    )
    return (
        f"<h2>一、来信</h2>{basics}<h2>二、来信人信息（个人信息，严格保密）</h2>{writer}"
        f"<h2>三、来信内容</h2>{_pre(letter.get('text'))}"
        f"{_original(record)}"
        f"<h2>五、公开限制（第二十二、二十三条）</h2>{limits}"
    )


def _original(record: Mapping[str, Any]) -> str:
    original = record.get("original")
    head = "<h2>四、来信原件（平台原始记录）</h2>"
    if not isinstance(original, Mapping):
        return f"{head}<p>无（本记录未收原件）</p>"
    attachments = [
        _text(a.get("name")) + (f"（{_text(a.get('url'))}）" if a.get("url") else "")
        for a in original.get("attachments") or []
        if isinstance(a, Mapping)
    ]
    verbatim = original.get("verbatim")
    table = _rows(
        [
            ("校验值（SHA-256）", f'<span class="small">{_text(original.get("sha256"))}</span>'),
            (
                "原样保存",
                "是" if verbatim else "否（原始字节非 UTF-8，以替换字符显示；校验值为原始字节的）",
            ),
            ("附件", "<br>".join(attachments) or "无"),
            ("原始记录", f'<pre class="small">{_text(original.get("raw"))}</pre>'),
        ]
    )
    return head + table


def _slip(record: Mapping[str, Any]) -> str:
    slip = record.get("slip")
    if not isinstance(slip, Mapping):
        return "<h2>六、处理单</h2><p>无</p>"
    table = _rows(
        [
            ("内容摘要", _pre(slip.get("summary"))),
            ("受理意见", _pre(slip.get("opinion"))),
            ("性质", _label(slip.get("nature"))),
            ("是否受理", _text(slip.get("accepted"))),
            ("不受理原因", _label(slip.get("not_accepted_reason"))),
            ("办理方式", _label(slip.get("route"))),
            ("牵头单位", _text(slip.get("lead_unit_name") or slip.get("lead_unit_id"))),
            ("配合单位", _text(slip.get("assisting_unit_names") or slip.get("assisting_unit_ids"))),
            ("转交单位", _text(slip.get("recipient_name"))),
            ("拟稿", _who(slip.get("drafted_by")) + " " + _when(slip.get("drafted_at"))),
        ]
    )
    return f"<h2>六、处理单（市商务委公开信箱（电话）处理单）</h2>{table}"


def _reviews(reviews: Any) -> str:
    if not isinstance(reviews, list) or not reviews:
        return "无"
    lines = [
        f"{_when(r.get('at'))} {_who(r.get('by'))} {_text(r.get('step'))} "
        f"{_text(DECISIONS.get(r.get('decision') or '', r.get('decision')))} "
        f"{_text(r.get('comment'))}"
        for r in reviews
        if isinstance(r, Mapping)
    ]
    return "<br>".join(lines)


def _replies(record: Mapping[str, Any]) -> str:
    parts = ["<h2>七、答复及审核</h2>"]
    approvals = record.get("approvals") or {}
    parts.append(_rows([("处理单审核", _reviews(approvals.get("slip")))]))
    replies = record.get("approved_replies") or []
    if not replies:
        parts.append("<p>无答复（不受理、转阅或呈办）</p>")
    history = {a.get("revision"): a.get("reviews") for a in approvals.get("replies") or []}
    for reply in replies:
        reply_parts = reply.get("parts") or {}
        parts.append(
            _rows(
                [
                    ("修订次数", _text(reply.get("revision"))),
                    ("承办单位", _text(reply_parts.get("unit_name"))),
                    ("经办人员", _text(reply_parts.get("handler_name"))),
                    ("调查经过", _pre(reply_parts.get("investigation"))),
                    ("政策依据", _pre(reply_parts.get("policy_basis"))),
                    ("处理结果", _pre(reply_parts.get("result"))),
                    ("公开方式", _label(reply.get("mode"))),
                    ("不公开理由", _text(reply.get("not_public_reason"))),
                    ("审定时间", _when(reply.get("approved_at"))),
                    ("审核记录", _reviews(history.get(reply.get("revision")))),
                ]
            )
        )
    return "".join(parts)


def _publications(record: Mapping[str, Any]) -> str:
    rows = []
    for pub in record.get("publications") or []:
        email = pub.get("email") or {}
        receipt = pub.get("receipt") or {}
        downgrade = pub.get("downgrade") or {}
        visibility = pub.get("visibility")
        rows.append(
            _rows(
                [
                    ("类别", _text(PUBLICATION_KINDS.get(pub.get("kind"), pub.get("kind")))),
                    ("可见范围", _text(VISIBILITY.get(visibility, visibility))),
                    ("状态", _text(STATES.get(pub.get("state"), pub.get("state")))),
                    ("上传时间", _when(pub.get("sent_at"))),
                    ("平台回执", _text(receipt.get("upload_id"))),
                    ("邮件", _text(email.get("state")) + " " + _text(email.get("to"))),
                    ("改为不公开", _text(downgrade.get("reasons"))),
                    ("标题", _text(pub.get("title"))),
                    ("上传内容", _pre(pub.get("text"))),
                ]
            )
        )
    return "<h2>八、上传与发布</h2>" + ("".join(rows) or "<p>无</p>")


def _clocks(record: Mapping[str, Any]) -> str:
    head = "<tr><th>时限</th><th>单位</th><th>到期</th><th>状态</th><th>结束</th></tr>"
    body = "".join(
        f"<tr><td>{_label(c.get('kind'))}</td><td>{_text(c.get('unit_id'))}</td>"
        f"<td>{_when(c.get('due'))}</td>"
        f"<td>{_text(CLOCK_STATES.get(c.get('state') or '', c.get('state')))}</td>"
        f"<td>{_when(c.get('closed_at'))}</td></tr>"
        for c in record.get("clocks") or []
        if isinstance(c, Mapping)
    )
    return f"<h2>九、办理时限</h2><table>{head}{body}</table>"


def _annulled(item: Mapping[str, Any]) -> str:
    annulled = item.get("annulled")
    if not isinstance(annulled, Mapping):
        return ""
    return (
        f"<br>已撤销（不计分）：{_text(annulled.get('reason'))} "
        f"{_text(annulled.get('by_name') or annulled.get('by'))} {_when(annulled.get('at'))}"
    )


def _supervision(record: Mapping[str, Any]) -> str:
    supervision = record.get("supervision")
    head = "<h2>十、催办与考核（第二十七、二十八条）</h2>"
    if not isinstance(supervision, Mapping):
        return f"{head}<p>无（本记录未收催办与考核）</p>"
    parts = [head]
    for reminder in supervision.get("reminders") or []:
        if not isinstance(reminder, Mapping):
            continue
        given = reminder.get("answer")
        answer: Mapping[str, Any] = given if isinstance(given, Mapping) else {}
        in_time = answer.get("in_time")
        parts.append(
            _rows(
                [
                    ("催办时间", _when(reminder.get("issued_at"))),
                    ("被催办单位", _text(reminder.get("unit_id"))),
                    ("催办内容", _pre(reminder.get("text"))),
                    ("反馈期限", _when(reminder.get("answer_due"))),
                    ("单位反馈", _pre(answer.get("text")) if answer else "未反馈"),
                    (
                        "反馈人",
                        _text(answer.get("by_name") or answer.get("by"))
                        + " "
                        + _when(answer.get("answered_at")),
                    ),
                    ("按时反馈", "" if in_time is None else _text(in_time)),
                ]
            )
        )
    if len(parts) == 1:
        parts.append("<p>无催办</p>")
    items = [i for i in supervision.get("assessment_items") or [] if isinstance(i, Mapping)]
    row_head = "<tr><th>单位</th><th>类别</th><th>扣分</th><th>理由</th><th>记录时间</th></tr>"
    rows = "".join(
        f"<tr><td>{_text(i.get('unit_id'))}</td>"
        f"<td>{_text(ASSESSMENT_KINDS.get(i.get('kind') or '', i.get('kind')))}</td>"
        f"<td>{_text(i.get('points'))}</td><td>{_text(i.get('reason'))}{_annulled(i)}</td>"
        f"<td>{_when(i.get('recorded_at'))}</td></tr>"
        for i in items
    )
    parts.append(f"<table>{row_head}{rows}</table>" if items else "<p>无考核扣分</p>")
    return "".join(parts)


def _audit(record: Mapping[str, Any]) -> str:
    trail = record.get("audit") or {}
    entries = [
        (e, source)
        for source in ("routing", "publishing")
        for e in trail.get(source) or []
        if isinstance(e, Mapping)
    ]
    entries.sort(key=lambda pair: str(pair[0].get("at")))
    head = "<tr><th>时间</th><th>操作人</th><th>操作</th><th>说明</th></tr>"
    body = "".join(
        f"<tr><td>{_when(e.get('at'))}</td><td>{_who(e.get('actor'))}</td>"
        f'<td>{_text(e.get("action"))}<br><span class="small">{source}</span></td>'
        f"<td>{_text(e.get('note'))}</td></tr>"
        for e, source in entries
    )
    return f"<h2>十一、操作记录</h2><table>{head}{body}</table>"


def render_record(record: Mapping[str, Any], *, sha256: str) -> bytes:
    """One letter's archive page."""
    letter = record.get("letter") or {}
    title = f"公开信箱存档 {record.get('letter_id', '')}"
    footer = _rows(
        [
            ("存档编号", _text(record.get("archive_id"))),
            ("存档时间", _when(record.get("archived_at"))),
            ("校验值（SHA-256）", f'<span class="small">{escape(sha256)}</span>'),
        ]
    )
    body = (
        f"<h1>重庆市商务委员会公开信箱办理存档</h1>"
        f'<p style="text-align:center">{_text(letter.get("title"))}</p>'
        f"{_letter(record)}{_slip(record)}{_replies(record)}{_publications(record)}"
        f"{_clocks(record)}{_supervision(record)}{_audit(record)}<h2>十二、存档信息</h2>{footer}"
    )
    return _page(title, body)


def render_index(
    rows: list[dict[str, Any]], *, period_from: date, period_to: date, generated_at: datetime
) -> bytes:
    """The package's list of letters."""
    head = "<tr><th>序号</th><th>信件编号</th><th>标题</th><th>存档时间</th><th>页面</th></tr>"
    body = "".join(
        f"<tr><td>{n}</td><td>{_text(row['letter_id'])}</td><td>{_text(row['title'])}</td>"
        f"<td>{_text(row['archived_at'][:16].replace('T', ' '))}</td>"
        f'<td><a href="{escape(row["path"])}/record.html">查看</a></td></tr>'
        for n, row in enumerate(rows, start=1)
    )
    local = to_shanghai(generated_at)
    intro = (
        f'<h1>公开信箱存档移交清单</h1><p style="text-align:center">'
        f"{period_from.isoformat()} 至 {period_to.isoformat()}，共 {len(rows)} 件；"
        f"生成于 {local:%Y-%m-%d %H:%M}</p>"
    )
    return _page("公开信箱存档移交清单", f"{intro}<table>{head}{body}</table>")
