"""The HTTP side of `mailbox report`: fetch a report (and chart) from the deadlines service."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import orjson

TIMEOUT_S = 30.0


@dataclass(frozen=True)
class ReportRequest:
    """Which report, in which format."""

    month: str | None
    year: int | None
    output_format: str = "json"

    @property
    def path(self) -> str:
        """The API path of the report."""
        return "/reports/monthly" if self.month is not None else "/reports/annual"

    @property
    def params(self) -> dict[str, str]:
        """The query of the report."""
        if self.month is not None:
            return {"month": self.month}
        return {"year": str(self.year)}


def _check(response: httpx.Response) -> bytes:
    if response.status_code != 200:
        try:
            message = response.json().get("message", response.text)
        except ValueError:
            message = response.text
        raise RuntimeError(f"{response.request.url.path}: {response.status_code} {message}")
    return response.content


def fetch_report(
    url: str,
    *,
    token: str,
    request: ReportRequest,
    chart: bool = False,
    transport: httpx.BaseTransport | None = None,
) -> tuple[bytes, bytes | None]:
    """The report (pretty JSON or CSV) and, if asked, the SVG chart; RuntimeError on failure."""
    headers = {"Authorization": f"Bearer {token}"}
    try:
        with httpx.Client(
            base_url=url, headers=headers, timeout=TIMEOUT_S, transport=transport
        ) as client:
            params = {**request.params, "format": request.output_format}
            body = _check(client.get(request.path, params=params))
            svg = None
            if chart:
                svg = _check(client.get(f"{request.path}/chart.svg", params=request.params))
    except httpx.HTTPError as error:
        raise RuntimeError(f"cannot reach the deadlines service at {url}: {error}") from error
    if request.output_format == "json":
        body = orjson.dumps(orjson.loads(body), option=orjson.OPT_INDENT_2)
    return body, svg
