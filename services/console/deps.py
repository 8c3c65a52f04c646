"""The console's shared dependencies: the parts built in the lifespan, the signed-in
session, forms and their CSRF check, the cookies, rendering a page, and posting a letter
page's form (`submit_letter_form`, the one way every panel's forms take).

The composition root (`app.py`) puts the parts on `app.state`; routes reach them only
through the typed dependencies below.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import parse_qsl, quote

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from services.console.auth.models import Session
from services.console.auth.store import SessionStore, new_secret
from services.console.letters import service as letters
from services.console.letters.schemas import LetterRead
from services.console.settings import ConsoleSettings
from services.console.upstream.service import Upstream, UpstreamError

SESSION_COOKIE = "console_session"
# The signed-out forms' CSRF token (double submit): the sign-in and password forms have no
# session yet, and a visitor who has not signed in is given no Redis entry.
FORM_COOKIE = "console_form"
FORM_COOKIE_MAX_AGE_S = 2 * 3600
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
MAX_FORM_FIELDS = 20
# Pages carry the person's letters: no cache keeps them (a shared computer, a proxy).
NO_STORE = {"Cache-Control": "no-store", "Vary": "Cookie, HX-Request"}


class SignInRequired(Exception):
    """No session (or it ended): the page sends the person to sign in, then back."""

    def __init__(self, next_path: str) -> None:
        super().__init__("sign-in required")
        self.next_path = next_path


class CsrfRefused(Exception):
    """A POST without the form's CSRF token, or with another one."""


class BadForm(Exception):
    """A body that is not a URL-encoded form of UTF-8 text."""


@dataclass(frozen=True)
class Current:
    """The signed-in person's session and the id its cookie carries."""

    session_id: str
    session: Session


def get_settings(request: Request) -> ConsoleSettings:
    settings: ConsoleSettings = request.app.state.settings
    return settings


def get_upstream(request: Request) -> Upstream:
    upstream: Upstream = request.app.state.upstream
    return upstream


def get_sessions(request: Request) -> SessionStore:
    sessions: SessionStore = request.app.state.sessions
    return sessions


SettingsDep = Annotated[ConsoleSettings, Depends(get_settings)]
UpstreamDep = Annotated[Upstream, Depends(get_upstream)]
SessionsDep = Annotated[SessionStore, Depends(get_sessions)]


def cookie_name(settings: ConsoleSettings, base: str) -> str:
    """`__Host-` where the cookie is Secure: the browser then refuses it from any other
    host or path, and over plain HTTP."""
    return f"__Host-{base}" if settings.secure_cookies else base


async def optional_session(
    request: Request, sessions: SessionsDep, settings: SettingsDep
) -> Current | None:
    """The session the cookie names, if any is still open."""
    session_id = request.cookies.get(cookie_name(settings, SESSION_COOKIE))
    session = await sessions.get(session_id)
    if session is None or session_id is None:
        return None
    return Current(session_id=session_id, session=session)


MaybeSignedIn = Annotated[Current | None, Depends(optional_session)]


async def current_session(request: Request, current: MaybeSignedIn) -> Current:
    """The signed-in person, or `SignInRequired` (back to this page afterwards)."""
    if current is None:
        path = request.url.path
        if request.url.query:
            path += "?" + request.url.query
        raise SignInRequired(path)
    return current


SignedIn = Annotated[Current, Depends(current_session)]


