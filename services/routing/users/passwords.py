"""Passwords: argon2id hashes, the password policy and the lockout rule. No I/O.

Only the hash is kept (argon2-cffi's defaults, RFC 9106's low-memory profile: 64 MiB,
three passes). Hashing takes a quarter of a second of a core and 64 MiB, on purpose: it
runs in a worker thread, a few at a time, so a burst of sign-ins queues instead of
stalling the event loop or exhausting memory.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 10
# Bounds the work one request can ask of argon2 (its input is hashed whole).
MAX_LENGTH = 256
# Hashes computed at once per process: each holds 64 MiB while it runs.
MAX_CONCURRENT_HASHES = max(1, min(4, os.cpu_count() or 1))
# Verified against when there is no hash to check, so that the answer takes as long: a
# hash of a password nobody has, made with the defaults (remade if the defaults change).
STAND_IN_HASH = (
    "$argon2id$v=19$m=65536,t=3,p=4$VSK9oH4fF1JF9cigoBUNtg"
    "$CsIjs2TbJVkCR95VkGdIJOA0VQ1oXk4fnrQa/H5OI3o"
)
# The sign-in state of a user with no failures and no lock.
CLEARED: dict[str, Any] = {"sign_in_failures": [], "locked_at": None, "locked_until": None}


class Passwords:
    """Hashes and checks passwords off the event loop."""

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self._hasher = hasher or PasswordHasher()
        self._turns = asyncio.Semaphore(MAX_CONCURRENT_HASHES)
        self._stand_in = None if self.needs_rehash(STAND_IN_HASH) else STAND_IN_HASH

    async def hash(self, password: str) -> str:
        """The argon2id hash (salted; parameters inside) to store."""
        async with self._turns:
            return await asyncio.to_thread(self._hasher.hash, _utf8(password))

    async def verify(self, stored: str | None, password: str) -> bool:
        """Whether `password` matches; with nothing stored, as long to say no."""
        if stored is None:
            # An unknown or password-less user costs the same hash as a known one, so the
            # answer's timing does not tell which user names exist.
            if self._stand_in is None:
                self._stand_in = await self.hash("never the password of anybody: a stand-in")
            async with self._turns:
                await asyncio.to_thread(self._check, self._stand_in, password)
            return False
        async with self._turns:
            return await asyncio.to_thread(self._check, stored, password)

    def _check(self, stored: str, password: str) -> bool:
        try:
            return self._hasher.verify(stored, _utf8(password))
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored: str) -> bool:
        """Whether the hash was made with other parameters than today's defaults."""
        return self._hasher.check_needs_rehash(stored)


def _utf8(password: str) -> bytes:
    # JSON may carry a lone surrogate (\ud800), which strict UTF-8 cannot encode: kept as
    # its bytes, it is merely a wrong password instead of a server error.
    return password.encode("utf-8", "surrogatepass")


def policy_problem(password: str, *, user_id: str, name: str, old: str | None) -> str | None:
    """Why a new password is refused, or None: long enough, not the user's name, not the old."""
    if len(password) < MIN_LENGTH:
        return f"at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"at most {MAX_LENGTH} characters"
    if any("\ud800" <= char <= "\udfff" for char in password):
        return "not valid Unicode text (a lone surrogate)"
    folded = password.strip().casefold()
    if folded in {user_id.casefold(), name.strip().casefold()}:
        return "must not be the user name"
    if old is not None and password == old:
        return "must differ from the old password"
    return None


@dataclass(frozen=True)
class Lockout:
    """After `max_failures` failures in a row within `window`, the account is locked for
    `period` (or, with no period, until an admin unlocks it)."""

    max_failures: int
    window: timedelta
    period: timedelta | None

    def locked(self, doc: dict[str, Any], now: datetime) -> bool:
        """Whether sign-in is refused now (without checking the password)."""
        if doc.get("locked_at") is None:
            return False
        until: datetime | None = doc.get("locked_until")
        return until is None or now < until

    def after_failure(self, doc: dict[str, Any], now: datetime) -> dict[str, Any]:
        """The fields to store after a failed attempt: the recent failures, maybe a lock."""
        # A lock clears the failures that caused it; one that ran out is cleared here.
        fields: dict[str, Any] = {} if doc.get("locked_at") is None else dict(CLEARED)
        recent = [at for at in doc.get("sign_in_failures") or [] if now - at < self.window]
        recent.append(now)
        if len(recent) < self.max_failures:
            return {**fields, "sign_in_failures": recent}
        until = None if self.period is None else now + self.period
        return {"sign_in_failures": [], "locked_at": now, "locked_until": until}
