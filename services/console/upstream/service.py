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
