"""Helpers of the security tests across every service: what the OpenAPI documents is what
gets attacked.

This package's helpers read a service's OpenAPI (operations, path parameters, example
bodies) and make the credentials the tests present, good and bad. A service counts once
its `app.py` exists, so a service still being written is covered as soon as it can start.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jwt
from fastapi import FastAPI

from shared.auth import ISSUER, UNIT_ROLES, Role, TokenCodec
from tests.support import TEST_SECRET, auth

ROOT = Path(__file__).resolve().parents[2]
SETTINGS_CLASSES = {
    "intake": "IntakeSettings",
    "routing": "RoutingSettings",
    "deadlines": "DeadlinesSettings",
    "publishing": "PublishingSettings",
}
BUILT = [name for name in SETTINGS_CLASSES if (ROOT / "services" / name / "app.py").exists()]

# A Monday morning in Chongqing (09:30 +08:00), a working day after the National Day week.
NOW = datetime(2026, 10, 12, 1, 30, tzinfo=UTC)
# Units of the packaged sample directory: the lead and assisting units of the seeded letter,
# and a unit that has nothing to do with it.
UNIT_A = "market-order"
UNIT_ASSIST = "consumption"
UNIT_B = "foreign-trade"
HTTP_METHODS = ("get", "put", "post", "delete", "patch")
MUTATING = frozenset({"PUT", "POST", "DELETE", "PATCH"})


def headers(role: Role, *, unit: str | None = None, user: str | None = None) -> dict[str, str]:
    """A valid bearer token of `role` (unit roles belong to UNIT_A unless told otherwise)."""
    if role in UNIT_ROLES and unit is None:
        unit = UNIT_A
    return auth(role, unit_id=unit, user_id=user)


def _claims(**overrides: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "sub": "u_admin",
        "name": "管理员",
        "role": Role.admin.value,
        "unit": None,
        "jti": "tok_01JX0000000000000000000000",
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(hours=1)).timestamp()),
    }
    claims.update(overrides)
    return claims


def bad_credentials() -> dict[str, dict[str, str]]:
    """Authorization headers that must all be refused with 401, by name."""
    codec = TokenCodec(TEST_SECRET)
    forged = TokenCodec("not-the-services-secret-0123456789abcdef").issue(
        user_id="u_admin", name="管理员", role=Role.admin
    )
    expired = codec.issue(
        user_id="u_admin",
        name="管理员",
        role=Role.admin,
        ttl=timedelta(hours=1),
        now=datetime.now(UTC) - timedelta(hours=3),
    )
    signed = {
        "forged signature": forged.token,
        "expired": expired.token,
        "wrong issuer": jwt.encode(_claims(iss="somebody-else"), TEST_SECRET, algorithm="HS256"),
        "no expiry": jwt.encode(
            {k: v for k, v in _claims().items() if k != "exp"}, TEST_SECRET, algorithm="HS256"
        ),
        "unknown role": jwt.encode(_claims(role="superuser"), TEST_SECRET, algorithm="HS256"),
        "alg none": jwt.encode(_claims(), None, algorithm="none"),
        "not a token": "not-a-token",
    }
    found = {name: {"Authorization": f"Bearer {value}"} for name, value in signed.items()}
    found["missing"] = {}
    found["basic scheme"] = {"Authorization": "Basic YWRtaW46YWRtaW4="}
    found["empty bearer"] = {"Authorization": "Bearer "}
    return found


@dataclass(frozen=True)
class Operation:
    """One method on one path of a service's OpenAPI."""

    service: str
    method: str
    path: str
    spec: Mapping[str, Any]

    @property
    def key(self) -> tuple[str, str]:
        """(METHOD, path) as the role tables name it."""
        return self.method, self.path

    def __str__(self) -> str:
        return f"{self.service} {self.method} {self.path}"

    def parameters(self, where: str) -> list[Mapping[str, Any]]:
        """The declared parameters of one kind (`path`, `query`)."""
        return [p for p in self.spec.get("parameters", []) if p.get("in") == where]

    @property
    def has_body(self) -> bool:
        """Whether the operation takes a JSON body."""
        return "application/json" in self.spec.get("requestBody", {}).get("content", {})


def operations(service: str, app: FastAPI) -> Iterator[Operation]:
    """Every operation the service's OpenAPI documents."""
    for path, item in app.openapi()["paths"].items():
        for method in HTTP_METHODS:
            if method in item:
                yield Operation(
                    service=service, method=method.upper(), path=path, spec=item[method]
                )


def resolve(openapi: Mapping[str, Any], schema: Mapping[str, Any]) -> Mapping[str, Any]:
    """A schema with its `$ref` (and a single-branch `allOf`) followed."""
    while True:
        if "$ref" in schema:
            name = str(schema["$ref"]).rsplit("/", 1)[-1]
            schema = openapi["components"]["schemas"][name]
        elif len(schema.get("allOf", [])) == 1:
            schema = schema["allOf"][0]
        else:
            return schema


# Candidates tried in order for a path parameter; the first the parameter's schema accepts
# is used. Ids of made-up things, so a valid token is answered with 404, never with data.
_CANDIDATES = (
    "ltr_01JX0000000000000000000000",
    "zz-no-such-unit",
    "no_such_platform",
    "no.such.user",
)


def placeholder(schema: Mapping[str, Any], *, name: str) -> str:
    """A value the path parameter's schema accepts and that names nothing that exists."""
    if schema.get("type") == "integer":
        low, high = int(schema.get("minimum", 1)), int(schema.get("maximum", 2026))
        return str(min(max(2026, low), high))
    if schema.get("format") == "date":
        return "2026-10-01"
    pattern = schema.get("pattern")
    limit = int(schema.get("maxLength", 10_000))
    prefix = re.match(r"\^([a-z]+_)\[", pattern or "")
    candidates = (f"{prefix.group(1)}01JX0000000000000000000000",) if prefix else ()
    for value in candidates + _CANDIDATES:
        if len(value) <= limit and (pattern is None or re.search(pattern, value)):
            return value
    raise AssertionError(f"no placeholder fits path parameter {name} {dict(schema)}: add one")


def concrete_path(op: Operation, values: Mapping[str, str] | None = None) -> str:
    """The path with its parameters filled: `values` where given, placeholders otherwise."""
    path = op.path
    for param in op.parameters("path"):
        name = param["name"]
        value = (values or {}).get(name) or placeholder(param.get("schema", {}), name=name)
        path = path.replace("{" + name + "}", quote(value, safe=""))
    return path


def example_body(openapi: Mapping[str, Any], op: Operation) -> Any:
    """The first example the OpenAPI gives for the body (None without a JSON body)."""
    if not op.has_body:
        return None
    content = op.spec["requestBody"]["content"]["application/json"]
    if "example" in content:
        return content["example"]
    schema = resolve(openapi, content.get("schema", {}))
    examples = schema.get("examples") or []
    return examples[0] if examples else {}


def body_schema(openapi: Mapping[str, Any], op: Operation) -> Mapping[str, Any]:
    """The JSON body's schema, `$ref` followed."""
    content = op.spec["requestBody"]["content"]["application/json"]
    return resolve(openapi, content.get("schema", {}))
