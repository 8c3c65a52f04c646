"""What every service's FastAPI app has: errors, limits, health, metrics, request logs."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from http import HTTPStatus
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from pymongo.errors import ConnectionFailure
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

log = get_logger(__name__)

ReadinessCheck = Callable[[], Awaitable[bool]]

HTTP_REQUESTS = Counter(
    "mailbox_http_requests_total", "HTTP requests", ["service", "method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "mailbox_http_request_seconds", "HTTP request latency", ["service", "method", "route"]
)


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


def _replay(first: Message, *, then: Receive) -> Receive:
    """A `receive` that gives the message already read, then the server's own."""
    pending = [first]

    async def receive() -> Message:
        return pending.pop() if pending else await then()

    return receive


def _too_large(limit: int) -> JSONResponse:
    return JSONResponse(
        {
            "error": "payload_too_large",
            "message": f"request body over {limit} bytes",
            "details": {"max_body_bytes": limit},
        },
        status_code=413,
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
    return JSONResponse(
        {
            "error": "validation_error",
            "message": f"{first['field'] or 'request'}: {first['reason']}",
            "details": {"errors": details},
        },
        status_code=422,
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
    app = FastAPI(
        title=title,
        description=description,
        version=version,
        lifespan=lifespan,
        openapi_tags=list(openapi_tags) or None,
    )
    app.state.readiness_checks = {}
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=max_body_bytes)

    @app.exception_handler(AppError)
    async def app_error(_: Request, exc: AppError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
        return JSONResponse(
            {"error": exc.code, "message": exc.message, "details": exc.details},
            status_code=exc.status_code,
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
        return JSONResponse(
            {"error": _http_error_code(exc.status_code), "message": exc.detail, "details": {}},
            status_code=exc.status_code,
            headers=exc.headers,
        )

    @app.exception_handler(ConnectionFailure)
    async def database_unavailable(_: Request, exc: ConnectionFailure) -> JSONResponse:
        # MongoDB did not answer (restarting, failing over): a 503 the caller can act on,
        # not a 500 with a traceback. A write whose answer was lost may have been applied,
        # so the caller reads again before retrying (the version check catches a repeat).
        log.warning("database unavailable", error=str(exc)[:300])
        return JSONResponse(
            {
                "error": Unavailable.code,
                "message": "the database did not answer; read again before retrying",
                "details": {},
            },
            status_code=Unavailable.status_code,
            headers={"Retry-After": "1"},
        )

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

    @app.get("/readyz", tags=["operations"], summary="Readiness: the servers it needs answer.")
    async def readyz() -> JSONResponse:
        """Readiness: MongoDB and RabbitMQ (and Redis where used) answer."""
        checks: dict[str, ReadinessCheck] = app.state.readiness_checks
        results = {name: await check() for name, check in checks.items()}
        ok = bool(results) and all(results.values())
        return JSONResponse(
            {"status": "ready" if ok else "not_ready", "checks": results},
            status_code=200 if ok else 503,
        )

    @app.get("/metrics", tags=["operations"], summary="Prometheus metrics.")
    async def metrics() -> Response:
        """Prometheus metrics in the text format."""
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app
