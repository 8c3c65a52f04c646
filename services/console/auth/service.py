"""Signing in, changing one's password and signing out, all through routing's `/auth/*`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import jwt

from services.console.auth.models import Session
from services.console.auth.store import SessionStore
from services.console.upstream.service import Upstream, UpstreamError
from shared.logging import get_logger

log = get_logger(__name__)


@dataclass(frozen=True)
class OpenedSession:
    """A new session and the id its cookie carries."""

    session_id: str
    session: Session


async def sign_in(
    upstream: Upstream, sessions: SessionStore, *, user_id: str, password: str
) -> OpenedSession:
    """A session for the token routing answers; `UpstreamError` as routing refused (401,
    403 `password_change_required`, 423 `account_locked`, 422)."""
    issued = await upstream.call(
        "routing",
        "POST",
        "/auth/login",
        token=None,
        json={"user_id": user_id, "password": password},
    )
    return await _open(sessions, issued)


async def change_password(
    upstream: Upstream, sessions: SessionStore, *, user_id: str, old: str, new: str
) -> OpenedSession:
    """Changes the password (the forced change, or any later one) and signs in with it."""
    issued = await upstream.call(
        "routing",
        "POST",
        "/auth/password",
        token=None,
        json={"user_id": user_id, "old_password": old, "new_password": new},
    )
    return await _open(sessions, issued)


async def sign_out(
    upstream: Upstream, sessions: SessionStore, *, session_id: str, session: Session
) -> None:
    """Revokes the token at routing and ends the session."""
    try:
        await upstream.call("routing", "POST", "/auth/logout", token=session.token)
    except UpstreamError as exc:
        # 401: expired or revoked already. Otherwise the token outlives the session, but
        # only the session held it and it ends now; its expiry ends the token.
        if exc.status != 401:
            log.warning("sign-out: token not revoked", token_id=session.token_id, status=exc.status)
    finally:
        await sessions.delete(session_id)


async def _open(sessions: SessionStore, issued: dict[str, Any]) -> OpenedSession:
    claims = _claims(issued["token"])
    session_id, session = await sessions.create(
        user_id=issued["user_id"],
        name=str(claims.get("name") or issued["user_id"]),
        role=str(claims.get("role") or ""),
        unit_id=claims.get("unit") or None,
        token=issued["token"],
        token_id=issued["token_id"],
        expires_at=datetime.fromisoformat(issued["expires_at"]),
    )
    log.info("signed in", user_id=session.user_id, token_id=session.token_id)
    return OpenedSession(session_id=session_id, session=session)


def _claims(token: str) -> dict[str, Any]:
    """The name, role and unit the token names, for the page's header only.

    Read without checking the signature: the console holds no token secret (it could then
    sign tokens), the token came straight from routing, and every service checks it on
    every call; nothing the console decides rests on these claims.
    """
    try:
        claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    except jwt.InvalidTokenError:
        return {}
    return claims
