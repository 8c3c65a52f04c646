"""No client value reaches a Mongo query as an operator; oversized and malformed input is
refused with 413/422 and a reason.

Every documented endpoint of every built service is attacked where it takes input: path
ids (`$ne`, `{"$ne": null}`, …), query filters (`state[$ne]=x`, operator JSON as the value,
cursors that decode to operator objects) and JSON bodies (operator objects where strings,
numbers or enums are expected). The answer is a 404 or a 422 — never a 5xx, never data of
someone else: filters are asked as unit B, and unit A's letter must not show. Requests
carry a token of a role the endpoint allows and real ids elsewhere, so nothing but the
attacked value can refuse them.
"""

from __future__ import annotations

import base64
import copy
import itertools
from collections.abc import Iterator, Mapping
from typing import Any

import httpx
import orjson
import pytest

from shared.auth import UNIT_ROLES, Role
from tests.security.conftest import Deployment, Seeded
from tests.security.harness import (
    BUILT,
    UNIT_B,
    Operation,
    body_schema,
    concrete_path,
    example_body,
    headers,
    operations,
    resolve,
)
from tests.security.test_roles import allowed_roles, caller_role

OPERATOR_OBJECTS: list[Any] = [{"$ne": None}, {"$gt": ""}, {"$where": "1"}]
OPERATOR_STRINGS = ["$ne", '{"$ne": null}', '{"$gt": ""}', '{"$where": "1"}']
BRACKETS = ["[$ne]", "[$gt]", "[$where]", "[$regex]"]
OPERATOR_CURSORS = [[{"$ne": None}, "x"], [{"$gt": ""}, {"$where": "1"}], {"$ne": None}]
Path = tuple[str | int, ...]


def _json(response: httpx.Response) -> Any:
    return response.json() if "json" in response.headers.get("content-type", "") else None


def _as_outsider(op: Operation) -> dict[str, str]:
    """Unit B where units may call the endpoint (to see whether A's data leaks), else a role
    the endpoint lets through."""
    if allowed_roles(op) & UNIT_ROLES:
        return headers(Role.unit_head, unit=UNIT_B)
    return headers(caller_role(op))


def _as_caller(op: Operation) -> dict[str, str]:
    """A role the endpoint lets through (unit roles of the seeded letter's unit)."""
    return headers(caller_role(op))


