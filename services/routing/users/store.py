"""People and their bearer tokens: created, changed and deactivated by an admin.

A user is an aggregate in `users`. Tokens are signed with the secret every service shares,
so a user document keeps only what was issued (ids, times), never the token. Revoking writes
the revocation and its `token.revoked` event in one update; every service refuses the token
once the event arrives, this one at once. A change of role or unit revokes the user's tokens,
whose claims would otherwise keep the old ones; so does deactivation.

A token signed with the secret directly (the operator's bootstrap, the demo's actors) is
held by no user; revoking its id is recorded in `minted_tokens`, with its event, the same way.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from services.routing.directory.models import Unit
from shared.aggregate import AggregateStore, Change
from shared.audit import Actor, AuditEntry
from shared.auth import UNIT_ROLES, IssuedToken, RevokedTokens, Role, TokenCodec
from shared.clock import Clock
from shared.errors import Conflict, Invalid, NotFound
from shared.events import make_event
from shared.events.catalog import TokenRevoked
from shared.ids import new_id
from shared.logging import get_logger
from shared.mongo import Document, IndexSpec

log = get_logger(__name__)

USER_INDEXES = [
    IndexSpec(keys=[("role", 1), ("_id", 1)]),
    IndexSpec(keys=[("unit_id", 1), ("_id", 1)]),
    IndexSpec(keys=[("active", 1), ("role", 1)]),
    IndexSpec(keys=[("token_ids", 1)]),
]
BOOTSTRAP_ADMIN_ID = "admin"
# Live tokens one user may hold: enough for a few devices, few enough to audit by eye.
MAX_LIVE_TOKENS = 20
# The note of a token issued by signing in (POST /auth/login): a console session.
SESSION_NOTE = "sign-in"
# A token minted with the secret has an expiry no document here knows: its revocation is
# kept as long as the longest lifetime a token may be issued for (token_max_ttl_days).
MINTED_REVOCATION_KEPT = timedelta(days=3650)
PRODUCER = "routing"


def _invalid(field: str, reason: str) -> Invalid:
    return Invalid(
        f"{field}: {reason}", details={"errors": [{"field": field, "in": "body", "reason": reason}]}
    )


def _live(token: dict[str, Any], now: datetime) -> bool:
    return token.get("revoked_at") is None and token["expires_at"] > now


class UnitLookup(Protocol):
    """The directory's active units by id (the directory domain's store provides it)."""

    async def units(self, unit_ids: list[str]) -> dict[str, Unit]: ...


class UserStore:
    """Users, their roles and units, and the tokens issued to them."""

    def __init__(
        self,
        store: AggregateStore,
        *,
        directory: UnitLookup,
        codec: TokenCodec,
        revoked: RevokedTokens,
        clock: Clock,
        max_ttl: timedelta,
        minted: AggregateStore | None = None,
    ) -> None:
        self._store = store
        self._c = store.collection
        self._minted = minted
        self._directory = directory
        self._codec = codec
        self._revoked = revoked
        self._clock = clock
        self.max_ttl = max_ttl

    async def page(
        self,
        *,
        role: Role | None,
        unit_id: str | None,
        active: bool | None,
        after: str | None,
        limit: int,
    ) -> list[Document]:
        """Up to `limit + 1` users after the cursor id, by id."""
        query: dict[str, Any] = {}
        if role is not None:
            query["role"] = role.value
        if unit_id is not None:
            query["unit_id"] = unit_id
        if active is not None:
            query["active"] = active
        if after is not None:
            query["_id"] = {"$gt": after}
        return await self._c.find(query).sort("_id", 1).limit(limit + 1).to_list(None)

    async def get(self, user_id: str) -> Document:
        """One user, or 404."""
        doc = await self._c.find_one({"_id": user_id})
        if doc is None:
            raise NotFound(f"user {user_id} not found")
        return doc

    async def _check_unit(self, role: Role, unit_id: str | None) -> None:
        if role in UNIT_ROLES:
            if unit_id is None:
                raise _invalid("unit_id", f"a {role.value} belongs to a unit")
            if not await self._directory.units([unit_id]):
                raise _invalid("unit_id", f"no active unit {unit_id!r} in the directory")
        elif unit_id is not None:
            raise _invalid("unit_id", f"a {role.value} belongs to no unit")

    async def create(
        self,
        *,
        user_id: str | None,
        name: str,
        role: Role,
        unit_id: str | None,
        actor: Actor,
    ) -> Document:
        """Add a user; 422 for a unit role without an active unit, 409 for a taken id."""
        await self._check_unit(role, unit_id)
        user_id = user_id or new_id("usr").lower()
        now = self._clock.now()
        fields = {"name": name, "role": role.value, "unit_id": unit_id}
        doc: Document = {"_id": user_id, **fields, "active": True, "tokens": [], "token_ids": []}
        audit = self._audit(actor, now, "user.created", user_id, after=fields)
        if not await self._store.create(doc, audit=[audit]):
            raise Conflict(f"user {user_id} exists already")
        return await self.get(user_id)

    async def update(
        self,
        user_id: str,
        *,
        name: str,
        role: Role,
        unit_id: str | None,
        version: int,
        actor: Actor,
    ) -> Document:
        """Change name, role or unit (409 when stale); a new role or unit revokes tokens."""
        await self._check_unit(role, unit_id)
        current = await self.get(user_id)
        if current["role"] == Role.admin.value and role is not Role.admin:
            await self._keep_an_admin(user_id)
        now = self._clock.now()
        fields = {"name": name, "role": role.value, "unit_id": unit_id}

        def decide(doc: Document) -> Change:
            if not doc.get("active", True):
                raise Conflict(f"user {user_id} is deactivated")
            before = {k: doc.get(k) for k in fields}
            claims_changed = before["role"] != role.value or before["unit_id"] != unit_id
            note = "role or unit changed: tokens revoked" if claims_changed else None
            return self._revoking(
                doc,
                now=now,
                fields=fields,
                revoke_all=claims_changed,
                audit=self._audit(
                    actor, now, "user.updated", user_id, before=before, after=fields, note=note
                ),
            )

        updated = await self._store.mutate(user_id, decide, expected_version=version)
        await self._refuse_locally(current, updated)
        return updated

    async def deactivate(self, user_id: str, *, version: int, actor: Actor) -> Document:
        """Deactivate a user (kept for the audit trail) and revoke every token of theirs."""
        current = await self.get(user_id)
        if current["role"] == Role.admin.value and current.get("active", True):
            await self._keep_an_admin(user_id)
        now = self._clock.now()

        def decide(doc: Document) -> Change:
            audit = self._audit(
                actor,
                now,
                "user.deactivated",
                user_id,
                before={"active": doc.get("active", True)},
                after={"active": False},
            )
            fields = {"active": False, "deactivated_at": now}
            return self._revoking(doc, now=now, fields=fields, revoke_all=True, audit=audit)

        updated = await self._store.mutate(user_id, decide, expected_version=version)
        await self._refuse_locally(current, updated)
        return updated

    async def _keep_an_admin(self, user_id: str) -> None:
        others = {"role": Role.admin.value, "active": True, "_id": {"$ne": user_id}}
        if await self._c.find_one(others, {"_id": 1}) is None:
            raise Conflict("the last active admin stays: create another admin first")

    async def issue_token(
        self,
        user_id: str,
        *,
        ttl: timedelta,
        note: str | None,
        actor: Actor,
        session: bool = False,
        guard: Callable[[Document], None] | None = None,
    ) -> IssuedToken:
        """A new bearer token for an active user (the token itself is shown only now).

        A `session` (signing in) at the limit of live tokens revokes the user's oldest
        session rather than being refused: someone who signs in often is not locked out.
        `guard` sees the user as the write finds it and may refuse (raise): the check and
        the token are one conditional write.
        """
        if ttl > self.max_ttl:
            raise _invalid("ttl_days", f"at most {self.max_ttl.days} days")
        user = await self.get(user_id)
        if not user.get("active", True):
            raise Conflict(f"user {user_id} is deactivated")
        # PyJWT checks `iat`/`exp` against the wall clock, so tokens are dated by it too
        # (the service's clock may stand still in tests or run ahead in the demo).
        issued = self._codec.issue(
            user_id=user_id,
            name=user["name"],
            role=Role(user["role"]),
            unit_id=user.get("unit_id"),
            ttl=ttl,
        )
        wall_now = datetime.now(UTC)
        record = {
            "token_id": issued.token_id,
            "issued_at": wall_now,
            "expires_at": issued.expires_at,
            "issued_by": actor.user_id,
            "note": note,
            "revoked_at": None,
            "session": session,
        }
        now = self._clock.now()

        def decide(doc: Document) -> Change:
            if not doc.get("active", True):
                raise Conflict(f"user {user_id} is deactivated")
            if guard is not None:
                guard(doc)
            # Expired tokens are refused anyway: the list keeps what still matters.
            kept = [t for t in doc.get("tokens") or [] if t["expires_at"] > wall_now]
            live = [t for t in kept if _live(t, wall_now)]
            sessions = [t for t in live if t.get("session")]
            events = []
            if len(live) >= MAX_LIVE_TOKENS:
                if not (session and sessions):
                    raise Conflict(
                        f"user {user_id} holds {MAX_LIVE_TOKENS} live tokens; revoke some"
                    )
                oldest = min(sessions, key=lambda t: t["issued_at"])
                kept = [{**t, "revoked_at": wall_now} if t is oldest else t for t in kept]
                gone = TokenRevoked(token_id=oldest["token_id"], expires_at=oldest["expires_at"])
                events.append(make_event(gone, producer=PRODUCER, occurred_at=now, letter_id=None))
            tokens = [*kept, record]
            audit = self._audit(
                actor,
                now,
                "token.issued",
                user_id,
                after={
                    "token_id": issued.token_id,
                    "expires_at": issued.expires_at,
                    # The oldest session, revoked to make room (see the docstring).
                    "revoked": [e.data["token_id"] for e in events],
                },
                note=note,
            )
            return Change(
                set={"tokens": tokens, "token_ids": [t["token_id"] for t in tokens]},
                events=events,
                audit=[audit],
            )

        updated = await self._store.mutate(user_id, decide)
        await self._refuse_locally(user, updated)
        return issued

    async def change_revoking_sessions(
        self, user_id: str, decide: Callable[[Document], tuple[dict[str, Any], AuditEntry]]
    ) -> Document:
        """Set what `decide` says and revoke the user's live sessions, in one write.

        A new password ends every sign-in made with the old one; tokens an admin issued
        (scripts, integrations) stay.
        """
        now = self._clock.now()

        def change(doc: Document) -> Change:
            fields, audit = decide(doc)
            sessions = [t["token_id"] for t in doc.get("tokens") or [] if t.get("session")]
            return self._revoking(doc, now=now, fields=fields, audit=audit, revoke=sessions)

        before = await self.get(user_id)
        updated = await self._store.mutate(user_id, change)
        await self._refuse_locally(before, updated)
        return updated

    async def revoke_token(self, token_id: str, *, actor: Actor) -> dict[str, Any]:
        """Revoke one token (idempotent); `token.revoked` goes to every service."""
        owner = await self._c.find_one({"token_ids": token_id}, {"_id": 1})
        if owner is None:
            return await self._revoke_minted(token_id, actor=actor)
        user_id = str(owner["_id"])
        now = self._clock.now()

        def decide(doc: Document) -> Change | None:
            token = next((t for t in doc.get("tokens") or [] if t["token_id"] == token_id), None)
            if token is None:
                raise NotFound(f"token {token_id} not found")
            if token.get("revoked_at") is not None:
                return None
            audit = self._audit(actor, now, "token.revoked", user_id, after={"token_id": token_id})
            return self._revoking(doc, now=now, fields={}, revoke=[token_id], audit=audit)

        before = await self.get(user_id)
        updated = await self._store.mutate(user_id, decide)
        await self._refuse_locally(before, updated)
        found = next(t for t in updated["tokens"] if t["token_id"] == token_id)
        return {**found, "user_id": user_id}

    async def _revoke_minted(self, token_id: str, *, actor: Actor) -> dict[str, Any]:
        """Revoke a token no user holds: one signed with the secret directly."""
        if self._minted is None:
            raise NotFound(f"token {token_id} not found")
        existing = await self._minted.get(token_id)
        if existing is None:
            wall_now = datetime.now(UTC)
            expires_at = wall_now + MINTED_REVOCATION_KEPT
            data = TokenRevoked(token_id=token_id, expires_at=expires_at)
            now = self._clock.now()
            audit = AuditEntry(
                at=now,
                actor=actor,
                action="token.revoked",
                target_type="token",
                target_id=token_id,
                after={"token_id": token_id, "minted_with_secret": True},
            )
            doc: Document = {
                "_id": token_id,
                "revoked_at": wall_now,
                "expires_at": expires_at,
                "revoked_by": actor.user_id,
            }
            event = make_event(data, producer=PRODUCER, occurred_at=now, letter_id=None)
            # A second admin revoking it at the same moment finds it stored: nothing to do.
            await self._minted.create(doc, events=[event], audit=[audit])
            existing = await self._minted.get(token_id)
            assert existing is not None
        await self._revoked.add(token_id, expires_at=existing["expires_at"])
        return {
            "token_id": token_id,
            "user_id": None,
            "expires_at": existing["expires_at"],
            "revoked_at": existing["revoked_at"],
        }

    def _revoking(
        self,
        doc: Document,
        *,
        now: datetime,
        fields: dict[str, Any],
        audit: AuditEntry,
        revoke_all: bool = False,
        revoke: list[str] | None = None,
    ) -> Change:
        """A change that also revokes tokens: their records and their events in one write."""
        wall_now = datetime.now(UTC)
        wanted = frozenset(revoke or ())
        tokens = []
        events = []
        for token in doc.get("tokens") or []:
            hit = revoke_all or token["token_id"] in wanted
            if hit and _live(token, wall_now):
                token = {**token, "revoked_at": wall_now}
                data = TokenRevoked(token_id=token["token_id"], expires_at=token["expires_at"])
                events.append(make_event(data, producer=PRODUCER, occurred_at=now, letter_id=None))
            tokens.append(token)
        changes = dict(fields)
        if events:
            changes["tokens"] = tokens
        return Change(set=changes, events=events, audit=[audit])

    async def _refuse_locally(self, before: Document, after: Document) -> None:
        """This service refuses revoked tokens at once, not when its own event comes back."""
        was = {t["token_id"] for t in before.get("tokens") or [] if t.get("revoked_at") is None}
        for token in after.get("tokens") or []:
            if token["token_id"] in was and token.get("revoked_at") is not None:
                await self._revoked.add(token["token_id"], expires_at=token["expires_at"])

    async def bootstrap_admin(self, path: Path, *, ttl: timedelta) -> bool:
        """A fresh deployment's first admin: create it and write its token to `path`."""
        if await self._c.find_one({"role": Role.admin.value, "active": True}, {"_id": 1}):
            return False
        system = Actor(user_id="system:routing", name="routing", role="system")
        try:
            await self.create(
                user_id=BOOTSTRAP_ADMIN_ID,
                name="初始管理员",
                role=Role.admin,
                unit_id=None,
                actor=system,
            )
        except Conflict:
            # Another replica made it, or it was deactivated: then a person decides.
            log.warning("bootstrap admin not created: the user id is taken", path=str(path))
            return False
        issued = await self.issue_token(BOOTSTRAP_ADMIN_ID, ttl=ttl, note="bootstrap", actor=system)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(issued.token + "\n")
        log.info("bootstrap admin token written", path=str(path), token_id=issued.token_id)
        return True

    def _audit(
        self,
        actor: Actor,
        now: datetime,
        action: str,
        user_id: str,
        *,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
        note: str | None = None,
    ) -> AuditEntry:
        return AuditEntry(
            at=now,
            actor=actor,
            action=action,
            target_type="user",
            target_id=user_id,
            before=before,
            after=after,
            note=note,
        )
