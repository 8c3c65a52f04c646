"""Signing in with a user name and password: the console's way to a person's token.

A user has a password once an admin sets one, and must change it before the first
sign-in with it: signing in then answers `password_change_required` (403) without a
token, and changing it (`change_password`, which checks the old one as signing in does)
signs the person in. Every sign-in is a session: a token like those an admin issues, of
`session_ttl`, marked as a session so that a new password ends them all.

An unknown user name, a deactivated user, a user without a password and a wrong password
get the same answer after the same work (one argon2 verification), so the answer does
not tell which names exist. Failures in a row lock the account (`Lockout`); a locked
account is refused without looking at the password, until the lock runs out or an admin
lifts it. Passwords are never logged, stored or audited; only their argon2 hash is kept.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from services.routing.users.passwords import CLEARED, Lockout, Passwords, policy_problem
from services.routing.users.store import SESSION_NOTE, UserStore
from shared.aggregate import AggregateStore, Change
from shared.audit import Actor, AuditEntry
from shared.auth import IssuedToken
from shared.clock import Clock
from shared.errors import AppError, Conflict, Forbidden, Invalid, Unauthorized
from shared.logging import get_logger
from shared.mongo import Document

log = get_logger(__name__)

WRONG_CREDENTIALS = "wrong user name or password"
# Who records a failed attempt: nobody has proved who they are.
SIGN_IN_ACTOR = Actor(user_id="system:sign-in", name="routing", role="system")


class PasswordChangeRequired(Forbidden):
    """The password is right but was set by an admin: change it first (no token)."""

    code = "password_change_required"


class AccountLocked(AppError):
    """Too many failed sign-ins: refused without checking the password."""

    status_code = 423
    code = "account_locked"


def _invalid(field: str, reason: str) -> Invalid:
    return Invalid(
        f"{field}: {reason}", details={"errors": [{"field": field, "in": "body", "reason": reason}]}
    )


def _person(doc: Document) -> Actor:
    return Actor(
        user_id=str(doc["_id"]),
        name=doc.get("name", ""),
        role=doc["role"],
        unit_id=doc.get("unit_id"),
    )


def _locked(doc: Document) -> AccountLocked:
    until: datetime | None = doc.get("locked_until")
    when = "until an admin unlocks it" if until is None else f"until {until.isoformat()}"
    return AccountLocked(
        f"too many failed sign-ins: the account is locked {when}",
        details={"locked_until": None if until is None else until.isoformat()},
    )


def _audit(actor: Actor, now: datetime, action: str, user_id: str, **fields: Any) -> AuditEntry:
    return AuditEntry(
        at=now, actor=actor, action=action, target_type="user", target_id=user_id, **fields
    )


class SignIn:
    """Passwords of users: set by an admin, changed by their owner, checked at sign-in."""

    def __init__(
        self,
        store: AggregateStore,
        *,
        users: UserStore,
        passwords: Passwords,
        lockout: Lockout,
        session_ttl: timedelta,
        clock: Clock,
    ) -> None:
        self._store = store
        self._users = users
        self._passwords = passwords
        self._lockout = lockout
        self._session_ttl = session_ttl
        self._clock = clock

    async def sign_in(self, user_id: str, *, password: str) -> IssuedToken:
        """A session token; 401 (one message for every cause), 403 to change it, 423."""
        doc = await self._authenticate(user_id, password)
        if doc.get("must_change_password"):
            raise PasswordChangeRequired(
                "the password was set by an admin: change it (POST /auth/password) to sign in",
                details={"change_at": "/auth/password"},
            )
        return await self._session(doc)

    async def change_password(self, user_id: str, *, old: str, new: str) -> IssuedToken:
        """Check the old password as signing in does, store the new one, sign in.

        Every session made with the old password ends (`token.revoked`).
        """
        doc = await self._authenticate(user_id, old)
        problem = policy_problem(new, user_id=user_id, name=doc["name"], old=old)
        if problem is not None:
            raise _invalid("new_password", problem)
        checked = doc["password_hash"]
        new_hash = await self._passwords.hash(new)
        now = self._clock.now()

        def decide(current: Document) -> tuple[dict[str, Any], AuditEntry]:
            if current.get("password_hash") != checked:
                raise Conflict("the password changed meanwhile: sign in with the new one")
            fields = {
                "password_hash": new_hash,
                "must_change_password": False,
                "password_changed_at": now,
                **CLEARED,
            }
            audit = _audit(
                _person(current),
                now,
                "user.password_changed",
                user_id,
                after={"must_change_password": False},
                note="sessions signed in with the old password revoked",
            )
            return fields, audit

        updated = await self._users.change_revoking_sessions(user_id, decide)
        log.info("password changed", user_id=user_id)
        return await self._session(updated)

    async def set_password(self, user_id: str, *, password: str, actor: Actor) -> Document:
        """An admin sets (or resets) a password: changed at the next sign-in, lock lifted."""
        user = await self._users.get(user_id)
        if not user.get("active", True):
            raise Conflict(f"user {user_id} is deactivated")
        problem = policy_problem(password, user_id=user_id, name=user["name"], old=None)
        if problem is not None:
            raise _invalid("password", problem)
        new_hash = await self._passwords.hash(password)
        now = self._clock.now()

        def decide(current: Document) -> tuple[dict[str, Any], AuditEntry]:
            if not current.get("active", True):
                raise Conflict(f"user {user_id} is deactivated")
            had = current.get("password_hash") is not None
            fields = {
                "password_hash": new_hash,
                "must_change_password": True,
                "password_changed_at": now,
                **CLEARED,
            }
            audit = _audit(
                actor,
                now,
                "user.password_set",
                user_id,
                before={"has_password": had, "locked_at": current.get("locked_at")},
                after={"has_password": True, "must_change_password": True},
                note="to be changed at the next sign-in; the user's sessions revoked",
            )
            return fields, audit

        updated = await self._users.change_revoking_sessions(user_id, decide)
        log.info("password set by an admin", user_id=user_id, by=actor.user_id)
        return updated

    async def unlock(self, user_id: str, *, actor: Actor) -> Document:
        """Lift a lock and forget the failed attempts (idempotent)."""
        now = self._clock.now()

        def decide(doc: Document) -> Change | None:
            failures = len(doc.get("sign_in_failures") or [])
            if doc.get("locked_at") is None and not failures:
                return None
            audit = _audit(
                actor,
                now,
                "user.unlocked",
                user_id,
                before={
                    "locked_at": doc.get("locked_at"),
                    "locked_until": doc.get("locked_until"),
                    "failures": failures,
                },
                after={"locked_at": None, "failures": 0},
            )
            return Change(set=dict(CLEARED), audit=[audit])

        return await self._store.mutate(user_id, decide)

    async def _authenticate(self, user_id: str, password: str) -> Document:
        """The user whose password this is; 401 for any wrong pair, 423 while locked."""
        doc = await self._store.get(user_id)
        if doc is None or not doc.get("active", True) or doc.get("password_hash") is None:
            await self._passwords.verify(None, password)
            log.info("sign-in refused", user_id=user_id, reason="no such user with a password")
            raise Unauthorized(WRONG_CREDENTIALS)
        now = self._clock.now()
        if self._lockout.locked(doc, now):
            log.info("sign-in refused", user_id=user_id, reason="locked")
            raise _locked(doc)
        stored = doc["password_hash"]
        if not await self._passwords.verify(stored, password):
            await self._failed(user_id, now)
            raise Unauthorized(WRONG_CREDENTIALS)
        rehash = self._passwords.needs_rehash(stored)
        if not (rehash or doc.get("sign_in_failures") or doc.get("locked_at")):
            return doc
        # The password is right: the failures before it no longer count; and a hash made
        # with older parameters is replaced while the password is at hand.
        fields = dict(CLEARED)
        if rehash:
            fields["password_hash"] = await self._passwords.hash(password)

        def decide(current: Document) -> Change | None:
            if current.get("password_hash") != stored:
                return None  # changed meanwhile: the sign-in still proved the old one
            audit = _audit(
                _person(current),
                now,
                "user.signed_in",
                user_id,
                before={"failures": len(current.get("sign_in_failures") or [])},
                after={"failures": 0, "rehashed": rehash},
            )
            return Change(set=fields, audit=[audit])

        return await self._store.mutate(user_id, decide)

    async def _failed(self, user_id: str, now: datetime) -> None:
        """Count a wrong password; the attempt that reaches the limit locks (423)."""

        def decide(doc: Document) -> Change | None:
            if self._lockout.locked(doc, now):
                return None  # another attempt locked it meanwhile
            fields = self._lockout.after_failure(doc, now)
            locks = fields.get("locked_at") == now
            audit = _audit(
                SIGN_IN_ACTOR,
                now,
                "user.locked" if locks else "user.sign_in_failed",
                user_id,
                after={
                    "failures": self._lockout.max_failures
                    if locks
                    else len(fields["sign_in_failures"]),
                    "locked_until": fields.get("locked_until"),
                },
            )
            return Change(set=fields, audit=[audit])

        updated = await self._store.mutate(user_id, decide)
        failures = len(updated.get("sign_in_failures") or [])
        log.info("sign-in failed", user_id=user_id, failures=failures)
        if self._lockout.locked(updated, now):
            log.warning("account locked after failed sign-ins", user_id=user_id)
            raise _locked(updated)

    async def _session(self, doc: Document) -> IssuedToken:
        verified = doc.get("password_hash")

        def still_valid(current: Document) -> None:
            # A burst of sign-ins is checked against the lock before its hashes queue up
            # (about 0.25 s each): a right guess verified after the burst locked the
            # account, or a password an admin reset meanwhile, gets no session.
            if self._lockout.locked(current, self._clock.now()):
                raise _locked(current)
            if current.get("password_hash") != verified:
                raise Unauthorized(WRONG_CREDENTIALS)

        return await self._users.issue_token(
            str(doc["_id"]),
            ttl=self._session_ttl,
            note=SESSION_NOTE,
            actor=_person(doc),
            session=True,
            guard=still_valid,
        )
