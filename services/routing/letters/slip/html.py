"""The handling slip as a printable one-page A4 document (市商务委公开信箱（电话）处理单).

Internal and confidential: it names the writer, so it is marked 内部资料 注意保密 and served
only to those who may read the letter.
"""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Any

from services.routing.letters.models import TRANSFER_CHANNEL_ZH
from shared.clock import to_shanghai
from shared.events.vocabulary import LABELS_ZH, Nature
from shared.mongo import Document

_SOURCE_ZH = {"platform": "网络平台", "hotline": "电话", "other": "其他渠道"}
_CSS = """
@page { size: A4; margin: 18mm 16mm; }
* { box-sizing: border-box; }
body { font-family: "SimSun", "Songti SC", "Noto Serif CJK SC", serif; font-size: 11pt;
       color: #000; margin: 0 auto; max-width: 178mm; }
.mark { display: flex; justify-content: space-between; font-size: 10pt; }
.mark .secret { border: 1px solid #000; padding: 1mm 3mm; font-weight: bold; }
h1 { text-align: center; font-size: 18pt; letter-spacing: 2pt; margin: 6mm 0 4mm; }
table { width: 100%; border-collapse: collapse; table-layout: fixed; }
th, td { border: 1px solid #000; padding: 2mm 2.5mm; vertical-align: top; }
th { width: 26mm; font-weight: normal; text-align: center; vertical-align: middle; }
td.tall { height: 30mm; } td.mid { height: 20mm; }
.sign { text-align: right; margin-top: 2mm; font-size: 10pt; }
.foot { margin-top: 3mm; font-size: 9pt; }
@media print { .noprint { display: none; } body { max-width: none; } }
"""
_FOOT = (
    "说明：承办单位应按处理单交办意见明确具体承办人，及时与来信人联系，"
    "在规定时限内形成答复意见，提出公开方式意见，报处室负责人并分管委领导审核后"
    "反馈委办公室（第十四条）。答复应具备承办单位、经办人员、调查经过、政策依据、"
    "处理结果等要素（第二十九条）。来信人个人信息严格保密。"
)


def _e(value: Any) -> str:
    return escape("" if value is None else str(value))


def _when(value: datetime | None) -> str:
    return "" if value is None else f"{to_shanghai(value):%Y年%m月%d日 %H:%M}"


def _day(value: datetime | None) -> str:
    return "" if value is None else f"{to_shanghai(value):%Y年%m月%d日}"


def _writer(person: dict[str, Any]) -> str:
    parts = [person.get("name"), person.get("phone"), person.get("email"), person.get("address")]
    return "　".join(_e(p) for p in parts if p) or "（未留）"


def _classification(slip: dict[str, Any]) -> str:
    nature = LABELS_ZH.get(slip.get("nature") or "", "")
    if slip.get("accepted"):
        scope = "受理"
        route = LABELS_ZH.get(slip.get("route") or "", "")
    else:
        reason = LABELS_ZH.get(slip.get("not_accepted_reason") or "", "")
        scope = f"不受理（{reason}）" if reason else "不受理"
        route = "—"
    return f"性质：{_e(nature)}　　范围：{_e(scope)}　　职能：{_e(route)}"


def _units(slip: dict[str, Any]) -> str:
    route = slip.get("route")
    if not slip.get("accepted"):
        return "—（不受理，由委办公室答复来信人）"
    if route == "direct":
        assisting = "、".join(slip.get("assisting_unit_names") or []) or "无"
        return f"牵头单位：{_e(slip.get('lead_unit_name'))}<br>配合单位：{_e(assisting)}"
    label = "转阅单位" if route == "forward" else "呈办单位"
    return f"{label}：{_e(slip.get('recipient_name'))}"


def _time_limit(doc: Document, slip: dict[str, Any]) -> str:
    handling = (doc.get("clocks") or {}).get("handling")
    if handling and handling.get("due"):
        return f"{_when(handling['due'])}前办结" + (
            "（暂定）" if handling.get("provisional") else ""
        )
    if not slip.get("accepted") or slip.get("route") != "direct":
        return "—"
    days = 3 if slip.get("nature") == Nature.consultation.value else 10
    return f"自收到处理单之日起{days}个工作日内办结（第十九条）"


def _head_opinion(slip: dict[str, Any]) -> str:
    reviews = slip.get("reviews") or []
    if not reviews:
        return ""
    last = reviews[-1]
    verdict = "同意" if last.get("decision") == "approved" else "退回重拟"
    comment = last.get("comment") or ""
    who = (last.get("by") or {}).get("name", "")
    return (
        f"{_e(verdict)}{'：' + _e(comment) if comment else ''}"
        f"<div class='sign'>{_e(who)}　{_day(last.get('at'))}</div>"
    )


