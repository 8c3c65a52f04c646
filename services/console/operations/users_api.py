"""运维 · 用户: users by role and unit; the admin adds and changes them, sets a temporary
password and lifts a lock (routing's `/admin/users`)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from services.console.deps import CheckedForm, Current, SignedIn, UpstreamDep
from services.console.operations import service
from services.console.operations.pages import Again, Cursor, Text, attempt, page
from services.console.upstream.service import Upstream

router = APIRouter()


async def _users_page(
    request: Request,
    current: Current,
    upstream: Upstream,
    *,
    params: dict[str, str | None],
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    token = current.session.token
    users = await service.users(upstream, token=token, params=params)
    units = await service.units(upstream, token=token)
    context = {
        "users": users,
        "units": units.items,
        "filters": params,
        "errors": errors or {},
        "typed": typed or {},
    }
    return page(request, "users.html", context, current, status)


@router.get("/users")
async def users_page(
    request: Request,
    current: SignedIn,
    upstream: UpstreamDep,
    role: Text = None,
    unit_id: Text = None,
    cursor: Cursor = None,
) -> HTMLResponse:
    """Users by role and unit (office and admin read; the admin changes)."""
    params = {"role": role or None, "unit_id": unit_id or None, "cursor": cursor}
    return await _users_page(request, current, upstream, params=params)


@router.post("/users")
async def add_user(
    request: Request, current: SignedIn, upstream: UpstreamDep, form: CheckedForm
) -> Response:
    """Add a user; a temporary password is then set on their page."""

    async def again(message: str, status: int) -> HTMLResponse:
        errors = {"user-new": message}
        return await _users_page(
            request, current, upstream, params={}, errors=errors, typed=form, status=status
        )

    return await attempt(
        service.create_user(upstream, token=current.session.token, form=form),
        then=lambda made: f"/operations/users/{made.id}?done=created",
        again=again,
    )


async def _user_page(
    request: Request,
    current: Current,
    upstream: Upstream,
    user_id: str,
    *,
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
    status: int = 200,
    done: str | None = None,
) -> HTMLResponse:
    token = current.session.token
    person = await service.user(upstream, token=token, user_id=user_id)
    units = await service.units(upstream, token=token)
    context = {
        "person": person,
        "units": units.items,
        "errors": errors or {},
        "typed": typed or {},
        "done": done,
    }
    return page(request, "user.html", context, current, status)


def _again_on_user(
    request: Request,
    current: Current,
    upstream: Upstream,
    user_id: str,
    form_id: str,
    typed: dict[str, str] | None = None,
) -> Again:
    async def again(message: str, status: int) -> HTMLResponse:
        errors = {form_id: message}
        return await _user_page(
            request, current, upstream, user_id, errors=errors, typed=typed, status=status
        )

    return again


@router.get("/users/{user_id}")
async def user_page(
    request: Request, user_id: str, current: SignedIn, upstream: UpstreamDep, done: Text = None
) -> HTMLResponse:
    """One user: edit the name, role and unit; set a password; lift a lock."""
    return await _user_page(request, current, upstream, user_id, done=done)


@router.post("/users/{user_id}")
async def edit_user(
    request: Request, user_id: str, current: SignedIn, upstream: UpstreamDep, form: CheckedForm
) -> Response:
    """Change the name, role or unit on the version read (a new role revokes tokens)."""
    return await attempt(
        service.update_user(upstream, token=current.session.token, user_id=user_id, form=form),
        then=f"/operations/users/{user_id}?done=saved",
        again=_again_on_user(request, current, upstream, user_id, "user-edit", form),
    )


@router.post("/users/{user_id}/password")
async def password(
    request: Request, user_id: str, current: SignedIn, upstream: UpstreamDep, form: CheckedForm
) -> Response:
    """Set or reset a temporary password: the person changes it at the next sign-in."""
    again = _again_on_user(request, current, upstream, user_id, "user-password")
    new, repeated = form.get("password", ""), form.get("password_again", "")
    if new != repeated:
        return await again("两次输入的密码不一致。", 422)
    return await attempt(
        service.set_password(upstream, token=current.session.token, user_id=user_id, password=new),
        then=f"/operations/users/{user_id}?done=password",
        again=again,
    )


@router.post("/users/{user_id}/unlock")
async def unlock(
    request: Request, user_id: str, current: SignedIn, upstream: UpstreamDep, form: CheckedForm
) -> Response:
    """Lift a lock left by failed sign-ins."""
    return await attempt(
        service.unlock(upstream, token=current.session.token, user_id=user_id),
        then=f"/operations/users/{user_id}?done=unlocked",
        again=_again_on_user(request, current, upstream, user_id, "user-unlock"),
    )
