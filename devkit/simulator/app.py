"""The platform simulator: the reference platform API for the demo, tests and benchmarks.

It serves the three platforms of Art. 2 under `/p/{platform_id}/…`, each with its own
field names and token, from letters loaded from a JSONL file or generated, and can
inject faults (5xx, timeouts, slow answers, malformed records, duplicates, a cursor
that goes backwards). `/_admin/…` lets tests add letters, set faults and see every
upload received. Documented in docs/platform-api.md.
"""

from __future__ import annotations

import asyncio
import hmac
import json
from typing import Annotated, Any

import orjson
from fastapi import Body, FastAPI, Header, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from devkit.simulator.faults import Faults
from devkit.simulator.letters import SimulatorLetter
from devkit.simulator.state import (
    PlatformFeed,
    SimulatorError,
    SimulatorState,
)
from shared.platforms.models import MAX_IDEMPOTENCY_KEY_CHARS, UploadBody

MAX_PAGE_SIZE = 500
_STALL_POLL_S = 0.05


class Unauthorized(SimulatorError):
    status_code = 401
    code = "unauthorized"


class InjectedError(SimulatorError):
    status_code = 503
    code = "injected_error"


class AddLetters(BaseModel):
    """Admin: letters to append to one platform (or raw records, served as given)."""

    model_config = ConfigDict(extra="forbid")

    platform_id: str
    letters: list[SimulatorLetter] = Field(default_factory=list, max_length=100_000)
    raw: list[Any] = Field(default_factory=list, max_length=10_000)


class Generate(BaseModel):
    """Admin: generate synthetic letters."""

    model_config = ConfigDict(extra="forbid")

    n: int = Field(ge=1, le=100_000)
    seed: int = 0
    platform_id: str | None = None


class SetFaults(BaseModel):
    """Admin: faults for one platform, or all when `platform_id` is absent."""

    model_config = ConfigDict(extra="forbid")

    platform_id: str | None = None
    faults: Faults


def _json(body: Any, *, status_code: int = 200) -> Response:
    # orjson: pages of a few hundred records are the benchmark's hot path.
    try:
        content = orjson.dumps(body)
    except orjson.JSONEncodeError:
        # A raw record orjson cannot write (a lone surrogate, an integer beyond 64 bits):
        # served as a platform would, escaped, for the intake to cope with.
        content = json.dumps(body).encode()
    return Response(content, status_code=status_code, media_type="application/json")


def _error(status_code: int, code: str, message: str) -> Response:
    return _json({"error": {"code": code, "message": message}}, status_code=status_code)


