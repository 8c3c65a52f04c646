"""Time sources. Services read time only through a `Clock`, so tests and the demo
can move time without touching the wall clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


class Clock(Protocol):
    """Something that tells the current instant (aware, UTC)."""

    def now(self) -> datetime: ...


class SystemClock:
    """The wall clock."""

    def now(self) -> datetime:
        """The current instant in UTC."""
        return datetime.now(UTC)


class OffsetClock:
    """The wall clock shifted by an adjustable offset (demo and end-to-end tests only)."""

    def __init__(self, offset: timedelta = timedelta(0)) -> None:
        self.offset = offset

    def now(self) -> datetime:
        """The current instant plus the offset."""
        return datetime.now(UTC) + self.offset

    def advance(self, delta: timedelta) -> None:
        """Move time forward by `delta`."""
        if delta < timedelta(0):
            raise ValueError("time only moves forward")
        self.offset += delta


class FixedClock:
    """A clock that stands still until moved (tests)."""

    def __init__(self, at: datetime) -> None:
        self._at = ensure_aware(at)

    def now(self) -> datetime:
        """The instant the clock was set to."""
        return self._at

    def set(self, at: datetime) -> None:
        """Set the instant."""
        self._at = ensure_aware(at)

    def advance(self, delta: timedelta) -> None:
        """Move time forward by `delta`."""
        self._at += delta


def ensure_aware(at: datetime) -> datetime:
    """Refuse naive datetimes: an instant without an offset is ambiguous."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("datetime must carry a UTC offset")
    return at.astimezone(UTC)


def to_shanghai(at: datetime) -> datetime:
    """The same instant shown in Asia/Shanghai, as users read it."""
    return ensure_aware(at).astimezone(SHANGHAI)
