"""The common HTTP behaviour every service gets from shared.web and shared.auth."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Annotated

import httpx
import pytest
from fastapi import Depends, FastAPI
from pydantic import BaseModel, Field

from shared.auth import (
    Authenticator,
    CurrentPrincipal,
    Principal,
    RevokedTokens,
    Role,
    TokenCodec,
    require_roles,
)
from shared.errors import InvalidTransition
from shared.mongo import Database
from tests.support import TEST_SECRET, add_write_while_the_database_is_down, auth, bare_service_app


class Body(BaseModel):
    title: str = Field(max_length=10)


def _app(db: Database) -> FastAPI:
    app = bare_service_app()
    app.state.authenticator = Authenticator(TokenCodec(TEST_SECRET), RevokedTokens(db["revoked"]))

    @app.get("/me")
    async def me(principal: CurrentPrincipal) -> dict[str, str]:
        return {"role": principal.role.value}

    @app.post("/heads-only")
    async def heads_only(
        principal: Annotated[Principal, Depends(require_roles(Role.office_head))], body: Body
    ) -> dict[str, str]:
        return {"title": body.title}

    @app.post("/transition")
    async def transition() -> None:
        raise InvalidTransition(action="approve", state="registered", allowed=["draft_slip"])

    add_write_while_the_database_is_down(app)

    return app


@pytest.fixture
def app(db: Database) -> FastAPI:
    return _app(db)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        yield c


async def test_missing_bad_and_expired_tokens_are_401(client: httpx.AsyncClient) -> None:
    assert (await client.get("/me")).status_code == 401
    bad = await client.get("/me", headers={"Authorization": "Bearer nonsense"})
    assert bad.status_code == 401
    assert bad.json()["error"] == "unauthorized"
    forged = TokenCodec("another-secret-entirely-0123456789abcdef").issue(
        user_id="x", name="x", role=Role.admin
    )
    assert (
        await client.get("/me", headers={"Authorization": f"Bearer {forged.token}"})
    ).status_code == 401
    expired = TokenCodec(TEST_SECRET).issue(
        user_id="x",
        name="x",
        role=Role.admin,
        now=datetime.now(UTC) - timedelta(days=2),
        ttl=timedelta(days=1),
    )
    response = await client.get("/me", headers={"Authorization": f"Bearer {expired.token}"})
    assert response.status_code == 401
    assert response.json()["message"] == "token expired"


async def test_a_revoked_token_is_refused(client: httpx.AsyncClient, app: FastAPI) -> None:
    issued = TokenCodec(TEST_SECRET).issue(user_id="u", name="u", role=Role.office_clerk)
    headers = {"Authorization": f"Bearer {issued.token}"}
    assert (await client.get("/me", headers=headers)).status_code == 200
    # As the token.revoked consumer does, through the service's own store.
    await app.state.authenticator.revoked.add(issued.token_id, expires_at=issued.expires_at)
    assert (await client.get("/me", headers=headers)).status_code == 401


async def test_roles_are_enforced_with_403(client: httpx.AsyncClient) -> None:
    clerk = await client.post("/heads-only", json={"title": "x"}, headers=auth(Role.office_clerk))
    assert clerk.status_code == 403
    assert clerk.json()["details"]["allowed_roles"] == ["office_head"]
    head = await client.post("/heads-only", json={"title": "x"}, headers=auth(Role.office_head))
    assert head.json() == {"title": "x"}


async def test_bad_input_is_422_with_the_field(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/heads-only", json={"title": "far too long a title"}, headers=auth(Role.office_head)
    )
    assert response.status_code == 422
    assert response.json()["details"]["errors"][0]["field"] == "title"


async def test_an_oversized_body_is_413(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/heads-only",
        content=b"x" * 5000,
        headers={**auth(Role.office_head), "content-type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"


async def _streamed(total: int) -> AsyncIterator[bytes]:
    yield b'{"title": "'
    for _ in range(total // 1000):
        yield b"x" * 1000
    yield b'"}'


async def test_a_streamed_body_over_the_limit_is_413_in_the_error_format(
    client: httpx.AsyncClient,
) -> None:
    # Chunked, no Content-Length: only counting the bytes as they come can refuse it.
    response = await client.post(
        "/heads-only",
        content=_streamed(5000),
        headers={**auth(Role.office_head), "content-type": "application/json"},
    )
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert response.json() == {
        "error": "payload_too_large",
        "message": "request body over 2048 bytes",
        "details": {"max_body_bytes": 2048},
    }


async def test_a_streamed_body_within_the_limit_reaches_the_endpoint(
    client: httpx.AsyncClient,
) -> None:
    async def small() -> AsyncIterator[bytes]:
        yield b'{"title": '
        yield b'"short"}'

    response = await client.post(
        "/heads-only",
        content=small(),
        headers={**auth(Role.office_head), "content-type": "application/json"},
    )
    assert "content-length" not in response.request.headers
    assert response.json() == {"title": "short"}


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"title": "\xff\xfe"}', "invalid JSON: the body is not UTF-8 text"),
        (b"\xff\xfe not json", "invalid JSON: the body is not UTF-8 text"),
        (b"[" * 2000, "invalid JSON: nested too deeply"),  # within the 2048-byte limit
    ],
)
async def test_a_body_json_cannot_read_is_422_with_the_reason(
    client: httpx.AsyncClient, body: bytes, reason: str
) -> None:
    response = await client.post(
        "/heads-only",
        content=body,
        headers={**auth(Role.office_head), "content-type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json() == {
        "error": "validation_error",
        "message": f"request: {reason}",
        "details": {"errors": [{"field": "", "in": "body", "reason": reason}]},
    }


async def test_errors_of_the_framework_have_the_error_format(client: httpx.AsyncClient) -> None:
    unknown = await client.get("/no-such-path")
    assert unknown.status_code == 404
    assert unknown.json() == {"error": "not_found", "message": "Not Found", "details": {}}
    wrong_method = await client.delete("/me")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"] == "method_not_allowed"
    assert wrong_method.headers["allow"] == "GET"


async def test_invalid_transition_names_state_and_allowed_actions(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/transition")
    assert response.status_code == 409
    assert response.json()["details"] == {
        "action": "approve",
        "state": "registered",
        "allowed_actions": ["draft_slip"],
    }


async def test_a_database_that_does_not_answer_is_503_in_the_error_format(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/write-while-the-database-is-down")
    assert response.status_code == 503
    assert response.json()["error"] == "unavailable"
    assert "read again" in response.json()["message"]
    assert response.headers["retry-after"] == "1"


async def test_health_and_metrics(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json()["status"] == "ok"
    assert (await client.get("/readyz")).status_code == 503  # no checks registered: not ready
    await client.get("/me")
    metrics = await client.get("/metrics")
    assert "mailbox_http_requests_total" in metrics.text


def test_a_unit_role_needs_a_unit() -> None:
    with pytest.raises(ValueError):
        TokenCodec(TEST_SECRET).issue(user_id="u", name="u", role=Role.unit_handler)
