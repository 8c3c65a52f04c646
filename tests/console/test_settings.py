"""The console's settings and the pure parts of its pages (no server)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from services.console.deps import SESSION_COOKIE, cookie_name, safe_next
from services.console.letters.service import due_badge
from services.console.settings import ConsoleSettings

pytestmark = pytest.mark.unit


def test_production_cookies_are_secure_and_host_only() -> None:
    production = ConsoleSettings(environment="production")
    assert production.secure_cookies
    assert cookie_name(production, SESSION_COOKIE) == "__Host-console_session"
    development = ConsoleSettings(environment="development")
    assert not development.secure_cookies
    assert cookie_name(development, SESSION_COOKIE) == "console_session"
    with pytest.raises(ValidationError, match="cookie_secure"):
        ConsoleSettings(environment="production", cookie_secure=False)


def test_the_service_urls_fall_back_to_the_deployments(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAILBOX_ROUTING_URL", "http://routing:8002/")
    monkeypatch.setenv("MAILBOX_CONSOLE_SESSION_TTL_S", "600")
    settings = ConsoleSettings()
    assert settings.url_of("routing") == "http://routing:8002"
    assert settings.session_ttl_s == 600


@pytest.mark.parametrize(
    ("asked", "goes"),
    [
        ("/letters/ltr_1", "/letters/ltr_1"),
        ("//evil.example/", "/worklist"),
        ("/\\evil.example", "/worklist"),
        ("https://evil.example/", "/worklist"),
        (None, "/worklist"),
    ],
)
def test_after_signing_in_only_a_console_path(asked: str | None, goes: str) -> None:
    assert safe_next(asked) == goes


def _kind(due: datetime | None, *, overdue: bool, now: datetime) -> str | None:
    badge = due_badge(due, overdue=overdue, now=now)
    return badge.kind if badge else None


def test_due_badges_say_overdue_then_within_a_day() -> None:
    now = datetime(2026, 10, 12, 1, 30, tzinfo=UTC)
    assert _kind(now - timedelta(days=1), overdue=True, now=now) == "overdue"
    assert _kind(None, overdue=True, now=now) == "overdue"  # routing's word decides
    assert _kind(now + timedelta(hours=5), overdue=False, now=now) == "soon"
    assert _kind(now + timedelta(days=3), overdue=False, now=now) == "running"
    assert _kind(None, overdue=False, now=now) is None
