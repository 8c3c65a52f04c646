"""Bearer tokens, roles and the FastAPI dependencies that check them.

Tokens are signed JWTs (HS256) with the secret every service shares, so any
service checks them without a round trip. An admin revokes a token through the
routing service, which emits `token.revoked`; every service records the id in
its own `revoked_tokens` collection and refuses the token from then on.
"""

from __future__ import annotations

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
from shared.mongo import Collection, IndexSpec

REVOKED_INDEXES = [IndexSpec(keys=[("expires_at", 1)])]
ALGORITHM = "HS256"
ISSUER = "public-mailbox"


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
    """Ids of revoked tokens, kept in this service's own database."""

    # A revocation reaches every service through an event; checking the
    # database on each request would cost a round trip, so answers are cached
    # briefly. A revoked token may work for at most this long after the event.
    cache_ttl_s = 2.0

    def __init__(self, collection: Collection) -> None:
        self._collection = collection
        self._cache: dict[str, tuple[bool, float]] = {}

    async def add(self, token_id: str, *, expires_at: datetime) -> None:
        """Record a revocation (idempotent)."""
        with contextlib.suppress(DuplicateKeyError):
            await self._collection.insert_one({"_id": token_id, "expires_at": expires_at})
        self._cache[token_id] = (True, time.monotonic())

    async def is_revoked(self, token_id: str) -> bool:
        """Whether the token was revoked."""
        hit = self._cache.get(token_id)
        if hit is not None and (hit[0] or time.monotonic() - hit[1] < self.cache_ttl_s):
            return hit[0]
        revoked = await self._collection.find_one({"_id": token_id}, {"_id": 1}) is not None
        if len(self._cache) > 100_000:
            self._cache.clear()
        self._cache[token_id] = (revoked, time.monotonic())
        return revoked


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
