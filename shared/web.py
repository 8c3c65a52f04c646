"""What every service's FastAPI app has: errors, limits, health, metrics, request logs.

The OpenAPI it generates documents those errors as they are answered: FastAPI's own
`{"detail": [...]}` 422 is replaced with `ErrorBody`, and 401, 413 and 503 are listed
where they can happen (see `ServiceApp.openapi`).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from http import HTTPStatus
from typing import Any, Literal

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from pydantic import BaseModel, ConfigDict, Field
from pymongo.errors import ConnectionFailure, ExecutionTimeout, WTimeoutError
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.errors import (
    AppError,
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    PayloadTooLarge,
    Unauthorized,
    Unavailable,
)
from shared.ids import new_id
from shared.logging import get_logger
from shared.validation import body_problems, query_problems

log = get_logger(__name__)

ReadinessCheck = Callable[[], Awaitable[bool]]
# Each check bounds its own round trip (`readiness_timeout_s`); a check that has not answered
# by this time anyway counts as failed: a hung server makes /readyz answer 503, not hang.
READINESS_BACKSTOP_S = 5.0

HTTP_REQUESTS = Counter(
    "mailbox_http_requests_total", "HTTP requests", ["service", "method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "mailbox_http_request_seconds", "HTTP request latency", ["service", "method", "route"]
)


class ErrorBody(BaseModel):
    """Every error: a stable code, a message for people, details for programs."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "error": "validation_error",
                    "message": "limit: Input should be less than or equal to 200",
                    "details": {
                        "errors": [
                            {
                                "field": "limit",
                                "in": "query",
                                "reason": "Input should be less than or equal to 200",
                            }
                        ]
                    },
                }
            ]
        }
    )

    error: str = Field(description="stable code: validation_error, not_found, unavailable, …")
    message: str
    details: dict[str, Any] = Field(
        description="for programs; a validation_error lists `errors` as {field, in, reason}"
    )


def error_doc(description: str) -> dict[str, Any]:
    """An OpenAPI response entry (FastAPI `responses=`) with the common error body."""
    return {"model": ErrorBody, "description": description}


class Readiness(BaseModel):
    """Whether the servers the service needs answer, one check each."""

    status: Literal["ready", "not_ready"]
    checks: dict[str, bool]


async def _within_backstop(check: ReadinessCheck) -> bool:
    try:
        return await asyncio.wait_for(check(), READINESS_BACKSTOP_S)
    except TimeoutError:
        return False


