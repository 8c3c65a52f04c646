"""运维: users and their roles, the units directory, the holiday calendar, the classifier's
rules, quarantine, parked and refused uploads, dead letters, and each service's health.

Every service decides who may do what (the admin and the office roles, as each API
allows); a refusal, a stale version or a 422 is shown beside the form it came from, in
plain Chinese, with what was typed kept (`pages.attempt`). Every POST form carries
`csrf_token`. The pages live by subject: `users_api`, `directory_api`, `calendar_api`
(the calendar and the rules), `queues_api` (quarantine, uploads, dead letters).

Routes, forms (id), fields and buttons (stable, for the browser tests):

- `GET /operations`: links, and `#health` (per service `tr[data-service]`, 正常 / 未就绪 /
  无法连接, and each readiness check).
- `GET /operations/users?role=&unit_id=&cursor=`: `#users` (`tr[data-user]`);
  `form#user-new` POST `/operations/users`: `id` `name` `role` `unit_id` — 添加用户.
- `GET /operations/users/{id}`: `form#user-edit` POST `/operations/users/{id}`: `name`
  `role` `unit_id` `version` — 保存修改; `form#user-password` POST
  `/operations/users/{id}/password`: `password` `password_again` — 设置临时密码 (the person
  changes it at the next sign-in); `form#user-unlock` POST `/operations/users/{id}/unlock`
  — 解除锁定 (shown while locked).
- `GET /operations/units`: `#units` (`tr[data-unit]`), the directory's units;
  `form#unit-new` POST `/operations/units`: `id` `name` `kind` (department 处室 /
  affiliated 委属单位) `topics` (one a line) `keywords` `aliases` (separated by 、 , or
  lines) — 添加单位.
- `GET /operations/units/{id}`: `form#unit-edit` POST `/operations/units/{id}`: `name`
  `kind` `topics` `keywords` `aliases` `sample` `version` — 保存修改; `form#unit-active`
  POST `/operations/units/{id}/deactivate` (停用) or `/reactivate` (重新启用): `version`.
- `GET /operations/calendar?year=YYYY`: `#calendar-status` (已确认 / 官方数据 / 暂定);
  `form#calendar-day` POST `/operations/calendar/days`: `year` `day` `kind`
  (holiday 放假 / workday 调休上班) `note` — 添加; per override `form.calendar-remove` POST
  `/operations/calendar/days/{day}/delete` — 删除; `form#calendar-confirm` POST
  `/operations/calendar/years/{year}`: `note` `confirmed` (1 / 0) — 确认本年安排 / 撤销确认.
- `GET /operations/rules`: `form#rules` POST `/operations/rules`: `rules` (the whole rule
  set as JSON, with its `version`) — 保存规则; a bad RE2 pattern comes back as routing's 422.
- `GET /operations/quarantine?status=open|resolved`: `#quarantine` (`tr[data-item]`).
- `GET /operations/quarantine/{id}`: the item; `form#quarantine-reprocess` POST
  `/operations/quarantine/{id}/reprocess`: `record` (the corrected record as JSON, in the
  platform's field names) — 更正后登记.
- `GET /operations/uploads?state=parked|refused`: `#uploads` (`tr[data-upload]`); per row
  `form.upload-retry` POST `/operations/uploads/{id}/retry` — 重新发送 / 重新检查.
- `GET /operations/dead-letters`: `#dead-letters`, per service `section[data-service]`
  (count, queue, and per event `tr[data-message]`: type, letter, attempts, reason, when —
  never the payload); `form.dead-replay` POST `/operations/dead-letters/replay`: `service`
  `message_id` (empty: all of that service's) — 重新投递 / 全部重新投递 (the admin).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from services.console.deps import SignedIn, UpstreamDep
from services.console.operations import (
    calendar_api,
    directory_api,
    queues_api,
    service,
    users_api,
)
from services.console.operations.pages import page

router = APIRouter(prefix="/operations", include_in_schema=False)


@router.get("")
async def index(request: Request, current: SignedIn, upstream: UpstreamDep) -> HTMLResponse:
    """The operations' pages, and each service's health."""
    health = await service.health(upstream)
    return page(request, "index.html", {"health": health}, current)


for _pages in (users_api, directory_api, calendar_api, queues_api):
    router.include_router(_pages.router)
