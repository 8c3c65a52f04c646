"""The words the letter's timeline uses for routing's values (pure data)."""

from __future__ import annotations

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
