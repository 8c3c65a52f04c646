"""Where the archive gets what other services own: intake's letter as received, routing's
dossier, and deadlines' clocks and supervision (reminders, answers, deductions).

`CaseSources` is the interface the archiver needs; `HttpCaseSources` asks the three
services over HTTP with a service token minted from the shared secret. Tests give
the archiver a small real HTTP server in their place.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from urllib.parse import quote

import httpx

from shared.auth import Role, TokenCodec

SERVICE_USER = "service:publishing"
TOKEN_TTL = timedelta(hours=1)
# Renewed this long before it expires, so no request carries a token about to lapse.
TOKEN_MARGIN = timedelta(minutes=5)
MAX_CLOCK_PAGES = 20


class SourceUnavailable(Exception):
    """A source did not answer usefully (down, 5xx, refused): try again later."""


class CaseSources(Protocol):
    """What the other services hold of one letter (None: not known there)."""

    async def original(self, letter_id: str) -> dict[str, Any] | None:
        """`GET {intake}/letters/{id}`: the record as received, its sha256, the attachments."""
        ...

    async def dossier(self, letter_id: str) -> dict[str, Any] | None:
        """`GET {routing}/letters/{id}/dossier`."""
        ...

    async def clocks(self, letter_id: str) -> list[dict[str, Any]] | None:
        """Every clock of `GET {deadlines}/letters/{id}/clocks`."""
        ...

    async def supervision(self, letter_id: str) -> dict[str, Any] | None:
        """`GET {deadlines}/letters/{id}/supervision`: reminders with answers, deductions."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...


class HttpCaseSources:
    """The three services over HTTP, as the `publishing` service account."""

    def __init__(
        self,
        *,
        intake_url: str,
        routing_url: str,
        deadlines_url: str,
        codec: TokenCodec,
        timeout_s: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._intake_url = intake_url.rstrip("/")
        self._routing_url = routing_url.rstrip("/")
        self._deadlines_url = deadlines_url.rstrip("/")
        self._codec = codec
        self._http = httpx.AsyncClient(timeout=timeout_s, transport=transport)
        self._token: str | None = None
        self._expires_at = datetime.min.replace(tzinfo=UTC)

    def _authorization(self) -> dict[str, str]:
        now = datetime.now(UTC)
        if self._token is None or self._expires_at - now < TOKEN_MARGIN:
            issued = self._codec.issue(
                user_id=SERVICE_USER, name="publishing", role=Role.service, ttl=TOKEN_TTL, now=now
            )
            self._token, self._expires_at = issued.token, issued.expires_at
        return {"Authorization": f"Bearer {self._token}"}

    async def _get(self, url: str, *, params: dict[str, str | int] | None = None) -> Any:
        try:
            response = await self._http.get(url, params=params, headers=self._authorization())
        except httpx.HTTPError as exc:
            raise SourceUnavailable(f"GET {url}: {type(exc).__name__}: {exc}") from exc
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise SourceUnavailable(f"GET {url}: HTTP {response.status_code} {response.text[:300]}")
        try:
            return response.json()
        except ValueError as exc:
            raise SourceUnavailable(f"GET {url}: the answer is not JSON") from exc

    async def _object(self, url: str, *, what: str) -> dict[str, Any] | None:
        body = await self._get(url)
        if body is not None and not isinstance(body, dict):
            raise SourceUnavailable(f"{what} is not a JSON object")
        return body

    async def original(self, letter_id: str) -> dict[str, Any] | None:
        """Intake's letter: the record as received (`raw_json`, `raw_sha256`), attachments."""
        url = f"{self._intake_url}/letters/{quote(letter_id, safe='')}"
        return await self._object(url, what="intake's letter")

    async def supervision(self, letter_id: str) -> dict[str, Any] | None:
        """Deadlines' reminders of the letter with the answers, and its deduction items."""
        url = f"{self._deadlines_url}/letters/{quote(letter_id, safe='')}/supervision"
        return await self._object(url, what="deadlines' supervision")

    async def dossier(self, letter_id: str) -> dict[str, Any] | None:
        """Routing's dossier: the letter with slip, replies and reviews, and routing's audit."""
        url = f"{self._routing_url}/letters/{quote(letter_id, safe='')}/dossier"
        return await self._object(url, what="routing's dossier")

    async def clocks(self, letter_id: str) -> list[dict[str, Any]] | None:
        """Every clock of the letter (all pages)."""
        url = f"{self._deadlines_url}/letters/{quote(letter_id, safe='')}/clocks"
        items: list[dict[str, Any]] = []
        cursor: str | None = None
        for _ in range(MAX_CLOCK_PAGES):
            params: dict[str, str | int] = {"limit": 200}
            if cursor is not None:
                params["cursor"] = cursor
            page = await self._get(url, params=params)
            if page is None:
                return None
            if not isinstance(page, dict) or not isinstance(page.get("items"), list):
                raise SourceUnavailable("deadlines' clock page has no item list")
            items += page["items"]
            cursor = page.get("next_cursor")
            if not cursor:
                return items
        raise SourceUnavailable(f"letter {letter_id} has more clocks than {MAX_CLOCK_PAGES} pages")

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self._http.aclose()