def _branches(openapi: Mapping[str, Any], schema: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    schema = resolve(openapi, schema)
    found: list[Mapping[str, Any]] = []
    for branch in schema.get("anyOf") or schema.get("oneOf") or [schema]:
        found.append(resolve(openapi, branch))
    return [b for b in found if b.get("type") != "null"]


def _takes_objects(openapi: Mapping[str, Any], schema: Mapping[str, Any]) -> bool:
    """Whether the schema accepts a JSON object (then an operator object is just data)."""
    for branch in _branches(openapi, schema):
        kind = branch.get("type")
        if kind == "object" or "properties" in branch or "additionalProperties" in branch:
            return True
        if kind is None and "enum" not in branch and "const" not in branch:
            return True
    return False


def scalar_fields(
    openapi: Mapping[str, Any], schema: Mapping[str, Any], example: Any, prefix: Path = ()
) -> Iterator[tuple[Path, Mapping[str, Any]]]:
    """Paths into a body where a string, number, boolean or enum is expected, with its schema
    (into nested objects, and to the first item of lists of such values)."""
    objects = [b for b in _branches(openapi, schema) if "properties" in b]
    if not objects:
        return
    example = example if isinstance(example, dict) else {}
    for name, sub in objects[0]["properties"].items():
        path = (*prefix, name)
        value = example.get(name)
        nested = [b for b in _branches(openapi, sub) if "properties" in b]
        arrays = [b for b in _branches(openapi, sub) if b.get("type") == "array"]
        if nested:
            yield from scalar_fields(openapi, nested[0], value, path)
        elif arrays:
            items = arrays[0].get("items", {})
            if not _takes_objects(openapi, items):
                yield (*path, 0), resolve(openapi, items)
        elif not _takes_objects(openapi, sub):
            yield path, sub


def with_value(body: Any, path: Path, value: Any) -> Any:
    """A copy of the body with `value` at `path` (made where missing)."""
    changed = copy.deepcopy(body) if isinstance(body, dict) else {}
    node: Any = changed
    for step, following in itertools.pairwise(path):
        if isinstance(step, int):
            while len(node) <= step:
                node.append({} if isinstance(following, str) else None)
            node = node[step]
        else:
            if not isinstance(node.get(step), dict | list):
                node[step] = [] if isinstance(following, int) else {}
            node = node[step]
    last = path[-1]
    if isinstance(last, int):
        node[:] = [value]
    else:
        node[last] = value
    return changed


def names_field(answer: Any, path: Path) -> bool:
    """Whether a 422 names the field (its error list, or the field in the message)."""
    if not isinstance(answer, dict):
        return False
    wanted = ".".join(str(p) for p in path)
    errors = (answer.get("details") or {}).get("errors") or []
    fields = [str(e.get("field", "")) for e in errors] + [str(answer.get("message", ""))]
    return any(wanted in f or str(path[0]) in f for f in fields)


@pytest.fixture
def hit(deployed: Deployment, seeded: Seeded) -> Any:
    """Send a request to an operation of a service; the response."""

    async def send(op: Operation, *, auth: dict[str, str], **kwargs: Any) -> httpx.Response:
        ids = {**seeded.path_ids(op.service), **kwargs.pop("path_ids", {})}
        url = concrete_path(op, ids)
        sent = {**auth, **kwargs.pop("headers_extra", {})}
        return await deployed.client(op.service).request(op.method, url, headers=sent, **kwargs)

    return send


def _ops(deployed: Deployment, service: str) -> list[Operation]:
    return list(operations(service, deployed.apps[service]))


@pytest.mark.parametrize("service", BUILT)
async def test_operator_ids_in_the_path_are_404_or_422(
    deployed: Deployment, service: str, hit: Any
) -> None:
    openapi = deployed.apps[service].openapi()
    failures, sent = [], 0
    for op in _ops(deployed, service):
        for param in op.parameters("path"):
            for bad in OPERATOR_STRINGS:
                response = await hit(
                    op,
                    auth=_as_caller(op),
                    path_ids={param["name"]: bad},
                    json=example_body(openapi, op),
                )
                sent += 1
                if response.status_code not in (404, 422):
                    failures.append(f"{op} {param['name']}={bad}: {response.status_code}")
    assert not failures, f"{len(failures)} of {sent}:\n" + "\n".join(failures)


def _item_ids(answer: Any) -> list[str] | None:
    if not isinstance(answer, dict) or not isinstance(answer.get("items"), list):
        return None
    return [str(i.get("id") or i.get("letter_id")) for i in answer["items"] if isinstance(i, dict)]


def _same(response: httpx.Response, baseline: httpx.Response) -> bool:
    """The same answer: status and, for a list, the same items."""
    return response.status_code == baseline.status_code and _item_ids(_json(response)) == _item_ids(
        _json(baseline)
    )


@pytest.mark.parametrize("service", BUILT)
async def test_operator_filters_in_the_query_are_refused_or_ignored(
    deployed: Deployment, seeded: Seeded, service: str, hit: Any
) -> None:
    failures, sent = [], 0
    for op in _ops(deployed, service):
        names = [p["name"] for p in op.parameters("query")]
        if not names or op.method != "GET":
            continue
        auth = _as_outsider(op)
        baseline = await hit(op, auth=auth)
        for name in names:
            for suffix in BRACKETS:
                # `state[$ne]=x` is no parameter of ours: ignored entirely, or refused.
                response = await hit(op, auth=auth, params={f"{name}{suffix}": "x"})
                sent += 1
                if not (response.status_code == 422 or _same(response, baseline)):
                    # Background work (notices, clocks) may have changed the list meanwhile.
                    baseline = await hit(op, auth=auth)
                if not (response.status_code == 422 or _same(response, baseline)):
                    failures.append(f"{op} {name}{suffix}: {response.status_code}")
            for bad in OPERATOR_STRINGS:
                # The operator as the value: refused, or a literal that matches nothing.
                response = await hit(op, auth=auth, params={name: bad})
                sent += 1
                found = _item_ids(_json(response))
                refused = response.status_code in (404, 422)
                if not (refused or (response.status_code == 200 and not found)):
                    failures.append(f"{op} {name}={bad}: {response.status_code} {found}")
        if seeded.letter is not None and seeded.letter in (_item_ids(_json(baseline)) or []):
            assert not allowed_roles(op) & UNIT_ROLES, f"{op}: unit B lists unit A's letter"
    assert sent > 0
    assert not failures, f"{len(failures)} of {sent}:\n" + "\n".join(failures)


@pytest.mark.parametrize("service", BUILT)
async def test_cursors_that_decode_to_operators_are_422(
    deployed: Deployment, service: str, hit: Any
) -> None:
    failures = []
    for op in _ops(deployed, service):
        if "cursor" not in [p["name"] for p in op.parameters("query")]:
            continue
        for value in OPERATOR_CURSORS:
            cursor = base64.urlsafe_b64encode(orjson.dumps(value)).decode().rstrip("=")
            response = await hit(op, auth=_as_caller(op), params={"cursor": cursor})
            if response.status_code != 422:
                failures.append(f"{op} cursor {value}: {response.status_code}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("service", BUILT)
async def test_operator_objects_in_bodies_are_422_naming_the_field(
    deployed: Deployment, service: str, hit: Any
) -> None:
    openapi = deployed.apps[service].openapi()
    failures, sent = [], 0
    for op in _ops(deployed, service):
        if not op.has_body:
            continue
        example = example_body(openapi, op)
        for path, _ in scalar_fields(openapi, body_schema(openapi, op), example):
            for bad in OPERATOR_OBJECTS:
                body = with_value(example, path, bad)
                response = await hit(op, auth=_as_caller(op), json=body)
                sent += 1
                answer = _json(response)
                if response.status_code != 422 or not names_field(answer, path):
                    failures.append(f"{op} {path}={bad}: {response.status_code} {answer}")
    assert sent > 0
    assert not failures, f"{len(failures)} of {sent}:\n" + "\n".join(failures)


# ---- oversized and malformed input: 413 and 422, with a reason ------------------------------


def bad_values(openapi: Mapping[str, Any], schema: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """Values a scalar field's schema refuses, named by what is wrong with them."""
    branches = _branches(openapi, schema)
    kinds = {b.get("type") for b in branches}
    found: list[tuple[str, Any]] = []
    if any("enum" in b for b in branches):
        found.append(("unknown enum value", "no_such_value"))
    lengths = [int(b["maxLength"]) for b in branches if "maxLength" in b]
    if lengths:
        found.append(("over max_length", "字" * (max(lengths) + 1)))
    if kinds and kinds <= {"integer", "number"}:
        found.append(("wrong type", "not-a-number"))
        highs = [b["maximum"] for b in branches if "maximum" in b]
        if highs:
            found.append(("over maximum", max(highs) + 1))
    elif kinds == {"boolean"}:
        found.append(("wrong type", "maybe"))
    elif any(b.get("format") in ("date", "date-time") for b in branches):
        # Not a number: pydantic reads one as a Unix time (see the report).
        found.append(("wrong type", "not-a-date"))
    elif kinds == {"string"}:
        found.append(("wrong type", 12345))
    return found


def _reason(answer: Any) -> str:
    """The reason a 422 gives: its first error's, or the message of a domain refusal."""
    errors = ((answer or {}).get("details") or {}).get("errors") or [{}]
    return str(errors[0].get("reason") or (answer or {}).get("message") or "")


@pytest.mark.parametrize("service", BUILT)
async def test_malformed_body_fields_are_422_naming_the_field_and_the_reason(
    deployed: Deployment, service: str, hit: Any
) -> None:
    openapi = deployed.apps[service].openapi()
    failures, sent = [], 0
    for op in _ops(deployed, service):
        if not op.has_body:
            continue
        example = example_body(openapi, op)
        for path, schema in scalar_fields(openapi, body_schema(openapi, op), example):
            for what, value in bad_values(openapi, schema):
                response = await hit(op, auth=_as_caller(op), json=with_value(example, path, value))
                sent += 1
                answer = _json(response)
                if response.status_code != 422 or not names_field(answer, path):
                    failures.append(f"{op} {path} {what}: {response.status_code} {answer}")
                elif not _reason(answer):
                    failures.append(f"{op} {path} {what}: 422 without a reason {answer}")
    assert sent > 0
    assert not failures, f"{len(failures)} of {sent}:\n" + "\n".join(failures)


async def _broken_json(
    deployed: Deployment, service: str, hit: Any, *, broken: list[bytes]
) -> list[str]:
    """The body endpoints that do not answer broken JSON with a 422 naming JSON."""
    failures = []
    for op in _ops(deployed, service):
        if not op.has_body:
            continue
        for content in broken:
            json_type = {"Content-Type": "application/json"}
            response = await hit(op, auth=_as_caller(op), content=content, headers_extra=json_type)
            answer = _json(response)
            if response.status_code != 422 or "json" not in _reason(answer).lower():
                failures.append(f"{op} {content!r}: {response.status_code} {answer}")
    return failures


@pytest.mark.parametrize("service", BUILT)
async def test_invalid_json_is_422_with_the_reason(
    deployed: Deployment, service: str, hit: Any
) -> None:
    broken = [b'{"version": 1,', b"[1, 2", b"not json at all", b"   "]
    failures = await _broken_json(deployed, service, hit, broken=broken)
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("service", BUILT)
async def test_a_body_that_is_not_utf8_is_422_with_the_reason(
    deployed: Deployment, service: str, hit: Any
) -> None:
    failures = await _broken_json(deployed, service, hit, broken=[b"\xff\xfe not json"])
    assert not failures, "\n".join(failures)


async def _chunks(total: int, *, size: int = 65_536) -> Any:
    yield b'{"pad": "'
    sent = 0
    while sent < total:
        yield b"x" * min(size, total - sent)
        sent += size
    yield b'"}'


async def _not_too_large(
    deployed: Deployment, op: Operation, hit: Any, *, content: Any
) -> str | None:
    """What the endpoint answered instead of the project's 413, or None."""
    limit = int(deployed.settings[op.service].max_body_bytes)
    json_type = {"Content-Type": "application/json"}
    response = await hit(op, auth=_as_caller(op), content=content, headers_extra=json_type)
    answer = _json(response) or {}
    if (
        response.status_code == 413
        and answer.get("error") == "payload_too_large"
        and answer.get("details", {}).get("max_body_bytes") == limit
    ):
        return None
    return f"{op}: {response.status_code} {answer}"


@pytest.mark.parametrize("service", BUILT)
async def test_bodies_declared_over_the_limit_are_413(
    deployed: Deployment, service: str, hit: Any
) -> None:
    limit = int(deployed.settings[service].max_body_bytes)
    declared = b'{"pad": "' + b"x" * limit + b'"}'
    writes = [op for op in _ops(deployed, service) if op.method in ("POST", "PUT", "PATCH")]
    failures = [await _not_too_large(deployed, op, hit, content=declared) for op in writes]
    assert writes
    assert not any(failures), "\n".join(filter(None, failures))


@pytest.mark.parametrize("service", BUILT)
async def test_bodies_streamed_over_the_limit_are_413(
    deployed: Deployment, service: str, hit: Any
) -> None:
    limit = int(deployed.settings[service].max_body_bytes)
    failures = []
    for op in _ops(deployed, service):
        if op.has_body:  # an endpoint that reads no body never reads past the limit
            failures.append(await _not_too_large(deployed, op, hit, content=_chunks(limit + 1)))
    assert failures
    assert not any(failures), "\n".join(filter(None, failures))


def _bad_parameters(param: Mapping[str, Any]) -> list[tuple[str, str]]:
    schema = param.get("schema", {})
    branches = [b for b in schema.get("anyOf", [schema]) if b.get("type") != "null"]
    found = []
    for branch in branches:
        if "maxLength" in branch:
            found.append(("over max_length", "a" * (int(branch["maxLength"]) + 1)))
        if branch.get("type") == "integer":
            found.append(("wrong type", "not-a-number"))
            if "maximum" in branch:
                found.append(("over maximum", str(branch["maximum"] + 1)))
            if "minimum" in branch:
                found.append(("under minimum", str(branch["minimum"] - 1)))
        if "enum" in branch:
            found.append(("unknown enum value", "no_such_value"))
    return found


@pytest.mark.parametrize("service", BUILT)
async def test_malformed_parameters_are_422_naming_them(
    deployed: Deployment, service: str, hit: Any
) -> None:
    openapi = deployed.apps[service].openapi()
    failures, sent = [], 0
    for op in _ops(deployed, service):
        for param in op.parameters("query") + op.parameters("path"):
            name, where = param["name"], param["in"]
            for what, value in _bad_parameters(param):
                given = (
                    {"params": {name: value}} if where == "query" else {"path_ids": {name: value}}
                )
                response = await hit(
                    op, auth=_as_caller(op), json=example_body(openapi, op), **given
                )
                sent += 1
                answer = _json(response)
                if response.status_code != 422 or not names_field(answer, (name,)):
                    failures.append(f"{op} {where} {name} {what}: {response.status_code} {answer}")
    assert sent > 0
    assert not failures, f"{len(failures)} of {sent}:\n" + "\n".join(failures)
