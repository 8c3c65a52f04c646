"""The workflow's states and actions as the office and the units call them (pure)."""

from __future__ import annotations

from shared.events.vocabulary import LABELS_ZH, Nature

STATE_LABELS = {
    "registered": "已登记，待拟处理单",
    "slip_drafted": "处理单已拟",
    "slip_submitted": "处理单待审核",
    "slip_sent_back": "处理单被退回",
    "not_accepted": "不予受理",
    "forwarded": "已转阅",
    "escalated": "已呈办",
    "assigned": "已交办，待指定经办人",
    "in_handling": "办理中",
    "unit_head_review": "处室负责人审核中",
    "unit_leader_review": "分管委领导审核中",
    "unit_approved": "处室已审定，待报办公室",
    "office_recheck": "办公室复核中",
    "office_head_review": "办公室负责人审核中",
    "office_leader_review": "分管办公室委领导审核中",
    "principal_review": "委主要领导审核中",
    "returned": "答复被退回重办",
    "approved": "答复已审定",
    "published": "已答复公开",
    "archived": "已归档",
}

ACTION_LABELS = {
    "draft_slip": "拟写处理单",
    "submit_slip": "提交处理单",
    "approve_slip": "审核同意处理单",
    "send_back_slip": "退回处理单",
    "name_handler": "指定经办人",
    "record_contact": "记录联系来信人",
    "mark_contact_invalid": "标记联系方式无效",
    "request_assist": "请配合单位提供意见",
    "answer_assist": "答复牵头单位",
    "draft_reply": "拟写答复",
    "send_reply_for_review": "答复送处室负责人审核",
    "unit_head_approve": "处室负责人审核同意",
    "unit_head_send_back": "处室负责人退回",
    "unit_leader_approve": "分管委领导审核同意",
    "unit_leader_send_back": "分管委领导退回",
    "submit_reply": "答复报送办公室",
    "request_extension": "申请延期",
    "decide_extension": "审批延期申请",
    "recheck_approve": "办公室复核通过",
    "office_head_approve": "办公室负责人审核同意",
    "office_leader_approve": "分管办公室委领导审核同意",
    "principal_approve": "委主要领导审核同意",
    "return_reply": "退回答复",
    "mark_sensitive": "标记敏感信息",
    "propose_referral": "提出移交公安、国安机关",
    "decide_referral": "审批移交",
    "record_transfer": "登记转送",
    "publish": "公开发布",
    "archive": "归档",
}

NATURE_LABELS = {nature.value: LABELS_ZH[nature] for nature in Nature}

CLOCK_STATE_LABELS = {
    "running": "计时中",
    "met": "按时完成",
    "overdue": "已超期",
    "stopped": "已停止",
}

FIELD_LABELS = {
    "title": "标题",
    "text": "来信内容",
    "person": "来信人信息",
    "slip": "处理单",
    "suggestion": "分类建议",
    "why": "建议理由",
    "contact_attempts": "联系记录",
    "contact_invalid": "联系方式无效记录",
    "assist_requests": "协办意见",
    "reply": "答复",
    "reply_history": "答复修改记录",
}


def label(value: str | None, *, of: str) -> str:
    """A state's, an action's, a nature's or any vocabulary value's Chinese name."""
    if value is None:
        return "—"
    table = {
        "state": STATE_LABELS,
        "action": ACTION_LABELS,
        "nature": NATURE_LABELS,
        "field": FIELD_LABELS,
        "clock_state": CLOCK_STATE_LABELS,
    }.get(of)
    if table is not None:
        return table.get(value, value)
    return LABELS_ZH.get(value, value)
