"""`mailbox directory import FILE` and `mailbox directory export`: the directory over HTTP."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

directory_app = typer.Typer(
    help="The routing service's directory: units, external recipients, the city office.",
    no_args_is_help=True,
)

Url = Annotated[str, typer.Option(help="The routing service.", envvar="MAILBOX_ROUTING_URL")]
Token = Annotated[
    str | None,
    typer.Option(
        help="Bearer token (admin to import).", envvar="MAILBOX_TOKEN", show_default=False
    ),
]


def _call(
    method: str,
    url: str,
    *,
    token: str | None,
    content: bytes | None = None,
    params: dict[str, str] | None = None,
) -> bytes:
    """One request to the routing service; its error body on stderr and exit 1 on failure."""
    import httpx

    if not token:
        raise typer.BadParameter("give --token or set MAILBOX_TOKEN")
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    try:
        with httpx.Client(timeout=120, trust_env=False) as client:
            response = client.request(method, url, headers=headers, content=content, params=params)
    except httpx.HTTPError as error:
        typer.echo(f"the routing service did not answer at {url}: {error}", err=True)
        raise typer.Exit(1) from None
    if not response.is_success:
        typer.echo(f"{response.status_code}: {response.text}", err=True)
        raise typer.Exit(1)
    return response.content


@directory_app.command("import")
def import_command(
    file: Annotated[
        Path,
        typer.Argument(
            exists=True, dir_okay=False, help="JSON in the format of data/sample_directory.json."
        ),
    ],
    url: Url = "http://127.0.0.1:8002",
    token: Token = None,
    deactivate_missing: Annotated[
        bool, typer.Option(help="Also deactivate active entries the file does not list.")
    ] = False,
) -> None:
    """Check a directory file here, then load it: entries are created or updated; counts printed."""
    from pydantic import ValidationError

    from services.routing.directory_data import Directory

    raw = file.read_bytes()
    try:
        Directory.model_validate_json(raw)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "file"
        raise typer.BadParameter(f"{where}: {first['msg']}", param_hint="FILE") from None
    body = _call(
        "POST",
        f"{url.rstrip('/')}/admin/directory/import",
        token=token,
        content=raw,
        params={"deactivate_missing": str(deactivate_missing).lower()},
    )
    sys.stdout.buffer.write(body + b"\n")
    sys.stdout.buffer.flush()


@directory_app.command("export")
def export_command(url: Url = "http://127.0.0.1:8002", token: Token = None) -> None:
    """Print the active directory as JSON (the import format)."""
    body = _call("GET", f"{url.rstrip('/')}/admin/directory", token=token)
    sys.stdout.buffer.write(body + b"\n")
    sys.stdout.buffer.flush()


def register(app: typer.Typer, *, bench: typer.Typer) -> None:
    """Add the `directory` group."""
    app.add_typer(directory_app, name="directory")
