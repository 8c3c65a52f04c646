"""The reference HTTP adapter: the platform client protocol over the reference API."""

from __future__ import annotations

import asyncio
import json
import logging
import random
import re
from typing import Any
from urllib.parse import quote

import httpx
import orjson
from pydantic import ValidationError

from shared.platforms.client import (
    PlatformMalformed,
    PlatformRejected,
    PlatformUnavailable,
    UploadConflict,
)
from shared.platforms.config import PlatformConfig
from shared.platforms.models import (
    PlatformLetter,
    PollPage,
    Upload,
    UploadReceipt,
    UploadResult,
)
from shared.platforms.records import PageFormatError, decode_page, decode_record

logger = logging.getLogger(__name__)

MAX_REASON_CHARS = 500
# 429 is the platform asking us to slow down: as transient as a 503.
_RETRYABLE_STATUS = frozenset({429})


def _timeout(config: PlatformConfig) -> httpx.Timeout:
    return httpx.Timeout(
        connect=config.timeout_s, read=config.timeout_s, write=config.timeout_s, pool=None
    )


def _reason(response: httpx.Response) -> str:
    """The platform's own words for a refusal, whatever shape its error body has."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:MAX_REASON_CHARS] or response.reason_phrase
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return str(error["message"])[:MAX_REASON_CHARS]
        for key in ("message", "detail", "error"):
            if key in body:
                detail = body[key]
                text = detail if isinstance(detail, str) else orjson.dumps(detail).decode()
                return text[:MAX_REASON_CHARS]
    return response.text[:MAX_REASON_CHARS]


# Twenty digits in a row: possibly an integer orjson would turn into a float.
_LONG_INTEGER = re.compile(rb"\d{20,}")


class HttpPlatformClient:
    """Talks to one platform over HTTP: timeouts, retries with full-jitter back-off, mapping."""

    def __init__(
        self,
        config: PlatformConfig,
        *,
        http: httpx.AsyncClient | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.platform_id = config.id
        self.config = config
        # A shared client is the caller's to close; one we make is ours.
        self._owns_http = http is None
        self._http = http if http is not None else httpx.AsyncClient(timeout=_timeout(config))
        self._timeout = _timeout(config)
        self._rng = rng if rng is not None else random.Random()  # noqa: S311 - jitter, not secrets
        self._auth = f"Bearer {config.token.get_secret_value()}"

    async def __aenter__(self) -> HttpPlatformClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP client if this adapter made it."""
        if self._owns_http:
            await self._http.aclose()

    async def poll(self, *, cursor: str | None, limit: int) -> PollPage:
        """The next page after `cursor`; bad records come back as MalformedRecord."""
        params: dict[str, str | int] = {"limit": limit}
        if cursor is not None:
            params["after"] = cursor
        response = await self._request("GET", "/letters", params=params)
        body = self._json(response)
        try:
            return decode_page(body, config=self.config)
        except PageFormatError as exc:
            raise PlatformMalformed(str(exc), platform_id=self.platform_id) from exc

    async def fetch(self, external_id: str) -> PlatformLetter:
        """One letter; PlatformMalformed (with the record) if it fails validation."""
        response = await self._request("GET", f"/letters/{quote(external_id, safe='')}")
        decoded = decode_record(self._json(response), config=self.config)
        if isinstance(decoded, PlatformLetter):
            return decoded
        raise PlatformMalformed(decoded.reason, platform_id=self.platform_id, record=decoded)

    async def upload(self, upload: Upload) -> UploadReceipt:
        """Upload once per idempotency key; retries are safe because the key travels along."""
        content = upload.body().model_dump_json().encode()
        try:
            response = await self._request(
                "POST",
                "/uploads",
                content=content,
                headers={
                    "Idempotency-Key": upload.idempotency_key,
                    "Content-Type": "application/json",
                },
            )
        except PlatformRejected as exc:
            if exc.status_code == 409:
                raise UploadConflict(
                    exc.reason, platform_id=self.platform_id, status_code=409
                ) from exc
            raise
        try:
            result = UploadResult.model_validate_json(response.content)
            return UploadReceipt(
                upload_id=result.upload_id,
                duplicate=result.duplicate,
                received_at=result.received_at,
            )
        except ValidationError as exc:
            raise PlatformMalformed(
                f"unreadable upload receipt: {exc.errors()[0]['msg']}",
                platform_id=self.platform_id,
            ) from exc

    def _json(self, response: httpx.Response) -> Any:
        if _LONG_INTEGER.search(response.content) is None:
            try:
                return orjson.loads(response.content)
            except orjson.JSONDecodeError:
                pass
        # orjson refuses some valid JSON: a lone surrogate escape (`\ud800`) in one record
        # failed the whole page, and polling stayed on it. The standard library reads it;
        # the record with it is quarantined with its reason and the rest registered. And
        # orjson reads an integer beyond 64 bits as a float (2**64 + 1 becomes
        # 1.8446744073709552e+19): a numeric id that long lost digits, so two letters could
        # become one. A body with a run of 20 digits is read here, every digit kept.
        try:
            return json.loads(response.content)
        except (ValueError, RecursionError) as exc:
            raise PlatformMalformed(
                f"response is not JSON ({len(response.content)} bytes)",
                platform_id=self.platform_id,
            ) from exc

    def backoff_s(self, attempt: int) -> float:
        """Full jitter: uniform in [0, min(max, base·2^(attempt-1))], so retriers spread out."""
        ceiling = min(self.config.backoff_max_s, self.config.backoff_base_s * 2 ** (attempt - 1))
        return self._rng.uniform(0, ceiling)

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str | int] | None = None,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        url = f"{self.config.base_url}{path}"
        all_headers = {"Authorization": self._auth, "Accept": "application/json"}
        all_headers.update(headers or {})
        attempts = self.config.max_attempts
        last_error = "no attempt made"
        for attempt in range(1, attempts + 1):
            try:
                response = await self._http.request(
                    method,
                    url,
                    params=params,
                    content=content,
                    headers=all_headers,
                    timeout=self._timeout,
                )
            except httpx.TimeoutException as exc:
                last_error = f"timed out ({type(exc).__name__}) after {self.config.timeout_s} s"
            except httpx.TransportError as exc:
                last_error = f"connection failed ({type(exc).__name__}: {exc})"
            else:
                status = response.status_code
                if status < 300:
                    return response
                if status < 500 and status not in _RETRYABLE_STATUS:
                    raise PlatformRejected(
                        _reason(response), platform_id=self.platform_id, status_code=status
                    )
                last_error = f"HTTP {status}: {_reason(response)}"
            if attempt < attempts:
                delay = self.backoff_s(attempt)
                logger.warning(
                    "platform request failed, retrying",
                    extra={
                        "platform_id": self.platform_id,
                        "method": method,
                        "path": path,
                        "attempt": attempt,
                        "error": last_error,
                        "retry_in_s": round(delay, 3),
                    },
                )
                await asyncio.sleep(delay)
        raise PlatformUnavailable(
            f"{method} {path} failed after {attempts} attempts: {last_error}",
            platform_id=self.platform_id,
            attempts=attempts,
        )
