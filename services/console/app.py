"""The console: the office's and the units' web pages (Jinja2, htmx), a client of the four
services' public APIs acting with the signed-in person's own token.

It owns sessions only (in Redis, so any instance serves any request) and no letter data.
Run with `uvicorn services.console.app:create_app --factory --port 8005`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import httpx
import jinja2
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from redis.asyncio import Redis
from redis.exceptions import RedisError
from starlette.exceptions import HTTPException

from services.console.auth import api as auth_api
from services.console.auth.store import SessionStore
from services.console.casework import api as casework_api
from services.console.deps import (
    SESSION_COOKIE,
    BadForm,
    CsrfRefused,
    SignInRequired,
    clear_cookie,
    cookie_name,
    render,
)
from services.console.letters import api as letters_api
from services.console.letters.labels import label
from services.console.operations import api as operations_api
from services.console.replies import api as replies_api
from services.console.reports import api as reports_api
from services.console.settings import ConsoleSettings
from services.console.upstream.service import UNAVAILABLE, Upstream, UpstreamError, explain
from shared.logging import configure_logging, get_logger
from shared.web import create_service_app

log = get_logger(__name__)

HERE = Path(__file__).resolve().parent
LOCAL = ZoneInfo("Asia/Shanghai")
# htmx is vendored, pinned, from its npm package (static/htmx.LICENSE); no CDN.
HTMX = "htmx-2.0.11.min.js"
# The domain packages whose templates are named `<domain>/…`.
DOMAINS = ("auth", "letters", "casework", "replies", "reports", "operations")
# Scripts and styles only from the console itself; htmx runs with eval off (base.html).
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
        " form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}
_TITLES = {403: "无权访问", 404: "找不到", 409: "状态已变化", 422: "填写有误", 503: "暂时无法连接"}


def local_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A moment in Beijing time, as the office reads it."""
    return value.astimezone(LOCAL).strftime(fmt) if value else "—"


def templates() -> Jinja2Templates:
    """The pages: the layout here, each domain's own under its name (`letters/…`)."""
    loader = jinja2.ChoiceLoader(
        [
            jinja2.FileSystemLoader(HERE / "templates"),
            jinja2.PrefixLoader(
                {name: jinja2.FileSystemLoader(HERE / name / "templates") for name in DOMAINS}
            ),
        ]
    )
    env = jinja2.Environment(
        loader=loader, autoescape=True, undefined=jinja2.StrictUndefined, auto_reload=False
    )
    env.filters["local_time"] = local_time
    env.filters["label"] = label
    env.globals["htmx"] = HTMX
    return Jinja2Templates(env=env)


def create_app(
    settings: ConsoleSettings | None = None,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """The console app; `transport` reaches the services another way (tests: in process)."""
    settings = settings or ConsoleSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(service="console", level=settings.log_level, json=settings.log_json)
        redis = Redis.from_url(
            settings.redis_url,
            socket_timeout=settings.readiness_timeout_s,
            socket_connect_timeout=settings.readiness_timeout_s,
        )
        client = httpx.AsyncClient(
            transport=transport,
            timeout=settings.upstream_timeout_s,
            follow_redirects=False,
        )
        sessions = SessionStore(redis, ttl_s=settings.session_ttl_s)
        app.state.settings = settings
        app.state.sessions = sessions
        app.state.upstream = Upstream(client, url_of=settings.url_of)
        # Ready when it can keep sessions; a service that does not answer is told on the
        # page that needs it, so the console still answers (and says so) meanwhile.
        app.state.readiness_checks["redis"] = sessions.ping
        try:
            yield
        finally:
            await client.aclose()
            await redis.aclose()

    app = create_service_app(
        service="console",
        title="Public mailbox — console",
        description="The office's and the units' web pages over the four services' APIs.",
        version="1.0.0",
        lifespan=lifespan,
        max_body_bytes=settings.max_body_bytes,
    )
    app.state.settings = settings
    app.state.templates = templates()
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for router in (
        auth_api.router,
        letters_api.router,
        casework_api.router,
        replies_api.router,
        reports_api.router,
        operations_api.router,
    ):
        app.include_router(router)
    _install_pages_errors(app, settings)

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    return app


def _error_page(request: Request, *, status: int, message: str) -> HTMLResponse:
    title = _TITLES.get(status, "出错了")
    context: dict[str, Any] = {"title": title, "message": message, "status": status}
    return render(request, "error.html", context, status_code=status)


def _install_pages_errors(app: FastAPI, settings: ConsoleSettings) -> None:
    """Errors as pages in Chinese (the JSON of `create_service_app` is for the APIs)."""

    @app.exception_handler(SignInRequired)
    async def sign_in_required(request: Request, exc: SignInRequired) -> Response:
        target = "/login?next=" + quote(exc.next_path, safe="/")
        if request.headers.get("hx-request") == "true":
            return Response(status_code=200, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)

    @app.exception_handler(UpstreamError)
    async def upstream_error(request: Request, exc: UpstreamError) -> Response:
        if exc.status == 401:
            # The token expired or was revoked (a password reset, sign-out elsewhere).
            sessions: SessionStore = request.app.state.sessions
            await sessions.delete(request.cookies.get(cookie_name(settings, SESSION_COOKIE)))
            response: Response = RedirectResponse("/login?notice=expired", status_code=303)
            if request.headers.get("hx-request") == "true":
                response = Response(headers={"HX-Redirect": "/login?notice=expired"})
            clear_cookie(response, settings, SESSION_COOKIE)
            return response
        status = exc.status if 400 <= exc.status < 500 else 503
        return _error_page(request, status=status, message=explain(exc))

    @app.exception_handler(RedisError)
    async def sessions_unavailable(request: Request, exc: RedisError) -> Response:
        # Redis holds the sessions: without it nobody is signed in or out.
        log.warning("sessions unavailable", error=repr(exc)[:300])
        return _error_page(request, status=503, message=UNAVAILABLE)

    @app.exception_handler(CsrfRefused)
    async def csrf_refused(request: Request, _: CsrfRefused) -> Response:
        message = "页面已过期，或表单并非来自本系统。请刷新页面后重新提交。"
        return _error_page(request, status=403, message=message)

    @app.exception_handler(BadForm)
    async def bad_form(request: Request, _: BadForm) -> Response:
        return _error_page(request, status=400, message="提交的表单无法识别，请刷新页面后重试。")

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, _: RequestValidationError) -> Response:
        return _error_page(request, status=422, message="网址中的参数有误。")

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        messages = {404: "没有这个页面。", 405: "不支持这种访问方式。"}
        message = messages.get(exc.status_code, "请求未能完成。")
        return _error_page(request, status=exc.status_code, message=message)
