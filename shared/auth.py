"""Bearer tokens, roles and the FastAPI dependencies that check them.

Tokens are signed JWTs (HS256) with the secret every service shares, so any
service checks them without a round trip. An admin revokes a token through the
routing service, which emits `token.revoked`; every service records the id in
its own `revoked_tokens` collection and in memory, and refuses the token from
then on; a request's check reads memory only (`RevokedTokens`).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Coroutine, Iterable
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict
from pymongo.errors import DuplicateKeyError

from shared.errors import Forbidden, Unauthorized
from shared.ids import new_id
from shared.logging import get_logger
from shared.mongo import Collection, IndexSpec

REVOKED_INDEXES = [IndexSpec(keys=[("expires_at", 1)])]
ALGORITHM = "HS256"
ISSUER = "public-mailbox"

log = get_logger(__name__)


class Role(StrEnum):
    """The roles of requirements.md, plus `service` for machine accounts."""

    office_clerk = "office_clerk"
    office_head = "office_head"
    office_leader = "office_leader"
    principal_leader = "principal_leader"
    unit_handler = "unit_handler"
    unit_head = "unit_head"
    unit_leader = "unit_leader"
    admin = "admin"
    service = "service"


OFFICE_ROLES = frozenset(
    {Role.office_clerk, Role.office_head, Role.office_leader, Role.principal_leader}
)
UNIT_ROLES = frozenset({Role.unit_handler, Role.unit_head, Role.unit_leader})


class Principal(BaseModel):
    """The authenticated caller."""

    model_config = ConfigDict(frozen=True)

    user_id: str
    name: str
    role: Role
    unit_id: str | None = None
    token_id: str

    @property
    def is_office(self) -> bool:
        """A member of the commission's office (委办公室) or its leaders."""
        return self.role in OFFICE_ROLES

    @property
    def is_unit(self) -> bool:
        """A member of a handling unit: sees only its unit's letters."""
        return self.role in UNIT_ROLES


# Who reads a writer's personal data — name, contacts and the unmasked text (Art. 3 严格保密):
# the office and its leaders, the units a letter is assigned to, and the service account that
# files the archive record (Art. 16 keeps the letter as received). The admin runs the system
# and reads no letter. docs/architecture.md (Security) lists what each read path withholds.
WRITER_DATA_ROLES = OFFICE_ROLES | {Role.service}


def sees_writer(principal: Principal, *, assigned_units: Iterable[str | None] = ()) -> bool:
    """Whether the caller may see the writer's name, contacts and the letter's own words."""
    if principal.role in WRITER_DATA_ROLES:
        return True
    return (
        principal.is_unit
        and principal.unit_id is not None
        and principal.unit_id in set(assigned_units)
    )


class IssuedToken(BaseModel):
    token: str
    token_id: str
    expires_at: datetime


