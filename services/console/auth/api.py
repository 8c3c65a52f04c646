"""Sign-in, the password change and sign-out pages."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.console.auth import service
from services.console.auth.service import OpenedSession
from services.console.deps import (
    FORM_COOKIE,
    FORM_COOKIE_MAX_AGE_S,
    SESSION_COOKIE,
    CheckedForm,
    MaybeSignedIn,
    SessionsDep,
    SettingsDep,
    SignedIn,
    SignedOutForm,
    UpstreamDep,
    clear_cookie,
    form_token,
    render,
    safe_next,
    set_cookie,
)
from services.console.settings import ConsoleSettings
from services.console.upstream.service import UpstreamError, explain

router = APIRouter(include_in_schema=False)

LOCAL = ZoneInfo("Asia/Shanghai")
NOTICES = {
    "signed_out": "您已安全退出。",
    "expired": "登录已失效，请重新登录。",
    "changed": "密码已修改。",
}
WRONG = "用户名或密码错误。"
MUST_CHANGE = "管理员为您设置了临时密码。首次登录前，请先设置您自己的密码。"
POLICY = "新密码至少 10 个字符，不能与用户名相同，也不能与当前密码相同。"


def _locked(error: UpstreamError) -> str:
    until = error.details.get("locked_until")
    if not until:
        return "账号已锁定：连续输错密码次数过多。请联系系统管理员解锁。"
    when = datetime.fromisoformat(str(until)).astimezone(LOCAL).strftime("%Y-%m-%d %H:%M")
    return f"账号已锁定：连续输错密码次数过多。请于 {when} 后再试，或联系系统管理员解锁。"


def _form_page(
    request: Request,
    settings: ConsoleSettings,
    template: str,
    context: dict[str, Any],
    *,
    status_code: int = 200,
) -> HTMLResponse:
    """A signed-out form with its CSRF token, the cookie set (or renewed) alongside."""
    token = form_token(request, settings)
    response = render(request, template, {**context, "form_csrf": token}, status_code=status_code)
    set_cookie(response, settings, FORM_COOKIE, token, max_age_s=FORM_COOKIE_MAX_AGE_S)
    return response


def _signed_in(opened: OpenedSession, settings: ConsoleSettings, *, to: str) -> Response:
    response = RedirectResponse(safe_next(to), status_code=303)
    ttl = settings.session_ttl_s
    set_cookie(response, settings, SESSION_COOKIE, opened.session_id, max_age_s=ttl)
    return response


@router.get("/login")
async def login_page(
    request: Request,
    settings: SettingsDep,
    current: MaybeSignedIn,
    next: str | None = None,
    notice: str | None = None,
) -> Response:
    """The sign-in form."""
    if current is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    context = {"next": safe_next(next), "notice": NOTICES.get(notice or ""), "user_id": ""}
    return _form_page(request, settings, "auth/login.html", context)


@router.post("/login")
async def login(
    request: Request,
    form: SignedOutForm,
    settings: SettingsDep,
    upstream: UpstreamDep,
    sessions: SessionsDep,
    current: MaybeSignedIn,
) -> Response:
    """Signs in at routing; a forced password change leads to its form."""
    user_id = form.get("user_id", "").strip()
    to = safe_next(form.get("next"))
    context: dict[str, Any] = {"next": to, "user_id": user_id, "notice": None}
    try:
        opened = await service.sign_in(
            upstream, sessions, user_id=user_id, password=form.get("password", "")
        )
    except UpstreamError as exc:
        if exc.status == 403 and exc.code == "password_change_required":
            context["notice"] = MUST_CHANGE
            return _form_page(request, settings, "auth/password.html", context)
        if exc.status in (401, 422):
            context["error"] = WRONG
            return _form_page(request, settings, "auth/login.html", context, status_code=401)
        message = _locked(exc) if exc.status == 423 else explain(exc)
        context["error"] = message
        status = exc.status if exc.status == 423 else 503
        return _form_page(request, settings, "auth/login.html", context, status_code=status)
    if current is not None:  # another person's session in this browser ends here
        await sessions.delete(current.session_id)
    return _signed_in(opened, settings, to=to)


@router.get("/password")
async def password_page(
    request: Request, settings: SettingsDep, current: MaybeSignedIn
) -> Response:
    """The form to change one's password (signed in or not)."""
    user_id = current.session.user_id if current else ""
    context = {"next": "/worklist", "user_id": user_id, "notice": None}
    return _form_page(request, settings, "auth/password.html", context)


@router.post("/password")
async def change_password(
    request: Request,
    form: SignedOutForm,
    settings: SettingsDep,
    upstream: UpstreamDep,
    sessions: SessionsDep,
    current: MaybeSignedIn,
) -> Response:
    """Changes the password at routing, then signs in with the new one."""
    user_id = form.get("user_id", "").strip()
    new = form.get("new_password", "")
    context: dict[str, Any] = {"next": safe_next(form.get("next")), "user_id": user_id}
    if new != form.get("new_password_again", ""):
        context["error"] = "两次输入的新密码不一致。"
        return _form_page(request, settings, "auth/password.html", context, status_code=422)
    try:
        opened = await service.change_password(
            upstream, sessions, user_id=user_id, old=form.get("old_password", ""), new=new
        )
    except UpstreamError as exc:
        if exc.status == 401:
            context["error"] = "用户名或当前密码错误。"
        elif exc.status == 422 and "new_password" in {
            str(e.get("field")) for e in exc.details.get("errors", []) if isinstance(e, dict)
        }:
            context["error"] = POLICY
        elif exc.status == 422:
            context["error"] = "用户名或当前密码错误。"
        elif exc.status == 423:
            context["error"] = _locked(exc)
        elif exc.status == 409:
            context["error"] = "密码刚被修改过。请用新密码登录。"
        else:
            context["error"] = explain(exc)
        status = exc.status if exc.status < 500 else 503
        return _form_page(request, settings, "auth/password.html", context, status_code=status)
    if current is not None:
        await sessions.delete(current.session_id)
    return _signed_in(opened, settings, to=context["next"])


@router.post("/logout")
async def logout(
    _: CheckedForm,
    current: SignedIn,
    settings: SettingsDep,
    upstream: UpstreamDep,
    sessions: SessionsDep,
) -> Response:
    """Revokes the token at routing and ends the session."""
    await service.sign_out(
        upstream, sessions, session_id=current.session_id, session=current.session
    )
    response = RedirectResponse("/login?notice=signed_out", status_code=303)
    clear_cookie(response, settings, SESSION_COOKIE)
    return response