async def _stall(request: Request, seconds: float) -> None:
    """Hold the request as a hung platform does, until the client gives up or time is up."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    # Polling for the hang-up keeps a stalled handler from outliving its client, so a
    # server shutting down (tests, benchmarks) does not wait out every stall.
    while (remaining := deadline - loop.time()) > 0:
        if await request.is_disconnected():
            return
        await asyncio.sleep(min(_STALL_POLL_S, remaining))


def _check_token(authorization: str | None, expected: str) -> None:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.encode(), expected.encode()):
        raise Unauthorized("missing or wrong bearer token")


def create_simulator_app(state: SimulatorState | None = None) -> FastAPI:
    """The simulator as an ASGI app (run it with uvicorn, or in-process in tests)."""
    sim = state or SimulatorState()
    app = FastAPI(
        title="Platform simulator (reference platform API)",
        version="1.0.0",
        description="Stands in for the external mailbox platforms of Art. 2.",
    )
    app.state.simulator = sim

    @app.exception_handler(SimulatorError)
    async def simulator_error(_: Request, exc: SimulatorError) -> Response:
        return _error(exc.status_code, exc.code, exc.message)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> Response:
        problems = [
            f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
            for error in exc.errors()
        ]
        return _error(422, "invalid", "; ".join(problems) or "invalid request")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> Response:
        return _error(exc.status_code, "http_error", str(exc.detail))

    async def platform(pid: str, authorization: str | None) -> PlatformFeed:
        feed = sim.feed(pid)
        _check_token(authorization, feed.config.token.get_secret_value())
        feed.stats.requests += 1
        return feed

    async def request_faults(
        request: Request, feed: PlatformFeed, *, stall_before: bool = True
    ) -> str | None:
        fault = feed.draw_request_fault()
        if feed.faults.slow_ms:
            await asyncio.sleep(feed.faults.slow_ms / 1000)
        if fault == "error":
            raise InjectedError("injected server error")
        if fault == "timeout" and stall_before:
            await _stall(request, feed.faults.stall_s)
        return fault

    @app.get("/healthz", tags=["operations"])
    async def healthz() -> dict[str, str]:
        """Liveness."""
        return {"status": "ok"}

    @app.get("/p/{pid}/letters", tags=["platform"])
    async def letters(
        request: Request,
        pid: str,
        after: Annotated[str | None, Query(max_length=40)] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 100,
        authorization: Annotated[str | None, Header()] = None,
    ) -> Response:
        """New letters after a cursor, in the platform's own field names."""
        feed = await platform(pid, authorization)
        await request_faults(request, feed)
        return _json(feed.page(after=after, limit=limit))

    @app.get("/p/{pid}/letters/{external_id}", tags=["platform"])
    async def letter(
        request: Request,
        pid: str,
        external_id: str,
        authorization: Annotated[str | None, Header()] = None,
    ) -> Response:
        """One letter by the platform's id."""
        feed = await platform(pid, authorization)
        await request_faults(request, feed)
        return _json(feed.record(external_id))

    @app.post("/p/{pid}/uploads", tags=["platform"])
    async def upload(
        request: Request,
        pid: str,
        body: UploadBody,
        idempotency_key: Annotated[
            str, Header(alias="Idempotency-Key", min_length=1, max_length=MAX_IDEMPOTENCY_KEY_CHARS)
        ],
        authorization: Annotated[str | None, Header()] = None,
    ) -> Response:
        """Accept a reply or notice once per idempotency key (201; a repeat answers 200)."""
        feed = await platform(pid, authorization)
        # A timeout is injected AFTER the upload is stored: the platform has it but the
        # answer is lost, the case an uploader must survive without sending it twice.
        fault = await request_faults(request, feed, stall_before=False)
        stored, duplicate = feed.upload(key=idempotency_key, body=body, now=sim.clock.now())
        if fault == "timeout":
            await _stall(request, feed.faults.stall_s)
        return _json(
            {
                "upload_id": stored.upload_id,
                "duplicate": duplicate,
                "received_at": stored.received_at.isoformat(),
            },
            status_code=200 if duplicate else 201,
        )

    def admin(authorization: str | None) -> None:
        _check_token(authorization, sim.admin_token)

    @app.post("/_admin/letters", tags=["admin"])
    async def add_letters(
        body: AddLetters, authorization: Annotated[str | None, Header()] = None
    ) -> dict[str, Any]:
        """Append letters (and raw records) to a platform."""
        admin(authorization)
        ids = sim.add_letters(body.platform_id, body.letters)
        raw = sim.add_raw(body.platform_id, body.raw) if body.raw else 0
        return {"added": ids, "raw_added": raw}

    @app.post("/_admin/generate", tags=["admin"])
    async def generate(
        body: Generate, authorization: Annotated[str | None, Header()] = None
    ) -> dict[str, Any]:
        """Generate synthetic letters (deterministic by seed)."""
        admin(authorization)
        added = sim.generate(body.n, seed=body.seed, platform_id=body.platform_id)
        return {"added": {pid: len(ids) for pid, ids in added.items()}, "ids": added}

    @app.put("/_admin/faults", tags=["admin"])
    async def set_faults(
        body: SetFaults, authorization: Annotated[str | None, Header()] = None
    ) -> dict[str, Any]:
        """Set the faults of one platform, or of all."""
        admin(authorization)
        feeds = [sim.feed(body.platform_id)] if body.platform_id else list(sim.feeds.values())
        for feed in feeds:
            feed.set_faults(body.faults)
        return {"platforms": [f.config.id for f in feeds], "faults": body.faults.model_dump()}

    @app.get("/_admin/uploads", tags=["admin"])
    async def uploads(
        platform_id: str | None = None, authorization: Annotated[str | None, Header()] = None
    ) -> dict[str, Any]:
        """Every upload received, with counts of repeated and conflicting attempts."""
        admin(authorization)
        return sim.uploads_json(platform_id)

    @app.get("/_admin/stats", tags=["admin"])
    async def stats(authorization: Annotated[str | None, Header()] = None) -> dict[str, Any]:
        """Counters of every platform."""
        admin(authorization)
        return sim.stats_json()

    @app.post("/_admin/reset", tags=["admin"])
    async def reset(
        authorization: Annotated[str | None, Header()] = None,
        _: Annotated[dict[str, Any] | None, Body()] = None,
    ) -> dict[str, str]:
        """Forget all letters, uploads, faults and counters."""
        admin(authorization)
        sim.reset()
        return {"status": "reset"}

    return app
