"""`mailbox archive export` and `mailbox archive verify`: the package for the archive room.

The export talks to the publishing service's API (`--url`, `--token` of an office
role), not to its database: the service checks the caller's role and writes who
exported which period into the audit trail, which a direct database read would skip.
The downloaded package is then verified against its manifest before it is kept.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from datetime import date
from pathlib import Path
from typing import Annotated

import httpx
import orjson
import typer

from services.publishing.archive_export import verify_package

TIMEOUT_S = 300.0
CHUNK_BYTES = 256 * 1024

archive_app = typer.Typer(help="The archive (存档, Art. 16): export and verify packages.")


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"'{value}' is not a day like 2026-10-01") from exc


def download_package(
    url: str,
    *,
    token: str,
    period_from: date,
    period_to: date,
    out: Path,
    transport: httpx.BaseTransport | None = None,
) -> int:
    """Stream `GET /archive/export` into `out` (written whole or not at all); its size."""
    params = {"from": period_from.isoformat(), "to": period_to.isoformat()}
    headers = {"Authorization": f"Bearer {token}"}
    out.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(prefix=".export-", suffix=".zip", dir=out.parent)
    size = 0
    try:
        with (
            os.fdopen(handle, "wb") as sink,
            httpx.Client(
                base_url=url, headers=headers, timeout=TIMEOUT_S, transport=transport
            ) as client,
            client.stream("GET", "/archive/export", params=params) as response,
        ):
            if response.status_code != 200:
                body = response.read()
                try:
                    message = orjson.loads(body).get("message", body.decode())
                except (orjson.JSONDecodeError, AttributeError):
                    message = body.decode(errors="replace")
                raise RuntimeError(f"export refused: HTTP {response.status_code} {message}")
            for chunk in response.iter_bytes(CHUNK_BYTES):
                sink.write(chunk)
                size += len(chunk)
        os.replace(partial, out)
    except httpx.HTTPError as exc:
        raise RuntimeError(f"cannot reach the publishing service at {url}: {exc}") from exc
    finally:
        if os.path.exists(partial):
            os.unlink(partial)
    return size


def _summary(path: Path) -> dict[str, object]:
    import zipfile

    with zipfile.ZipFile(path) as archive:
        manifest_name = next(n for n in archive.namelist() if n.endswith("/manifest.json"))
        manifest = orjson.loads(archive.read(manifest_name))
    return {
        "file": str(path),
        "bytes": path.stat().st_size,
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "period": manifest["period"],
        "records": len(manifest["records"]),
        "files": len(manifest["files"]) + 1,
    }


@archive_app.command("export")
def export_command(
    out: Annotated[Path, typer.Argument(help="Where to write the zip.")],
    period_from: Annotated[
        str, typer.Option("--from", help="First day, e.g. 2026-10-01 (Asia/Shanghai).")
    ],
    period_to: Annotated[str, typer.Option("--to", help="Last day, inclusive.")],
    url: Annotated[
        str, typer.Option(help="The publishing service.", envvar="MAILBOX_PUBLISHING_URL")
    ] = "http://127.0.0.1:8004",
    token: Annotated[
        str | None,
        typer.Option(
            help="Bearer token of an office role.", envvar="MAILBOX_TOKEN", show_default=False
        ),
    ] = None,
) -> None:
    """Download a period's archive package (JSON + HTML per letter, manifest), and verify it."""
    if not token:
        raise typer.BadParameter("give --token or set MAILBOX_TOKEN")
    first, last = _day(period_from), _day(period_to)
    try:
        download_package(url, token=token, period_from=first, period_to=last, out=out)
    except RuntimeError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc
    problems = verify_package(str(out))
    if problems:
        typer.echo("\n".join(problems), err=True)
        raise typer.Exit(2)
    typer.echo(orjson.dumps(_summary(out), option=orjson.OPT_INDENT_2).decode())


@archive_app.command("verify")
def verify_command(
    package: Annotated[Path, typer.Argument(help="A package made by `archive export`.")],
) -> None:
    """Check every file of a package against its manifest's sha256 (exit 2 on a mismatch)."""
    if not package.is_file():
        raise typer.BadParameter(f"{package} is not a file")
    problems = verify_package(str(package))
    if problems:
        typer.echo("\n".join(problems), err=True)
        raise typer.Exit(2)
    typer.echo(orjson.dumps({**_summary(package), "verified": True}).decode())


def register(app: typer.Typer, *, bench: typer.Typer) -> None:
    """Add the `archive` group (no benchmark of its own)."""
    del bench
    app.add_typer(archive_app, name="archive")