async def read_form(request: Request) -> dict[str, str]:
    """The URL-encoded form the browser posted (at most `MAX_FORM_FIELDS` fields)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    body = await request.body()
    if not body and not content_type:
        return {}  # a form of no fields, as a client may send it: its CSRF check refuses it
    if content_type != "application/x-www-form-urlencoded":
        raise BadForm("not a form")
    try:
        text = body.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadForm(str(exc)) from exc
    fields: dict[str, str] = {}
    for name, value in pairs:
        if "\x00" in value:
            raise BadForm(f"{name}: NUL character")
        fields.setdefault(name, value)
    return fields


FormDep = Annotated[dict[str, str], Depends(read_form)]


def _same(sent: str, expected: str) -> bool:
    return bool(sent) and hmac.compare_digest(sent.encode(), expected.encode())


async def checked_form(request: Request, current: SignedIn, form: FormDep) -> dict[str, str]:
    """The form of a signed-in person, its CSRF token (field or htmx header) checked."""
    sent = form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER, "")
    if not _same(sent, current.session.csrf):
        raise CsrfRefused()
    return form


CheckedForm = Annotated[dict[str, str], Depends(checked_form)]


def form_token(request: Request, settings: ConsoleSettings) -> str:
    """The signed-out forms' CSRF token: the browser's, or a new one to set."""
    return request.cookies.get(cookie_name(settings, FORM_COOKIE)) or new_secret()


async def checked_signed_out_form(
    request: Request, form: FormDep, settings: SettingsDep
) -> dict[str, str]:
    """A signed-out form (sign-in, password change), its token matching the cookie's."""
    cookie = request.cookies.get(cookie_name(settings, FORM_COOKIE), "")
    if not _same(form.get(CSRF_FIELD, ""), cookie):
        raise CsrfRefused()
    return form


SignedOutForm = Annotated[dict[str, str], Depends(checked_signed_out_form)]


def set_cookie(
    response: Response, settings: ConsoleSettings, base: str, value: str, *, max_age_s: int
) -> None:
    """An HttpOnly, SameSite=Strict cookie for the whole console (Secure where set)."""
    response.set_cookie(
        cookie_name(settings, base),
        value,
        max_age=max_age_s,
        path="/",
        secure=settings.secure_cookies,
        httponly=True,
        samesite="strict",
    )


def clear_cookie(response: Response, settings: ConsoleSettings, base: str) -> None:
    response.delete_cookie(
        cookie_name(settings, base),
        path="/",
        secure=settings.secure_cookies,
        httponly=True,
        samesite="strict",
    )


def safe_next(value: str | None) -> str:
    """Where to go after signing in: a path of the console, never another site."""
    if value and value.startswith("/") and not value.startswith(("//", "/\\")):
        return value
    return "/worklist"


def render(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    current: Current | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """A page (or, for htmx, a fragment) with the person and their CSRF token."""
    templates: Jinja2Templates = request.app.state.templates
    page = {
        "me": current.session if current else None,
        "csrf": current.session.csrf if current else "",
        "path": request.url.path,
        **context,
    }
    return templates.TemplateResponse(
        request, template, page, status_code=status_code, headers=NO_STORE
    )


# ---- posting a letter page's form (the casework and replies panels)

LETTER_PAGE = "letters/letter.html"


@dataclass(frozen=True)
class Refused:
    """How a panel shows a refusal: what its template reads besides the letter (and the
    page, when not the letter's)."""

    context: dict[str, Any] = field(default_factory=dict)
    template: str = LETTER_PAGE


def letter_href(letter_id: str) -> str:
    """The console's page of the letter."""
    return "/letters/" + quote(letter_id, safe="")


def refused_beside_form(error: UpstreamError) -> bool:
    """Whether the person can act on the refusal beside the form; otherwise it is the
    page's (401: the session ends; 404: no such letter; 5xx: the service is away)."""
    return 400 <= error.status < 500 and error.status not in (401, 404)


async def submit_letter_form(
    request: Request,
    current: Current,
    upstream: Upstream,
    *,
    letter_id: str,
    call: Callable[[], Awaitable[object]],
    refused: Callable[[UpstreamError, LetterRead], Awaitable[Refused]],
) -> Response:
    """A letter page's form: `call` (the service, as the person); on success 303 back to
    the letter's page; on a refusal the person can act on, the page again with the letter
    fresh from routing (its new version in every form) and what the panel's `refused`
    shows: the reason beside the form, what was typed kept."""
    try:
        await call()
    except UpstreamError as error:
        if not refused_beside_form(error):
            raise
        token = current.session.token
        letter = await letters.letter(upstream, token=token, letter_id=letter_id)
        shown = await refused(error, letter)
        context = {"letter": letter, **shown.context}
        return render(request, shown.template, context, current=current, status_code=error.status)
    return RedirectResponse(letter_href(letter_id), status_code=303)
