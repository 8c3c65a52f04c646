"""One HTTP client for the four services, and their errors in words people read.

The console calls only the services' public APIs, each call with the person's own bearer
token (or none, for signing in): what a page shows is what the API answers that person.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal

import httpx

from shared.logging import get_logger

log = get_logger(__name__)

ServiceName = Literal["intake", "routing", "deadlines", "publishing"]

UNAVAILABLE = "系统暂时无法连接，请稍后再试。"
# What each answer means for the person in front of the page.
_PLAIN = {
    400: "请求有误，请返回后重试。",
    401: "登录已失效，请重新登录。",
    403: "您的岗位无权查看或办理这一项。",
    404: "找不到这一项：它不存在，或不属于您所在的单位。",
    409: "信件刚被他人更新，或当前环节不允许这样做。请刷新后再试。",
    413: "提交的内容太长。",
    422: "填写的内容有误",
    423: "账号已锁定。",
    503: UNAVAILABLE,
}
# The fields people fill in or pick, as the pages name them.
_FIELDS = {
    "state": "办理状态",
    "nature": "性质",
    "platform": "来信平台",
    "cursor": "翻页位置",
    "limit": "每页条数",
    "letter_id": "信件编号",
    "user_id": "用户名",
    "password": "密码",
    "old_password": "当前密码",
    "new_password": "新密码",
    # the lists, reports and operations (letters/, reports/, operations/)
    "q": "检索词",
    "received_from": "收信日期（起）",
    "received_to": "收信日期（止）",
    "month": "月份",
    "year": "年份",
    "role": "岗位",
    "unit_id": "所在单位",
    "day": "日期",
    "kind": "安排",
    "competence.default_unit_id": "默认承办单位",
    # the reply and its review (replies/)
    "unit": "承办单位",
    "handler": "经办人员",
    "investigation": "调查经过",
    "policy_basis": "政策依据",
    "result": "处理结果",
    "proposed_mode": "公开方式意见",
    "not_public_reason": "不公开理由",
    "publication_mode": "公开方式",
    "major": "重大事项",
    "major_reason": "重大事项理由",
    "comment": "意见",
    "reason": "理由",
    "new_due": "新的截止时间",
    "extra_working_days": "延期工作日数",
    "writer_informed": "告知来信人情况",
    "writer_informed.channel": "告知方式",
    "writer_informed.at": "告知时间",
    "writer_informed.note": "告知情况说明",
    "text": "内容",
    # the slip, the handler, calls, transfers, marks (casework/)
    "version": "信件版本",
    "opinion": "受理意见",
    "summary": "内容摘要",
    "accepted": "是否受理",
    "not_accepted_reason": "不予受理理由",
    "route": "办理方式（直办、转阅、呈办）",
    "lead_unit_id": "牵头单位",
    "assisting_unit_ids": "配合单位",
    "recipient_id": "转阅或呈办单位",
    "notes": "备注",
    "reply_text": "不受理答复",
    "notice_text": "告知来信人内容",
    "name": "姓名",
    "phone": "联系电话",
    "at": "时间",
    "channel": "方式",
    "outcome": "结果",
    "note": "说明",
    "reference": "文号或回执号",
    "sent_at": "送出时间",
    "sensitivities": "敏感情形",
    "agency": "移交机关",
    "approve": "审批决定",
}


class UpstreamError(Exception):
    """A service answered an error (or did not answer: 503)."""

    def __init__(
        self, status: int, *, code: str, message: str, details: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = dict(details or {})

    def fields(self) -> list[str]:
        """The fields a 422 names, as the pages call them."""
        errors = self.details.get("errors") or []
        named = [str(e.get("field", "")) for e in errors if isinstance(e, dict)]
        return [_FIELDS.get(name, name) for name in named if name]


def explain(error: UpstreamError) -> str:
    """The error in plain Chinese, for the page."""
    if error.status == 422:
        fields = "、".join(dict.fromkeys(error.fields()))
        return f"{_PLAIN[422]}：{fields}。" if fields else f"{_PLAIN[422]}。"
    if error.status in _PLAIN:
        return _PLAIN[error.status]
    if error.status >= 500:
        return _PLAIN[503]
    return f"操作未能完成（{error.status}）。"


class Upstream:
    """Calls the services' APIs; one connection pool, built in the lifespan."""

    def __init__(self, client: httpx.AsyncClient, *, url_of: Callable[[str], str]) -> None:
        self._client = client
        self._url_of = url_of

    async def call(
        self,
        service: ServiceName,
        method: str,
        path: str,
        *,
        token: str | None,
        params: Mapping[str, str | int | None] | None = None,
        json: Any = None,
    ) -> Any:
        """The JSON answer of a 2xx, else `UpstreamError`; `path` is already quoted."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        query = {k: v for k, v in (params or {}).items() if v is not None and v != ""}
        try:
            response = await self._client.request(
                method, self._url_of(service) + path, params=query, json=json, headers=headers
            )
        except httpx.HTTPError as exc:
            log.warning("service unreachable", service=service, path=path, error=repr(exc))
            raise UpstreamError(503, code="unavailable", message=str(exc)) from exc
        if response.is_success:
            return response.json()
        raise _error_of(response)

    async def download(
        self,
        service: ServiceName,
        path: str,
        *,
        token: str,
        params: Mapping[str, str | int | None] | None = None,
    ) -> httpx.Response:
        """A 2xx answer as it came (a CSV file, say), else `UpstreamError`."""
        headers = {"Authorization": f"Bearer {token}"}
        query = {k: v for k, v in (params or {}).items() if v is not None and v != ""}
        try:
            response = await self._client.get(
                self._url_of(service) + path, params=query, headers=headers
            )
        except httpx.HTTPError as exc:
            log.warning("service unreachable", service=service, path=path, error=repr(exc))
            raise UpstreamError(503, code="unavailable", message=str(exc)) from exc
        if response.is_success:
            return response
        raise _error_of(response)

    async def probe(self, service: ServiceName, path: str) -> tuple[int | None, Any]:
        """An operations route's status and JSON body (`/healthz`, `/readyz`), whatever the
        status; (None, None) when the service does not answer."""
        try:
            response = await self._client.get(self._url_of(service) + path)
        except httpx.HTTPError:
            return None, None
        try:
            return response.status_code, response.json()
        except ValueError:
            return response.status_code, None

    async def ping(self, service: ServiceName) -> bool:
        """Whether the service's liveness answers."""
        try:
            response = await self._client.get(self._url_of(service) + "/healthz")
        except httpx.HTTPError:
            return False
        return response.status_code == 200


def _error_of(response: httpx.Response) -> UpstreamError:
    # Every service answers its errors as `shared.web.ErrorBody`; a proxy in between may not.
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        details = body.get("details")
        return UpstreamError(
            response.status_code,
            code=body["error"],
            message=str(body.get("message", "")),
            details=details if isinstance(details, dict) else {},
        )
    return UpstreamError(response.status_code, code="http_error", message=response.reason_phrase)
