"""The publishing API is described in OpenAPI: summaries, tags, error bodies, examples, bounds."""

from __future__ import annotations

from typing import Any

import pytest

from services.publishing.app import create_app
from services.publishing.settings import PublishingSettings
from tests.support import common_settings


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    settings = PublishingSettings(**common_settings(db="unused", exchange="unused"))
    document: dict[str, Any] = create_app(settings).openapi()
    return document


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, op)
        for path, ops in spec["paths"].items()
        for method, op in ops.items()
        if path.startswith(("/letters", "/preview", "/uploads", "/archive"))
    ]


def test_every_operation_has_a_summary_a_tag_and_its_auth_errors(spec: dict[str, Any]) -> None:
    operations = _operations(spec)
    assert len(operations) == 13
    for method, path, op in operations:
        assert op.get("summary"), f"{method} {path}"
        assert op.get("description"), f"{method} {path}"
        assert op.get("tags"), f"{method} {path}"
        for status in ("401", "403"):
            assert status in op["responses"], f"{method} {path} lacks {status}"


def test_request_bodies_have_examples_and_errors_share_one_shape(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    for method, path, op in _operations(spec):
        if "requestBody" not in op:
            continue
        body = op["requestBody"]["content"]["application/json"]["schema"]
        name = body["$ref"].rsplit("/", 1)[-1]
        assert schemas[name].get("examples"), f"{method} {path}: {name} has no example"
        assert "422" in op["responses"], f"{method} {path}"
    retry = spec["paths"]["/uploads/{upload_id}/retry"]["post"]["responses"]
    assert retry["409"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorBody")
    assert (
        "application/zip" in spec["paths"]["/archive/export"]["get"]["responses"]["200"]["content"]
    )


def test_bounds_are_published(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    assert schemas["PreviewIn"]["properties"]["text"]["maxLength"] == 50_000
    assert schemas["ReplyPartsIn"]["properties"]["handler_name"]["maxLength"] == 100
    uploads = spec["paths"]["/uploads"]["get"]["parameters"]
    limit = next(p for p in uploads if p["name"] == "limit")
    assert limit["schema"]["anyOf"][0]["maximum"] == 200
    state = next(p for p in uploads if p["name"] == "state")
    assert state["schema"]["anyOf"][0]["$ref"].endswith("/UploadState")
    assert schemas["UploadState"]["enum"] == [
        "pending",
        "awaiting_callback",
        "sent",
        "parked",
        "refused",
    ]
    callback = schemas["CallbackIn"]["properties"]
    assert callback["note"]["maxLength"] == 2000
    assert callback["reference"]["anyOf"][0]["maxLength"] == 200
    delivered = spec["paths"]["/uploads/{upload_id}/delivered"]["post"]["responses"]
    assert {"403", "404", "409", "422"} <= set(delivered)
