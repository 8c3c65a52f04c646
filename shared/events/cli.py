"""`mailbox schemas asyncapi`: print or write the event catalogue."""

from __future__ import annotations

from pathlib import Path

import orjson
import typer

DOC_PATH = Path(__file__).resolve().parents[2] / "docs" / "events.asyncapi.json"

schemas_app = typer.Typer(help="Schemas of the events between the services.", no_args_is_help=True)


def render() -> bytes:
    """The AsyncAPI document as stable, indented JSON."""
    from shared.events.asyncapi import build_asyncapi

    return orjson.dumps(build_asyncapi(), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"


@schemas_app.command()
def asyncapi(
    write: bool = typer.Option(False, "--write", help=f"write {DOC_PATH.name} in docs/"),
) -> None:
    """Print the AsyncAPI 3.0 document of every event (or write it to docs/)."""
    document = render()
    if write:
        DOC_PATH.write_bytes(document)
        typer.echo(f"wrote {DOC_PATH}")
    else:
        typer.echo(document.decode(), nl=False)


def register(app: typer.Typer) -> None:
    """Add the `schemas` command group."""
    app.add_typer(schemas_app, name="schemas")
