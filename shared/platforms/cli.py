"""`mailbox simulator`: run the platform simulator."""

from __future__ import annotations

from pathlib import Path

import typer


def simulator(
    host: str = typer.Option("127.0.0.1", help="address to listen on"),
    port: int = typer.Option(8900, min=1, max=65535),
    letters: Path | None = typer.Option(
        None, help="JSONL letters to serve, spread over the platforms (e.g. the dev letters)"
    ),
    generate: int = typer.Option(0, min=0, max=100_000, help="also generate N letters"),
    seed: int = typer.Option(0, help="seed of generated letters and faults"),
    admin_token: str = typer.Option(
        "dev-only-simulator-admin-token", envvar="MAILBOX_SIMULATOR_ADMIN_TOKEN"
    ),
) -> None:
    """Serve the reference platform API for the three platforms of Art. 2."""
    import uvicorn

    from shared.platforms.simulator import create_simulator_app
    from shared.platforms.simulator_letters import load_jsonl_letters
    from shared.platforms.simulator_state import SimulatorState

    state = SimulatorState(admin_token=admin_token)
    if letters is not None:
        state.load_letters(load_jsonl_letters(letters))
    if generate:
        state.generate(generate, seed=seed)
    uvicorn.run(create_simulator_app(state), host=host, port=port, log_level="warning")


def register(app: typer.Typer, *, bench: typer.Typer) -> None:
    """Add the `simulator` command."""
    app.command("simulator")(simulator)
