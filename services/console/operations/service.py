"""The administration APIs the operations pages call, as the signed-in person, and their
refusals in plain Chinese (the reason a 422 gives, where the page can say it in words)."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import date
from typing import Any, get_args
from urllib.parse import quote

from services.console.operations.schemas import (
    CalendarYear,
    DeadLetters,
    Health,
    QuarantineItem,
    QuarantinePage,
    Reprocessed,
    RulesRead,
    UnitPage,
    UnitRow,
    UploadPage,
    UploadRow,
    UserPage,
    UserRow,
)
from services.console.upstream.service import ServiceName, Upstream, UpstreamError, explain

ROLES = (
    "office_clerk",
    "office_head",
    "office_leader",
    "principal_leader",
    "unit_handler",
    "unit_head",
    "unit_leader",
    "admin",
)
UNIT_ROLES = frozenset({"unit_handler", "unit_head", "unit_leader"})
SERVICES: tuple[ServiceName, ...] = get_args(ServiceName)
STALE = "这一项刚被他人修改。请刷新页面看最新内容后再提交；您填写的内容仍在表单中。"
# Reasons the services give in English, as people read them.
_REASONS = (
    ("RE2", "过滤规则中有不被接受的正则表达式：须为 RE2 线性时间写法（不支持反向引用和环视）。"),
    ("at least", "密码至少 10 个字符。"),
    ("user name", "密码不能与用户名相同或包含用户名。"),
    ("old password", "新密码不能与原密码相同。"),
    ("no active unit", "目录中没有这个在用的单位。"),
    ("unit_id", "承办单位岗位须选择所在单位，办公室和管理员岗位不选单位。"),
    ("already exists", "已有同名的用户。"),
    ("external id must stay", "平台编号须与原记录一致。"),
    ("missing required field", "更正后的记录仍缺少必填项。"),
    ("no longer configured", "这个平台已不在配置中。"),
)
# A 409 that is not a stale version, as people read it (else: `STALE`).
_CONFLICTS = (
    (re.compile(r"^unit \S+ exists already"), "已有这个编号的单位。"),
    (re.compile(r"^user \S+ exists already"), "已有这个用户名的用户。"),
    (re.compile(r"is already a recipient"), "这个编号已被转阅、呈办的收件单位使用。"),
    (re.compile(r"default unit"), "这是分类规则中的默认承办单位，不能停用：请先修改分类规则。"),
    (re.compile(r"at least one active unit"), "目录中至少要有一个在用的单位。"),
    (re.compile(r"last active admin"), "须保留至少一个在用的系统管理员：请先添加另一个。"),
    (re.compile(r"^user \S+ is deactivated"), "这个用户已停用。"),
    (re.compile(r"resolved already"), "这条隔离记录已经处理（可能他人刚刚重新登记），无需再提交。"),
)


def plain(error: UpstreamError) -> str:
    """The error beside the form: what went wrong and, for a 422, why, in words."""
    if error.status == 409:
        said = error.message if error.code != "stale_version" else ""
        return next((words for key, words in _CONFLICTS if key.search(said)), STALE)
    text = explain(error)
    if error.status != 422:
        return text
    said = " ".join(
        [error.message]
        + [
            str(e.get("reason", ""))
            for e in error.details.get("errors") or []
            if isinstance(e, dict)
        ]
    )
    reasons = [words for key, words in _REASONS if key in said]
    if reasons:
        return text + "".join(dict.fromkeys(reasons))
    return text + (f"（{error.message}）" if error.message else "")


def _user_path(user_id: str, tail: str = "") -> str:
    return "/admin/users/" + quote(user_id, safe="") + tail


async def users(upstream: Upstream, *, token: str, params: dict[str, str | None]) -> UserPage:
    answer = await upstream.call(
        "routing", "GET", "/admin/users", token=token, params={**params, "limit": 50}
    )
    return UserPage.model_validate(answer)


async def user(upstream: Upstream, *, token: str, user_id: str) -> UserRow:
    return UserRow.model_validate(
        await upstream.call("routing", "GET", _user_path(user_id), token=token)
    )


def user_body(form: dict[str, str], *, with_version: bool) -> dict[str, Any]:
    """The user form as routing takes it: no unit for a role without one."""
    role = form.get("role", "")
    body: dict[str, Any] = {"name": form.get("name", "").strip(), "role": role}
    unit = form.get("unit_id", "").strip()
    body["unit_id"] = unit if unit and role in UNIT_ROLES else None
    if with_version:
        version = form.get("version", "")
        body["version"] = int(version) if version.isdigit() else 0
    return body


async def create_user(upstream: Upstream, *, token: str, form: dict[str, str]) -> UserRow:
    body = user_body(form, with_version=False)
    if form.get("id", "").strip():
        body["id"] = form["id"].strip()
    answer = await upstream.call("routing", "POST", "/admin/users", token=token, json=body)
    return UserRow.model_validate(answer)


async def update_user(
    upstream: Upstream, *, token: str, user_id: str, form: dict[str, str]
) -> UserRow:
    body = user_body(form, with_version=True)
    answer = await upstream.call("routing", "PUT", _user_path(user_id), token=token, json=body)
    return UserRow.model_validate(answer)


async def set_password(upstream: Upstream, *, token: str, user_id: str, password: str) -> None:
    await upstream.call(
        "routing",
        "PUT",
        _user_path(user_id, "/password"),
        token=token,
        json={"password": password},
    )


async def unlock(upstream: Upstream, *, token: str, user_id: str) -> None:
    await upstream.call("routing", "POST", _user_path(user_id, "/unlock"), token=token)


async def units(upstream: Upstream, *, token: str, cursor: str | None = None) -> UnitPage:
    answer = await upstream.call(
        "routing",
        "GET",
        "/admin/directory/units",
        token=token,
        params={"cursor": cursor, "limit": 100},
    )
    return UnitPage.model_validate(answer)


def _unit_path(unit_id: str, tail: str = "") -> str:
    return "/admin/directory/units/" + quote(unit_id, safe="") + tail


def words(text: str, *, lines: bool = False) -> list[str]:
    """A list typed one a line (`lines`), or also split at commas and 、."""
    for mark in () if lines else (",", "，", "、", ";", "；"):
        text = text.replace(mark, "\n")
    return list(dict.fromkeys(w.strip() for w in text.splitlines() if w.strip()))


def unit_body(form: dict[str, str], *, creating: bool) -> dict[str, Any]:
    """The unit form as routing takes it: topics one a line; keywords and aliases listed."""
    body: dict[str, Any] = {
        "name": form.get("name", "").strip(),
        "kind": form.get("kind", ""),
        "topics": words(form.get("topics", ""), lines=True),
        "keywords": words(form.get("keywords", "")),
        "aliases": words(form.get("aliases", "")),
        "sample": form.get("sample") == "1",
    }
    if creating:
        body["id"] = form.get("id", "").strip()
    else:
        body["version"] = _version(form)
    return body


def _version(form: dict[str, str]) -> int:
    version = form.get("version", "")
    return int(version) if version.isdigit() else 0


async def unit(upstream: Upstream, *, token: str, unit_id: str) -> UnitRow:
    return UnitRow.model_validate(
        await upstream.call("routing", "GET", _unit_path(unit_id), token=token)
    )


async def create_unit(upstream: Upstream, *, token: str, form: dict[str, str]) -> UnitRow:
    body = unit_body(form, creating=True)
    answer = await upstream.call(
        "routing", "POST", "/admin/directory/units", token=token, json=body
    )
    return UnitRow.model_validate(answer)


async def update_unit(
    upstream: Upstream, *, token: str, unit_id: str, form: dict[str, str]
) -> UnitRow:
    body = unit_body(form, creating=False)
    answer = await upstream.call("routing", "PUT", _unit_path(unit_id), token=token, json=body)
    return UnitRow.model_validate(answer)


async def set_unit_active(
    upstream: Upstream, *, token: str, unit_id: str, form: dict[str, str], active: bool
) -> UnitRow:
    tail = "/reactivate" if active else "/deactivate"
    body = {"version": _version(form)}
    answer = await upstream.call(
        "routing", "POST", _unit_path(unit_id, tail), token=token, json=body
    )
    return UnitRow.model_validate(answer)


async def calendar(upstream: Upstream, *, token: str, year: int) -> CalendarYear:
    answer = await upstream.call("deadlines", "GET", f"/calendar/{year}", token=token)
    return CalendarYear.model_validate(answer)


async def set_day(
    upstream: Upstream, *, token: str, day: date, kind: str, note: str
) -> CalendarYear:
    answer = await upstream.call(
        "deadlines",
        "PUT",
        f"/calendar/overrides/{day.isoformat()}",
        token=token,
        json={"kind": kind, "note": note},
    )
    return CalendarYear.model_validate(answer)


async def remove_day(upstream: Upstream, *, token: str, day: date) -> CalendarYear:
    path = f"/calendar/overrides/{day.isoformat()}"
    return CalendarYear.model_validate(
        await upstream.call("deadlines", "DELETE", path, token=token)
    )


async def confirm_year(
    upstream: Upstream, *, token: str, year: int, confirmed: bool, note: str
) -> CalendarYear:
    answer = await upstream.call(
        "deadlines",
        "PUT",
        f"/calendar/years/{year}",
        token=token,
        json={"confirmed": confirmed, "note": note},
    )
    return CalendarYear.model_validate(answer)


async def rules(upstream: Upstream, *, token: str) -> RulesRead:
    return RulesRead.model_validate(
        await upstream.call("routing", "GET", "/admin/rules", token=token)
    )


class BadJson(ValueError):
    """The rule set typed is not JSON (the message is for the page)."""


def parse_rules(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadJson(
            f"规则不是有效的 JSON：第 {exc.lineno} 行第 {exc.colno} 列附近有误。"
        ) from None
    if not isinstance(value, dict):
        raise BadJson("规则应是一个 JSON 对象（以 { 开始）。")
    return value


async def save_rules(upstream: Upstream, *, token: str, body: dict[str, Any]) -> RulesRead:
    answer = await upstream.call("routing", "PUT", "/admin/rules", token=token, json=body)
    return RulesRead.model_validate(answer)


async def quarantine(
    upstream: Upstream, *, token: str, status: str | None, cursor: str | None
) -> QuarantinePage:
    answer = await upstream.call(
        "intake",
        "GET",
        "/quarantine",
        token=token,
        params={"status": status, "cursor": cursor, "limit": 50},
    )
    return QuarantinePage.model_validate(answer)


def _item_path(item_id: str, tail: str = "") -> str:
    return "/quarantine/" + quote(item_id, safe="") + tail


async def quarantine_item(upstream: Upstream, *, token: str, item_id: str) -> QuarantineItem:
    answer = await upstream.call("intake", "GET", _item_path(item_id), token=token)
    return QuarantineItem.model_validate(answer)


class BadRecord(ValueError):
    """The corrected record typed is not a JSON object (the message is for the page)."""


def parse_record(text: str) -> dict[str, Any]:
    """The corrected record, in the platform's own field names, as a JSON object."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadRecord(
            f"更正后的记录不是有效的 JSON：第 {exc.lineno} 行第 {exc.colno} 列附近有误。"
        ) from None
    if not isinstance(value, dict):
        raise BadRecord("更正后的记录应是一个 JSON 对象（以 { 开始），用平台自己的字段名。")
    return value


