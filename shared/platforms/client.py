"""The platform client protocol every adapter implements, and its error family."""

from __future__ import annotations

from typing import Protocol

from shared.platforms.models import MalformedRecord, PlatformLetter, PollPage, Upload, UploadReceipt


class PlatformClient(Protocol):
    """Reads letters from one external platform and uploads results to it."""

    platform_id: str

    async def poll(self, *, cursor: str | None, limit: int) -> PollPage:
        """The next page of the feed after `cursor` (None: from the start)."""
        ...

    async def fetch(self, external_id: str) -> PlatformLetter:
        """One letter by the platform's id."""
        ...

    async def upload(self, upload: Upload) -> UploadReceipt:
        """Send a reply or notice; safe to repeat with the same idempotency key."""
        ...

    async def aclose(self) -> None:
        """Release connections the client owns."""
        ...


class PlatformError(Exception):
    """Something went wrong talking to a platform."""

    def __init__(self, message: str, *, platform_id: str) -> None:
        super().__init__(f"[{platform_id}] {message}")
        self.message = message
        self.platform_id = platform_id


class PlatformUnavailable(PlatformError):
    """The platform kept failing (5xx, timeouts, connection errors) until attempts ran out."""

    def __init__(self, message: str, *, platform_id: str, attempts: int) -> None:
        super().__init__(message, platform_id=platform_id)
        self.attempts = attempts


class PlatformRejected(PlatformError):
    """The platform refused the request (4xx) and said why; retrying will not help."""

    def __init__(self, reason: str, *, platform_id: str, status_code: int) -> None:
        super().__init__(f"HTTP {status_code}: {reason}", platform_id=platform_id)
        self.reason = reason
        self.status_code = status_code


class UploadConflict(PlatformRejected):
    """The idempotency key was already used for a different upload body."""


class PlatformMalformed(PlatformError):
    """The platform answered 2xx with something we cannot read (or a malformed record)."""

    def __init__(
        self, message: str, *, platform_id: str, record: MalformedRecord | None = None
    ) -> None:
        super().__init__(message, platform_id=platform_id)
        self.record = record
