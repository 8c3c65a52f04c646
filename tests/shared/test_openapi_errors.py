"""Each service's OpenAPI documents its errors the way the app answers them (shared.web).

The four apps are built without servers, as the api_docs tests do, and their OpenAPI read;
a small app of the same factory then answers each documented error, and each answer is
checked against the schema its OpenAPI gives.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import jsonschema_rs
import pytest
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, Field

from services.deadlines.app import create_app as create_deadlines
from services.deadlines.settings import DeadlinesSettings
from services.intake.app import create_app as create_intake
from services.intake.settings import IntakeSettings
from services.publishing.app import create_app as create_publishing
from services.publishing.settings import PublishingSettings
from services.routing.app import create_app as create_routing
from services.routing.settings import RoutingSettings
from shared.auth import CurrentPrincipal
from shared.settings import ServiceSettings
from shared.web import ErrorBody
from tests.support import add_write_while_the_database_is_down, bare_service_app, common_settings

ERROR_BODY = "#/components/schemas/ErrorBody"
METHODS = ("get", "put", "post", "delete", "patch")
# The factory's own routes: no token, no server behind /healthz and /metrics.
OPERATIONS_ROUTES = {"/healthz", "/readyz", "/metrics"}
# Routing's sign-in: a user name and password instead of a token, refused with 401 all the same.
SIGN_IN_ROUTES = {"/auth/login", "/auth/password"}
FACTORIES: dict[str, tuple[Callable[[Any], FastAPI], type[ServiceSettings]]] = {
    "intake": (create_intake, IntakeSettings),
    "routing": (create_routing, RoutingSettings),
    "deadlines": (create_deadlines, DeadlinesSettings),
    "publishing": (create_publishing, PublishingSettings),
}

Operation = tuple[str, str, str, dict[str, Any]]  # service, METHOD, path, operation


@pytest.fixture(scope="module")
def apps() -> dict[str, FastAPI]:
    return {
        name: create(settings(**common_settings(db="unused", exchange="unused")))
        for name, (create, settings) in FACTORIES.items()
    }


@pytest.fixture(scope="module")
def specs(apps: dict[str, FastAPI]) -> dict[str, dict[str, Any]]:
    return {name: app.openapi() for name, app in apps.items()}


def _operations(specs: dict[str, dict[str, Any]]) -> Iterator[Operation]:
    for service, spec in specs.items():
        for path, item in spec["paths"].items():
            for method in METHODS:
                if method in item:
                    yield service, method.upper(), path, item[method]


def _schema_ref(response: dict[str, Any]) -> str | None:
    ref: str | None = (
        response.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref")
    )
    return ref


def test_no_operation_documents_fastapis_validation_error(specs: dict[str, dict[str, Any]]) -> None:
    for service, spec in specs.items():
        text = json.dumps(spec)
        assert "HTTPValidationError" not in text, service
        assert "ValidationError" not in spec["components"]["schemas"], service


def test_every_422_is_the_error_body(specs: dict[str, dict[str, Any]]) -> None:
    per_service = dict.fromkeys(specs, 0)
    for service, method, path, op in _operations(specs):
        if "422" in op["responses"]:
            assert _schema_ref(op["responses"]["422"]) == ERROR_BODY, f"{service} {method} {path}"
            per_service[service] += 1
    assert all(per_service.values()), per_service
    # Ones the audit found documented as FastAPI's {"detail": [...]}.
    for service, method, path in (
        ("routing", "get", "/letters/{letter_id}"),
        ("deadlines", "get", "/clocks/overdue"),
        ("publishing", "post", "/uploads/{upload_id}/retry"),
        ("intake", "get", "/letters/{letter_id}"),
    ):
        response = specs[service]["paths"][path][method]["responses"]["422"]
        assert _schema_ref(response) == ERROR_BODY, f"{service} {method} {path}"
        assert "details.errors" in response["description"]


def test_every_error_response_has_the_error_body(specs: dict[str, dict[str, Any]]) -> None:
    for service, method, path, op in _operations(specs):
        if path == "/readyz":
            continue
        for status, response in op["responses"].items():
            if status.startswith(("4", "5")):
                # In JSON even on a route that answers a page (slip.html): the handlers' format.
                assert set(response["content"]) == {"application/json"}, f"{service} {path}"
                assert _schema_ref(response) == ERROR_BODY, f"{service} {method} {path} {status}"


def test_the_error_body_has_one_shape_in_every_service(specs: dict[str, dict[str, Any]]) -> None:
    shared = ErrorBody.model_json_schema()
    for service, spec in specs.items():
        schema = spec["components"]["schemas"]["ErrorBody"]
        assert set(schema["properties"]) == set(shared["properties"]), service
        assert set(schema["required"]) == set(shared["required"]), service
        assert schema["properties"]["details"]["type"] == "object", service


def test_readyz_documents_not_ready_as_503(specs: dict[str, dict[str, Any]]) -> None:
    for service, spec in specs.items():
        responses = spec["paths"]["/readyz"]["get"]["responses"]
        assert _schema_ref(responses["200"]) == "#/components/schemas/Readiness", service
        assert _schema_ref(responses["503"]) == "#/components/schemas/Readiness", service
        status = spec["components"]["schemas"]["Readiness"]["properties"]["status"]
        assert set(status["enum"]) == {"ready", "not_ready"}


def test_every_operation_taking_a_body_documents_413(specs: dict[str, dict[str, Any]]) -> None:
    per_service = dict.fromkeys(specs, 0)
    for service, method, path, op in _operations(specs):
        if "requestBody" in op:
            response = op["responses"].get("413")
            assert response is not None, f"{service} {method} {path}"
            assert _schema_ref(response) == ERROR_BODY
            assert "1048576 bytes" in response["description"]
            per_service[service] += 1
    assert all(per_service.values()), per_service


def test_every_operation_taking_a_token_documents_401(specs: dict[str, dict[str, Any]]) -> None:
    for service, method, path, op in _operations(specs):
        if path in OPERATIONS_ROUTES:
            assert not op.get("security"), f"{service} {method} {path}"
            continue
        if service == "routing" and path in SIGN_IN_ROUTES:
            assert not op.get("security"), f"{service} {method} {path}"
            assert _schema_ref(op["responses"]["401"]) == ERROR_BODY, f"{service} {method} {path}"
            continue
        # Every other route depends on get_principal: FastAPI lists its bearer scheme.
        assert op.get("security") == [{"HTTPBearer": []}], f"{service} {method} {path}"
        assert _schema_ref(op["responses"]["401"]) == ERROR_BODY, f"{service} {method} {path}"
    assert "401" in specs["deadlines"]["paths"]["/clocks/overdue"]["get"]["responses"]
    assert "401" in specs["routing"]["paths"]["/workflow"]["get"]["responses"]


def test_every_operation_behind_a_server_documents_503(specs: dict[str, dict[str, Any]]) -> None:
    for service, method, path, op in _operations(specs):
        response = op["responses"].get("503")
        if path in {"/healthz", "/metrics"}:
            assert response is None, f"{service} {method} {path}"
        else:
            assert response is not None, f"{service} {method} {path}"
            if path != "/readyz":
                assert "unavailable" in response["description"]
                assert "Retry-After" in response["headers"]


def test_descriptions_a_service_gave_are_kept(apps: dict[str, FastAPI]) -> None:
    kept = 0
    for service, app in apps.items():
        spec = app.openapi()
        generated = get_openapi(title=app.title, version=app.version, routes=app.routes)
        for path, item in generated["paths"].items():
            if path == "/readyz":
                continue
            for method, op in item.items():
                for status, response in op["responses"].items():
                    if status.startswith("4") and response["description"] != "Validation Error":
                        documented = spec["paths"][path][method]["responses"][status]
                        assert documented["description"] == response["description"], (
                            f"{service} {method} {path} {status}"
                        )
                        kept += 1
    assert kept > 50


# -- the answers match what is documented ------------------------------------------------------


class Thing(BaseModel):
    title: str = Field(max_length=10)


def _app() -> FastAPI:
    app = bare_service_app()

    async def not_ready() -> bool:
        return False

    app.state.readiness_checks = {"mongo": not_ready}

    @app.post("/things")
    async def create_thing(thing: Thing) -> Thing:
        return thing

    @app.get("/me")
    async def me(principal: CurrentPrincipal) -> dict[str, str]:
        return {"role": principal.role.value}

    add_write_while_the_database_is_down(app)

    return app


def _assert_documented(
    spec: dict[str, Any], response: httpx.Response, *, method: str, path: str
) -> None:
    """The answer's status is documented for the operation and its body fits that schema."""
    documented = spec["paths"][path][method]["responses"].get(str(response.status_code))
    assert documented is not None, f"{method} {path} does not document {response.status_code}"
    schema = documented["content"]["application/json"]["schema"]
    validator = jsonschema_rs.validator_for({**schema, "components": spec["components"]})
    errors = [error.message for error in validator.iter_errors(response.json())]
    assert not errors, f"{method} {path} {response.status_code}: {errors} in {response.text}"


async def test_the_errors_answered_are_the_ones_documented() -> None:
    app = _app()
    spec = app.openapi()
    assert "HTTPValidationError" not in json.dumps(spec)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        invalid = await client.post("/things", json={"title": "far too long a title"})
        too_large = await client.post(
            "/things", content=b"x" * 3000, headers={"content-type": "application/json"}
        )
        no_token = await client.get("/me")
        database_down = await client.post("/write-while-the-database-is-down")
        not_ready = await client.get("/readyz")
    answers = [
        (invalid, 422, "post", "/things"),
        (too_large, 413, "post", "/things"),
        (no_token, 401, "get", "/me"),
        (database_down, 503, "post", "/write-while-the-database-is-down"),
        (not_ready, 503, "get", "/readyz"),
    ]
    for response, status, method, path in answers:
        assert response.status_code == status, response.text
        _assert_documented(spec, response, method=method, path=path)
    assert invalid.json()["details"]["errors"][0] == {
        "field": "title",
        "in": "body",
        "reason": "String should have at most 10 characters",
    }
    assert no_token.headers["www-authenticate"] == "Bearer"
    assert database_down.json()["error"] == "unavailable"
    assert not_ready.json() == {"status": "not_ready", "checks": {"mongo": False}}