def render_slip(doc: Document) -> str:
    """The slip of `doc` as a complete HTML page (print CSS for one A4 page)."""
    slip: dict[str, Any] = doc.get("slip") or {}
    person: dict[str, Any] = doc.get("person") or {}
    source = _SOURCE_ZH.get(doc.get("source") or "", "")
    drafted_by = (slip.get("drafted_by") or {}).get("name", "")
    opinion = _e(slip.get("opinion"))
    if not slip.get("accepted") and slip.get("reply_text"):
        opinion += f"<br><br>不受理答复：{_e(slip['reply_text'])}"
    elif slip.get("notice_text"):
        opinion += f"<br><br>告知来信人：{_e(slip['notice_text'])}"
    notes = _e(slip.get("notes"))
    if slip.get("major"):
        notes = "重大事项（报委主要领导审定）。" + notes
    rows = [
        ("来信编号", f"{_e(doc.get('external_id'))}<br><small>{_e(doc.get('_id'))}</small>", ""),
        ("来　　源", f"{_e(source)}　{_e(doc.get('platform'))}", ""),
        ("收件时间", _when(doc.get("received_at")), ""),
        ("来 信 人", _writer(person), ""),
        ("标　　题", _e(doc.get("title")), ""),
        ("内容摘要", _e(slip.get("summary")), "mid"),
        ("分　　类", _classification(slip) if slip else "", ""),
        (
            "受理意见",
            f"{opinion}<div class='sign'>经办人：{_e(drafted_by)}　"
            f"{_day(slip.get('drafted_at'))}</div>",
            "tall",
        ),
        ("办公室负责人<br>审核意见", _head_opinion(slip), "mid"),
        ("承办单位", _units(slip) if slip else "", ""),
        ("办理时限", _time_limit(doc, slip) if slip else "", ""),
        ("备　　注", notes, ""),
    ]
    body = "\n".join(
        f"<tr><th>{label}</th><td class='{cls}'>{value}</td></tr>" for label, value, cls in rows
    )
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>市商务委公开信箱（电话）处理单 {_e(doc.get("external_id"))}</title>
<style>{_CSS}</style>
</head>
<body>
<div class="mark"><span>处理单号：{_e(slip.get("id"))}</span>
<span class="secret">内部资料 注意保密</span></div>
<h1>市商务委公开信箱（电话）处理单</h1>
<table>
{body}
</table>
<p class="foot">{_FOOT}</p>
</body>
</html>
"""


_TRANSFER_TITLE = {"forward": "公开信箱来信转办函", "escalate": "公开信箱来信呈办函"}
_TRANSFER_ASK = {
    "forward": (
        "该来信反映的事项属贵单位职责范围，现将来信内容转去，请按职责研究办理并直接答复来信人。"
    ),
    "escalate": (
        "该来信反映的事项涉及多个部门（或无法界定转阅单位），现将来信内容呈报，请协调处理。"
    ),
}


def render_transfer(doc: Document) -> str:
    """The transfer letter of `doc` (转办函 / 呈办函): the letter's content for the recipient."""
    transfer: dict[str, Any] = doc.get("transfer") or {}
    slip: dict[str, Any] = doc.get("slip") or {}
    person: dict[str, Any] = doc.get("person") or {}
    route = transfer.get("route") or "forward"
    sent = ""
    if transfer.get("status") == "sent":
        raw = str(transfer.get("channel") or "")
        # A StrEnum member hashes as its value: a stored value no longer known shows as is.
        channel = {c.value: zh for c, zh in TRANSFER_CHANNEL_ZH.items()}.get(raw, raw)
        sender = (transfer.get("sent_by") or {}).get("name")
        sent = (
            f"已于{_when(transfer.get('sent_at'))}送出（{_e(channel)}，"
            f"{_e(transfer.get('reference'))}），经办人：{_e(sender)}"
        )
    rows = [
        ("来信编号", f"{_e(doc.get('external_id'))}<br><small>{_e(doc.get('_id'))}</small>", ""),
        ("收件时间", _when(doc.get("received_at")), ""),
        ("来 信 人", _writer(person), ""),
        ("标　　题", _e(doc.get("title")), ""),
        ("来信内容", _e(doc.get("text")).replace("\n", "<br>"), "tall"),
        ("受理意见", _e(slip.get("opinion")), "mid"),
        ("办公室负责人<br>审核意见", _head_opinion(slip), "mid"),
        ("已告知来信人", _e(slip.get("notice_text")), ""),
        ("送出情况", sent or "待送出", ""),
    ]
    body = "\n".join(
        f"<tr><th>{label}</th><td class='{cls}'>{value}</td></tr>" for label, value, cls in rows
    )
    title = _TRANSFER_TITLE.get(route, _TRANSFER_TITLE["forward"])
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>{title} {_e(doc.get("external_id"))}</title>
<style>{_CSS}</style>
</head>
<body>
<div class="mark"><span>处理单号：{_e(slip.get("id"))}</span>
<span class="secret">内部资料 注意保密</span></div>
<h1>{title}</h1>
<p>{_e(transfer.get("recipient_name"))}：</p>
<p>{_TRANSFER_ASK.get(route, "")}</p>
<table>
{body}
</table>
<p class="sign">市商务委办公室　{_day(transfer.get("decided_at"))}</p>
<p class="foot">来信人个人信息仅供办理使用，请严格保密（第三条）。</p>
</body>
</html>
"""