def _error_response(
    status_code: int,
    *,
    code: str,
    message: str,
    details: dict[str, Any],
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body = ErrorBody(error=code, message=message, details=details)
    return JSONResponse(body.model_dump(), status_code=status_code, headers=headers)


class BodyLimitMiddleware:
    """Answers 413 for a body over the limit, declared or streamed.

    A body without a declared length is read here, up to the limit, before the app runs:
    an error raised from `receive` inside the app would reach FastAPI's body parsing,
    which turns every exception into its own 400.
    """

    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_body_bytes
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                await _too_large(limit)(scope, receive, send)
                return
        chunks: list[bytes] = []
        received = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away: the app sees it
                await self.app(scope, _replay(message, then=receive), send)
                return
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > limit:
                await _too_large(limit)(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body: Message = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        await self.app(scope, _replay(body, then=receive), send)


class InputScreenMiddleware:
    """Answers 422, naming the field, for a NUL character in a query parameter or a JSON
    string, and for a JSON integer too long to convert (see `shared.validation`).

    It runs inside `BodyLimitMiddleware`, which hands the whole body over in one message.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        problems = query_problems(scope.get("query_string", b""))
        message = await receive()
        content_type = dict(scope.get("headers", [])).get(b"content-type", b"")
        # FastAPI reads a body without a content type as JSON too.
        if not content_type or b"json" in content_type.split(b";")[0].lower():
            problems += body_problems(message.get("body", b""))
        if problems:
            await _validation_response(problems)(scope, receive, send)
            return
        await self.app(scope, _replay(message, then=receive), send)


def _replay(first: Message, *, then: Receive) -> Receive:
    """A `receive` that gives the message already read, then the server's own."""
    pending = [first]

    async def receive() -> Message:
        return pending.pop() if pending else await then()

    return receive


def _too_large(limit: int) -> JSONResponse:
    return _error_response(
        PayloadTooLarge.status_code,
        code=PayloadTooLarge.code,
        message=f"request body over {limit} bytes",
        details={"max_body_bytes": limit},
    )


# The error codes of the project's own family, for the HTTP errors Starlette and FastAPI raise
# themselves (an unknown path, a method the route does not take).
_FAMILY = (Unauthorized, Forbidden, NotFound, Conflict, PayloadTooLarge, Invalid, Unavailable)
_CODES = {error.status_code: error.code for error in _FAMILY}
# What FastAPI's body parsing may raise besides a JSONDecodeError (which it reports as a
# validation error itself); it answers each with a bare 400 "error parsing the body".
_UNREADABLE_JSON = {
    UnicodeDecodeError: "invalid JSON: the body is not UTF-8 text",
    RecursionError: "invalid JSON: nested too deeply",
}


def _http_error_code(status_code: int) -> str:
    if status_code in _CODES:
        return _CODES[status_code]
    try:
        return HTTPStatus(status_code).phrase.lower().replace(" ", "_").replace("-", "_")
    except ValueError:
        return "http_error"


def _unreadable_body_reason(cause: BaseException) -> str:
    for kind, reason in _UNREADABLE_JSON.items():
        if isinstance(cause, kind):
            return reason
    return f"invalid JSON: {type(cause).__name__}"


def _validation_response(details: list[dict[str, Any]]) -> JSONResponse:
    first = details[0] if details else {"field": "", "reason": "invalid"}
    return _error_response(
        422,
        code="validation_error",
        message=f"{first['field'] or 'request'}: {first['reason']}",
        details={"errors": details},
    )


def _validation_details(exc: RequestValidationError) -> list[dict[str, Any]]:
    details = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        details.append(
            {
                "field": ".".join(loc[1:] if len(loc) > 1 else loc),
                "in": loc[0] if loc else "",
                "reason": err.get("msg", "invalid"),
            }
        )
    return details


_SCHEMAS = "#/components/schemas/"
_FASTAPI_422 = ("HTTPValidationError", "ValidationError")  # the second is the first's item
_METHODS = frozenset({"get", "put", "post", "delete", "patch", "options", "head", "trace"})
# The factory's own routes that reach no server, so never answer 503 (/readyz documents its
# own 503, with the readiness body).
_NO_SERVER = frozenset({"/healthz", "/metrics"})
_VALIDATION = (
    "validation_error: a parameter or the body is invalid; `details.errors` names each field,"
    " where it is (path, query, body) and the reason"
)


def _error_response_doc(description: str, **headers: str) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": _SCHEMAS + "ErrorBody"}}},
    }
    if headers:
        doc["headers"] = {
            name.replace("_", "-"): {"description": text, "schema": {"type": "string"}}
            for name, text in headers.items()
        }
    return doc


def _takes_a_token(op: dict[str, Any], *, bearer: set[str]) -> bool:
    # FastAPI lists a security requirement on every operation whose dependencies include
    # the HTTPBearer of shared.auth, whose only user, get_principal, answers 401 without a
    # valid token.
    return any(name in bearer for requirement in op.get("security", []) for name in requirement)


def _document_errors(spec: dict[str, Any], *, max_body_bytes: int) -> None:
    """Rewrites FastAPI's OpenAPI (in place) to document the errors the app answers.

    The handlers above answer every error as `ErrorBody`: FastAPI's own 422 schema
    (`{"detail": [...]}`) is replaced, error responses a service listed without a schema get
    it, and 401 (a token is required), 413 (a body is taken) and 503 (a server did not
    answer) are added where missing. Descriptions a service gave are kept.
    """
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    # A service's own ErrorBody (the same fields, its own example) is kept.
    schemas.setdefault("ErrorBody", ErrorBody.model_json_schema(ref_template=_SCHEMAS + "{model}"))
    bearer = {
        name
        for name, scheme in spec["components"].get("securitySchemes", {}).items()
        if scheme.get("type") == "http" and str(scheme.get("scheme", "")).lower() == "bearer"
    }
    for path, item in spec.get("paths", {}).items():
        for method, op in item.items():
            if method not in _METHODS:
                continue
            responses: dict[str, Any] = op.setdefault("responses", {})
            if _takes_a_token(op, bearer=bearer):
                responses.setdefault(
                    "401",
                    _error_response_doc(
                        "unauthorized: no valid bearer token (missing, expired or revoked)",
                        WWW_Authenticate="Bearer",
                    ),
                )
            if "requestBody" in op:
                responses.setdefault(
                    "413",
                    _error_response_doc(
                        f"payload_too_large: the body is over {max_body_bytes} bytes"
                    ),
                )
            if path not in _NO_SERVER:
                responses.setdefault(
                    "503",
                    _error_response_doc(
                        "unavailable: a server it needs (the database; the broker for"
                        " dead letters) did not answer; read again before retrying",
                        Retry_After="seconds to wait, when the database did not answer",
                    ),
                )
            for status, response in responses.items():
                if status.startswith(("4", "5")):
                    _fix_error_schema(status, response)
    text = json.dumps(spec)
    for name in _FASTAPI_422:  # dropped once nothing refers to them any more
        if name in schemas and f'"{_SCHEMAS}{name}"' not in text:
            del schemas[name]
            text = json.dumps(spec)


def _fix_error_schema(status: str, response: dict[str, Any]) -> None:
    """An error response with the schema the handlers answer, its description kept."""
    content: dict[str, Any] = response.get("content", {})
    models = [media["schema"] for media in content.values() if "$ref" in media.get("schema", {})]
    if content and not models:
        return  # a body the service described in its own words
    schema = models[0] if models else {"$ref": _SCHEMAS + "ErrorBody"}
    if schema["$ref"] == _SCHEMAS + _FASTAPI_422[0]:
        schema = {"$ref": _SCHEMAS + "ErrorBody"}
        if status == "422" and response.get("description") == "Validation Error":
            response["description"] = _VALIDATION  # FastAPI's default, not a service's
    # The handlers answer every error in JSON, but FastAPI files a route's error models under
    # the route's own media type (text/html for a page).
    response["content"] = {"application/json": {"schema": schema}}


class ServiceApp(FastAPI):
    """A FastAPI app whose OpenAPI documents the errors as the app answers them."""

    max_body_bytes = 1_048_576
    _documented: dict[str, Any] | None = None

    def openapi(self) -> dict[str, Any]:
        """FastAPI's OpenAPI, generated once per set of routes, with the errors documented."""
        spec = super().openapi()
        if spec is not self._documented:
            _document_errors(spec, max_body_bytes=self.max_body_bytes)
            self._documented = spec
        return spec


def create_service_app(
    *,
    service: str,
    title: str,
    description: str,
    version: str,
    lifespan: Any,
    max_body_bytes: int = 1_048_576,
    openapi_tags: Sequence[dict[str, str]] = (),
) -> FastAPI:
    """A FastAPI app with the project's error format, limits, health and metrics."""
    app = ServiceApp(
        title=title,
        description=description,
        version=version,
        lifespan=lifespan,
        openapi_tags=list(openapi_tags) or None,
    )
    app.max_body_bytes = max_body_bytes
    app.state.readiness_checks = {}
    app.add_middleware(InputScreenMiddleware)  # inside the next: it sees the whole body
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=max_body_bytes)

    @app.exception_handler(AppError)
    async def app_error(_: Request, exc: AppError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
        return _error_response(
            exc.status_code,
            code=exc.code,
            message=exc.message,
            details=exc.details,
            headers=headers,
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        return _validation_response(_validation_details(exc))

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, exc: HTTPException) -> JSONResponse:
        if exc.status_code == 400 and exc.__cause__ is not None:
            # FastAPI's body parsing failed on something other than JSON syntax.
            reason = _unreadable_body_reason(exc.__cause__)
            return _validation_response([{"field": "", "in": "body", "reason": reason}])
        return _error_response(
            exc.status_code,
            code=_http_error_code(exc.status_code),
            message=str(exc.detail),
            details={},
            headers=exc.headers,
        )

    @app.exception_handler(ConnectionFailure)
    async def database_unavailable(_: Request, exc: Exception) -> JSONResponse:
        # MongoDB did not answer (restarting, failing over): a 503 the caller can act on,
        # not a 500 with a traceback. A write whose answer was lost may have been applied,
        # so the caller reads again before retrying (the version check catches a repeat).
        log.warning("database unavailable", error=str(exc)[:300])
        return _error_response(
            Unavailable.status_code,
            code=Unavailable.code,
            message="the database did not answer; read again before retrying",
            details={},
            headers={"Retry-After": "1"},
        )

    # The server's own time limits (maxTimeMS, a write concern's wtimeout) are timeouts too,
    # though PyMongo raises them as operation failures.
    app.add_exception_handler(ExecutionTimeout, database_unavailable)
    app.add_exception_handler(WTimeoutError, database_unavailable)

    @app.middleware("http")
    async def observe(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        request_id = request.headers.get("x-request-id") or new_id("req")
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        try:
            response = await call_next(request)
        finally:
            structlog.contextvars.unbind_contextvars("request_id")
        route = request.scope.get("route")
        path = getattr(route, "path", "unmatched")
        HTTP_REQUESTS.labels(service, request.method, path, str(response.status_code)).inc()
        HTTP_LATENCY.labels(service, request.method, path).observe(time.perf_counter() - started)
        response.headers["x-request-id"] = request_id
        return response

    @app.get("/healthz", tags=["operations"], summary="Liveness: the process answers.")
    async def healthz() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok", "service": service}

    @app.get(
        "/readyz",
        tags=["operations"],
        summary="Readiness: the servers it needs answer.",
        responses={
            200: {"model": Readiness, "description": "ready: every check answered"},
            503: {"model": Readiness, "description": "not_ready: a check failed, or none yet"},
        },
    )
    async def readyz() -> JSONResponse:
        """Readiness: MongoDB and RabbitMQ (and Redis where used) answer."""
        checks: dict[str, ReadinessCheck] = app.state.readiness_checks
        answers = await asyncio.gather(*(_within_backstop(check) for check in checks.values()))
        results = dict(zip(checks, answers, strict=True))
        ok = bool(results) and all(results.values())
        readiness = Readiness(status="ready" if ok else "not_ready", checks=results)
        return JSONResponse(readiness.model_dump(), status_code=200 if ok else 503)

    @app.get(
        "/metrics",
        tags=["operations"],
        summary="Prometheus metrics.",
        response_class=PlainTextResponse,  # documented as the text it is, not as JSON
    )
    async def metrics() -> Response:
        """Prometheus metrics in the text format."""
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app