class TokenCodec:
    """Signs and checks tokens."""

    def __init__(self, secret: str) -> None:
        if len(secret) < 32:
            # RFC 7518 §3.2: an HS256 key is at least 256 bits; PyJWT refuses shorter ones.
            raise ValueError("token secret must be at least 32 characters")
        self._secret = secret

    def issue(
        self,
        *,
        user_id: str,
        name: str,
        role: Role,
        unit_id: str | None = None,
        ttl: timedelta = timedelta(days=30),
        now: datetime | None = None,
    ) -> IssuedToken:
        """A new token for a user (or a service account)."""
        if role in UNIT_ROLES and not unit_id:
            raise ValueError(f"role {role} needs a unit")
        issued_at = now or datetime.now(UTC)
        expires_at = issued_at + ttl
        token_id = new_id("tok")
        claims = {
            "iss": ISSUER,
            "sub": user_id,
            "name": name,
            "role": role.value,
            "unit": unit_id,
            "jti": token_id,
            "iat": int(issued_at.timestamp()),
            "exp": int(expires_at.timestamp()),
        }
        token = jwt.encode(claims, self._secret, algorithm=ALGORITHM)
        return IssuedToken(token=token, token_id=token_id, expires_at=expires_at)

    def verify(self, token: str) -> Principal:
        """The principal the token names, or Unauthorized."""
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                options={"require": ["exp", "iat", "sub", "jti", "iss"]},
            )
            role = Role(claims["role"])
            unit_id = claims.get("unit") or None
            principal = Principal(
                user_id=claims["sub"],
                name=claims.get("name") or claims["sub"],
                role=role,
                unit_id=unit_id,
                token_id=claims["jti"],
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("token expired") from exc
        except (jwt.InvalidTokenError, KeyError, ValueError) as exc:
            raise Unauthorized("invalid token") from exc
        if role in UNIT_ROLES and unit_id is None:
            # `issue` never signs one; a unit role without its unit would otherwise read as
            # "no unit filter" and see every unit's letters, so it sees nothing anywhere.
            raise Unauthorized("invalid token: a unit role without a unit")
        return principal


class RevokedTokens:
    """Ids of revoked tokens: kept in this service's own collection, checked in memory.

    A request's check reads no database: the unexpired ids are loaded on first use, each
    `token.revoked` this instance consumes adds its id at once (`add`), and a reload every
    `refresh_interval_s` (`start`) brings in what another instance of the service consumed
    (instances share the queue, so each event reaches one of them) or an admin revoked in
    this service directly. A revoked token therefore works on no instance for longer than
    that interval after its event was recorded. Should the reloads fail for
    `stale_after_s` (the database down), the next check reloads itself and fails with it,
    as a check against the database would: a long-stale set never lets a token through.
    The reload reads the whole collection, which holds only tokens not yet expired (`add`
    drops the expired ones) and costs the same whatever number of letters is stored.
    """

    refresh_interval_s = 2.0
    stale_after_s = 30.0

    def __init__(self, collection: Collection) -> None:
        self._collection = collection
        self._expiry: dict[str, datetime] = {}
        self._loaded_at: float | None = None
        self._refresher: asyncio.Task[None] | None = None

    async def add(self, token_id: str, *, expires_at: datetime) -> None:
        """Record a revocation (idempotent)."""
        with contextlib.suppress(DuplicateKeyError):
            await self._collection.insert_one({"_id": token_id, "expires_at": expires_at})
        self._expiry[token_id] = _aware(expires_at)

    async def refresh(self) -> None:
        """Reload the unexpired ids from the collection (and drop expired ones from it)."""
        now = datetime.now(UTC)
        loaded: dict[str, datetime] = {}
        async for doc in self._collection.find({}, {"_id": 1, "expires_at": 1}):
            expires_at = doc.get("expires_at")
            loaded[str(doc["_id"])] = _aware(expires_at) if expires_at else now + timedelta(days=1)
        expired = [token_id for token_id, at in loaded.items() if at <= now]
        if expired:
            await self._collection.delete_many({"_id": {"$in": expired}})
        # Ids added while the reload was on its way stay.
        merged = {**self._expiry, **loaded}
        self._expiry = {token_id: at for token_id, at in merged.items() if at > now}
        self._loaded_at = time.monotonic()

    async def is_revoked(self, token_id: str) -> bool:
        """Whether the token was revoked (from memory; reloaded first when stale)."""
        if self._loaded_at is None or time.monotonic() - self._loaded_at > self.stale_after_s:
            await self.refresh()
        return token_id in self._expiry

    def start(self) -> None:
        """Reload every `refresh_interval_s` until `stop`."""
        if self._refresher is None or self._refresher.done():
            self._refresher = asyncio.create_task(self._refresh_forever())

    async def stop(self) -> None:
        """Stop reloading."""
        if self._refresher is not None:
            self._refresher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._refresher
            self._refresher = None

    async def _refresh_forever(self) -> None:
        while True:
            await asyncio.sleep(self.refresh_interval_s)
            try:
                await self.refresh()
            except Exception as exc:  # the database away: kept, and retried next time
                log.warning("revoked_tokens_refresh_failed", error=f"{type(exc).__name__}: {exc}")


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


class Authenticator:
    """Turns an Authorization header into a Principal."""

    def __init__(self, codec: TokenCodec, revoked: RevokedTokens) -> None:
        self.codec = codec
        self.revoked = revoked

    async def authenticate(self, token: str) -> Principal:
        """Verify signature, expiry and revocation."""
        principal = self.codec.verify(token)
        if await self.revoked.is_revoked(principal.token_id):
            raise Unauthorized("token revoked")
        return principal


_bearer = HTTPBearer(auto_error=False, description="Bearer token issued by an admin")


async def get_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller; 401 without a valid bearer token."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("missing bearer token")
    authenticator: Authenticator = request.app.state.authenticator
    return await authenticator.authenticate(credentials.credentials)


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def require_roles(*roles: Role) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """A dependency that lets only the given roles through (403 otherwise)."""
    allowed = frozenset(roles)

    async def dependency(principal: CurrentPrincipal) -> Principal:
        if principal.role not in allowed:
            raise Forbidden(
                f"role {principal.role} may not do this",
                details={"allowed_roles": sorted(r.value for r in allowed)},
            )
        return principal

    return dependency
