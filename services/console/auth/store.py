"""Sessions in Redis: any console instance serves any request (nothing in process memory).

The cookie holds a random id; Redis keys it by the id's SHA-256, so a copy of Redis's keys
is no set of cookies. A session ends when unused for `ttl_s`, at its token's expiry, or at
sign-out, whichever comes first.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import UTC, datetime

from pydantic import ValidationError
from redis.asyncio import Redis

from services.console.auth.models import Session

KEY_PREFIX = "mailbox:console:session:"
# secrets.token_urlsafe(32): 43 characters of the URL-safe alphabet.
_SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{43}$")


def new_secret() -> str:
    """A random value for a session id or a CSRF token (256 bits)."""
    return secrets.token_urlsafe(32)


class SessionStore:
    """Creates, reads (renewing), and deletes sessions."""

    def __init__(self, redis: Redis, *, ttl_s: int) -> None:
        self._redis = redis
        self._ttl_s = ttl_s

    async def create(
        self,
        *,
        user_id: str,
        name: str,
        role: str,
        unit_id: str | None,
        token: str,
        token_id: str,
        expires_at: datetime,
    ) -> tuple[str, Session]:
        """A new session (a fresh id: never one the browser had before) and its id."""
        session = Session(
            user_id=user_id,
            name=name,
            role=role,
            unit_id=unit_id,
            token=token,
            token_id=token_id,
            expires_at=expires_at,
            csrf=new_secret(),
            signed_in_at=_wall_now(),
        )
        session_id = new_secret()
        ttl = self._ttl(session)
        if ttl > 0:
            await self._redis.set(_key(session_id), session.model_dump_json(), ex=ttl)
        return session_id, session

    async def get(self, session_id: str | None) -> Session | None:
        """The session, its idle time renewed; None if unknown, ended or malformed."""
        if not session_id or not _SESSION_ID.match(session_id):
            return None
        key = _key(session_id)
        raw = await self._redis.get(key)
        if raw is None:
            return None
        try:
            session = Session.model_validate_json(raw)
        except ValidationError:
            # Not a session this version wrote (or damaged): as good as none.
            await self._redis.delete(key)
            return None
        ttl = self._ttl(session)
        if ttl <= 0:
            await self._redis.delete(key)
            return None
        await self._redis.expire(key, ttl)
        return session

    async def delete(self, session_id: str | None) -> None:
        """Ends the session (nothing if there is none)."""
        if session_id and _SESSION_ID.match(session_id):
            await self._redis.delete(_key(session_id))

    async def ping(self) -> bool:
        """Whether Redis answers."""
        return bool(await self._redis.ping())

    def _ttl(self, session: Session) -> int:
        left = int((session.expires_at - _wall_now()).total_seconds())
        return min(self._ttl_s, left)


def _wall_now() -> datetime:
    # Tokens are dated by the wall clock (their `exp` is checked against it), whatever
    # clock the services run on in a demo or a test: so are the sessions that hold them.
    return datetime.now(UTC)


def _key(session_id: str) -> str:
    return KEY_PREFIX + hashlib.sha256(session_id.encode()).hexdigest()
