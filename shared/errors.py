"""One error family for every service, mapped to HTTP in one handler (shared.web)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class AppError(Exception):
    """An error the client can act on; `code` is stable, `message` is for people."""

    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class Unauthorized(AppError):
    status_code = 401
    code = "unauthorized"


class Forbidden(AppError):
    status_code = 403
    code = "forbidden"


class NotFound(AppError):
    status_code = 404
    code = "not_found"


class Conflict(AppError):
    status_code = 409
    code = "conflict"


class VersionConflict(Conflict):
    """The client acted on a stale `version` of the document."""

    code = "stale_version"

    def __init__(self, *, expected: int, actual: int | None) -> None:
        super().__init__(
            f"document changed since you read it (you had version {expected}, it is now {actual})",
            details={"expected_version": expected, "current_version": actual},
        )


class InvalidTransition(Conflict):
    """The action is not allowed in the document's current state."""

    code = "invalid_state"

    def __init__(self, *, action: str, state: str, allowed: Sequence[str]) -> None:
        super().__init__(
            f"'{action}' is not allowed while the letter is '{state}'",
            details={"action": action, "state": state, "allowed_actions": sorted(allowed)},
        )


class Invalid(AppError):
    status_code = 422
    code = "invalid"


class PayloadTooLarge(AppError):
    status_code = 413
    code = "payload_too_large"


class Unavailable(AppError):
    status_code = 503
    code = "unavailable"
