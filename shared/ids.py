"""Identifiers that sort by creation time (ULID layout), with a readable prefix."""

from __future__ import annotations

import os
import socket
import time

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_id(prefix: str) -> str:
    """A new id such as `ltr_01JDX…`: 48 bits of milliseconds, 80 random bits."""
    value = (time.time_ns() // 1_000_000) << 80 | int.from_bytes(os.urandom(10), "big")
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return f"{prefix}_{''.join(reversed(chars))}"


def instance_id() -> str:
    """This process's name on the leases and claims it takes: readable for operators (host
    and pid), unique per start."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{new_id('ins')}"
