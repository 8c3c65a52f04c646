"""Every endpoint a service documents refuses a missing or bad token with 401.

The only endpoints answered without a token are the operational ones listed here; a
route the OpenAPI does not show must be one of them too, so nothing hides from this test.
A token an admin revoked in routing is refused by every service once `token.revoked`
reached it.
"""

from __future__ import annotations

import asyncio

import pytest
from fastapi.routing import APIRoute
from starlette.routing import Route

from shared.auth import Role
from tests.security.conftest import Deployment, Seeded
from tests.security.harness import (
    BUILT,
    Operation,
    bad_credentials,
    concrete_path,
    example_body,
    headers,
    operations,
)

# The only endpoints that answer without a token. /docs/oauth2-redirect is a page of the
# Swagger UI served under /docs.
OPERATIONAL = frozenset(
    {"/healthz", "/readyz", "/metrics", "/docs", "/docs/oauth2-redirect", "/openapi.json", "/redoc"}
)
# Signing in (routing) is how a person gets a token: these take a user name and password
# instead, and refuse wrong ones with 401 without telling which names exist (test_sign_in).
SIGN_IN = frozenset({"/auth/login", "/auth/password"})


async def _not_refused(deployed: Deployment, op: Operation) -> list[str]:
    """The bad credentials this operation did not refuse with a 401 and a Bearer challenge."""
    client = deployed.client(op.service)
    body = example_body(deployed.apps[op.service].openapi(), op)
    url = concrete_path(op)
    failures = []
    for name, header in bad_credentials().items():
        response = await client.request(op.method, url, headers=header, json=body)
        content = response.json() if "json" in response.headers.get("content-type", "") else {}
        challenge = response.headers.get("www-authenticate", "")
        if (
            response.status_code != 401
            or content.get("error") != "unauthorized"
            or not challenge.lower().startswith("bearer")
        ):
            failures.append(f"{op.method} {url} [{name}] -> {response.status_code} {content}")
    return failures


@pytest.mark.parametrize("service", BUILT)
async def test_every_documented_endpoint_refuses_missing_and_bad_tokens(
    deployed: Deployment, service: str
) -> None:
    failures: list[str] = []
    covered = 0
    for op in operations(service, deployed.apps[service]):
        if op.path in OPERATIONAL or (service == "routing" and op.path in SIGN_IN):
            continue
        covered += 1
        failures += await _not_refused(deployed, op)
    assert covered > 0, f"{service} documents no endpoint besides the operational ones"
    assert not failures, f"{len(failures)} requests not refused with 401:\n" + "\n".join(failures)


@pytest.mark.parametrize("service", BUILT)
def test_routes_missing_from_the_openapi_are_only_the_operational_ones(
    deployed: Deployment, service: str
) -> None:
    app = deployed.apps[service]
    documented = {op.key for op in operations(service, app)}
    hidden = []
    for route in app.routes:
        if not isinstance(route, Route):
            continue
        for method in sorted(route.methods or {"GET"}):
            if method in ("HEAD", "OPTIONS"):
                continue
            if (method, route.path) not in documented and route.path not in OPERATIONAL:
                kind = "API route" if isinstance(route, APIRoute) else "route"
                hidden.append(f"{kind} {method} {route.path}")
    assert not hidden, f"{service} serves undocumented routes the 401 test cannot see: {hidden}"


@pytest.mark.parametrize("service", BUILT)
async def test_operational_endpoints_answer_without_a_token(
    deployed: Deployment, service: str
) -> None:
    client = deployed.client(service)
    for path in sorted(OPERATIONAL - {"/docs/oauth2-redirect"}):
        response = await client.get(path)
        assert response.status_code == 200, f"{service} {path}: {response.status_code}"
    spec = (await client.get("/openapi.json")).json()
    assert spec["paths"], f"{service} publishes an empty OpenAPI"


async def test_a_revoked_token_is_refused_by_every_service(
    deployed: Deployment, seeded: Seeded
) -> None:
    if "routing" not in deployed.apps or seeded.user is None:
        pytest.skip("routing (which issues and revokes tokens) is not built")
    routing = deployed.client("routing")
    admin = headers(Role.admin)
    response = await routing.post(
        f"/admin/users/{seeded.user}/tokens",
        json={"ttl_days": 1, "note": "安全测试"},
        headers=admin,
    )
    assert response.status_code == 201, response.text
    issued = response.json()
    bearer = {"Authorization": f"Bearer {issued['token']}"}
    reads = {
        service: [
            op
            for op in operations(service, app)
            if op.method == "GET" and op.path not in OPERATIONAL and not op.parameters("path")
        ]
        for service, app in deployed.apps.items()
    }

    async def refused_everywhere() -> bool:
        for service, ops in reads.items():
            answer = await deployed.client(service).get(ops[0].path, headers=bearer)
            if answer.status_code != 401:
                return False
        return True

    assert not await refused_everywhere()  # valid until revoked (a 403 is no 401)
    revoked = await routing.delete(f"/admin/tokens/{issued['token_id']}", headers=admin)
    assert revoked.status_code == 200, revoked.text
    for _ in range(150):  # each service hears of it through `token.revoked`: at most 15 s
        if await refused_everywhere():
            break
        await asyncio.sleep(0.1)
    failures = []
    for service, ops in reads.items():
        for op in ops:
            answer = await deployed.client(service).get(concrete_path(op), headers=bearer)
            if answer.status_code != 401:
                failures.append(f"{op}: {answer.status_code}")
    assert not failures, "a revoked token still works:\n" + "\n".join(failures)
