"""The routing API is described in OpenAPI: summaries, tags, error bodies and examples."""

from __future__ import annotations

from typing import Any

import pytest

from services.routing.app import create_app
from services.routing.settings import RoutingSettings
from tests.support import common_settings


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    settings = RoutingSettings(**common_settings(db="unused", exchange="unused"))
    document: dict[str, Any] = create_app(settings).openapi()
    return document


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, op)
        for path, ops in spec["paths"].items()
        for method, op in ops.items()
        if path.startswith(("/letters", "/inbox", "/workflow"))
    ]


def test_every_operation_has_a_summary_and_a_tag(spec: dict[str, Any]) -> None:
    operations = _operations(spec)
    assert len(operations) >= 25
    for method, path, op in operations:
        assert op.get("summary"), f"{method} {path}"
        assert op.get("tags"), f"{method} {path}"


def test_every_action_documents_its_errors_and_has_an_example(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    for method, path, op in _operations(spec):
        if method == "GET":
            continue
        for status in ("401", "403", "404", "409", "422"):
            assert status in op["responses"], f"{method} {path} lacks {status}"
        body = op["requestBody"]["content"]["application/json"]["schema"]
        name = body["$ref"].rsplit("/", 1)[-1]
        assert schemas[name].get("examples"), f"{name} has no example"
        assert "version" in schemas[name]["required"], f"{name} carries no version"
    error = spec["paths"]["/letters/{letter_id}/slip/approve"]["post"]["responses"]["409"]
    assert error["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorBody")


def test_bounds_are_published(spec: dict[str, Any]) -> None:
    reply = spec["components"]["schemas"]["ReplyDraft"]["properties"]
    assert reply["investigation"]["maxLength"] == 8000
    assert reply["proposed_mode"]["$ref"].endswith("/PublicationMode")
    listing = spec["paths"]["/letters"]["get"]["parameters"]
    limit = next(p for p in listing if p["name"] == "limit")
    assert limit["schema"]["maximum"] == 200
