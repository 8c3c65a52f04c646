"""`mailbox simulator`: serve the reference platform API."""

from __future__ import annotations

from pathlib import Path

import typer

DEFAULT_ADMIN_TOKEN = "dev-only-simulator-admin-token"  # noqa: S105 - the development default


def simulator(
    host: str = typer.Option("127.0.0.1", help="address to listen on"),
    port: int = typer.Option(8900, min=1, max=65535),
    letters: Path | None = typer.Option(
        None,
        exists=True,
        dir_okay=False,
        help="JSONL letters to serve, spread over the platforms (e.g. the dev letters)",
    ),
    generate: int = typer.Option(0, min=0, max=100_000, help="also generate N letters"),
    seed: int = typer.Option(0, help="seed of the generated letters"),
    config: Path | None = typer.Option(
        None,
        exists=True,
        dir_okay=False,
        help="platform configs (JSON) whose ids, tokens and field names to serve",
    ),
    admin_token: str = typer.Option(
        DEFAULT_ADMIN_TOKEN, envvar="MAILBOX_SIMULATOR_ADMIN_TOKEN", help="bearer of /_admin"
    ),
) -> None:
    """Serve the reference platform API for the three platforms of Art. 2."""
    import uvicorn

    from devkit.simulator.app import create_simulator_app
    from devkit.simulator.letters import load_jsonl_letters
    from devkit.simulator.state import SimulatorState
    from shared.platforms.config import load_platform_configs

    state = SimulatorState(load_platform_configs(config), admin_token=admin_token)
    if letters is not None:
        state.load_letters(load_jsonl_letters(letters))
    if generate:
        state.generate(generate, seed=seed)
    counts = {pid: len(feed.entries) for pid, feed in state.feeds.items()}
    typer.echo(f"simulator on http://{host}:{port}/p/{{platform_id}} serving {counts}", err=True)
    uvicorn.run(create_simulator_app(state), host=host, port=port, log_level="warning")


def register(app: typer.Typer) -> None:
    """Add `simulator`."""
    app.command("simulator")(simulator)
