"""`mailbox stack up|down|status`: the local stack of real servers on loopback."""

from __future__ import annotations

import subprocess
from pathlib import Path

import typer

REPO_ROOT = Path(__file__).resolve().parent.parent
STACK_SCRIPT = REPO_ROOT / "deploy" / "local" / "stack.sh"

stack_app = typer.Typer(help="Install (where missing), start, stop and inspect the local stack.")


def _run(action: str) -> None:
    result = subprocess.run(["bash", str(STACK_SCRIPT), action], check=False)  # noqa: S603, S607
    raise typer.Exit(result.returncode)


@stack_app.command()
def up() -> None:
    """Install what is missing and start RabbitMQ, Redis and the Mongo-wire server."""
    _run("up")


@stack_app.command()
def down() -> None:
    """Stop the servers the stack started."""
    _run("down")


@stack_app.command()
def status() -> None:
    """Tell which servers run and where."""
    _run("status")


def register(app: typer.Typer) -> None:
    """Add the `stack` command group."""
    app.add_typer(stack_app, name="stack")