async def reprocess(
    upstream: Upstream, *, token: str, item_id: str, record: dict[str, Any]
) -> Reprocessed:
    """Register the item from its corrected record (intake validates it again)."""
    answer = await upstream.call(
        "intake", "POST", _item_path(item_id, "/reprocess"), token=token, json={"record": record}
    )
    return Reprocessed.model_validate(answer)


async def uploads(upstream: Upstream, *, token: str, state: str, cursor: str | None) -> UploadPage:
    answer = await upstream.call(
        "publishing",
        "GET",
        "/uploads",
        token=token,
        params={"state": state, "cursor": cursor, "limit": 50},
    )
    return UploadPage.model_validate(answer)


async def retry_upload(upstream: Upstream, *, token: str, upload_id: str) -> UploadRow:
    path = "/uploads/" + quote(upload_id, safe="") + "/retry"
    return UploadRow.model_validate(await upstream.call("publishing", "POST", path, token=token))


async def dead_letters(upstream: Upstream, *, token: str) -> list[DeadLetters]:
    """Each service's parked events (admin only); a service that refuses or does not
    answer is shown with the reason."""

    async def one(name: ServiceName) -> DeadLetters:
        try:
            answer = await upstream.call(name, "GET", "/operations/dead-letters", token=token)
        except UpstreamError as error:
            if error.status == 401:
                raise
            return DeadLetters(service=name, error=explain(error), status=error.status)
        return DeadLetters.model_validate({**answer, "service": name})

    return list(await asyncio.gather(*(one(s) for s in SERVICES)))


async def replay(
    upstream: Upstream, *, token: str, service: ServiceName, message_id: str | None
) -> int:
    """Send one parked event (or all of a service's) back to the service's queue."""
    answer = await upstream.call(
        service,
        "POST",
        "/operations/dead-letters/replay",
        token=token,
        json={"message_id": message_id},
    )
    return int(answer.get("requeued", 0))


async def health(upstream: Upstream) -> list[Health]:
    """Each service's `/healthz` (the process answers) and `/readyz` (its servers answer)."""

    async def one(service: ServiceName) -> Health:
        (alive_status, _), (ready_status, body) = await asyncio.gather(
            upstream.probe(service, "/healthz"), upstream.probe(service, "/readyz")
        )
        checks = body.get("checks") if isinstance(body, dict) else None
        return Health(
            service=service,
            alive=alive_status == 200,
            ready=ready_status == 200,
            status=ready_status,
            checks={str(k): bool(v) for k, v in (checks or {}).items()},
        )

    return list(await asyncio.gather(*(one(s) for s in SERVICES)))
