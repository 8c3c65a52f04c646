"""`mailbox simulator` (serve the reference platform API) and `mailbox bench platforms`."""

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

    from shared.platforms.config import load_platform_configs
    from shared.platforms.simulator import create_simulator_app
    from shared.platforms.simulator_letters import load_jsonl_letters
    from shared.platforms.simulator_state import SimulatorState

    state = SimulatorState(load_platform_configs(config), admin_token=admin_token)
    if letters is not None:
        state.load_letters(load_jsonl_letters(letters))
    if generate:
        state.generate(generate, seed=seed)
    counts = {pid: len(feed.entries) for pid, feed in state.feeds.items()}
    typer.echo(f"simulator on http://{host}:{port}/p/{{platform_id}} serving {counts}", err=True)
    uvicorn.run(create_simulator_app(state), host=host, port=port, log_level="warning")


def bench_platforms(
    letters: int = typer.Option(6000, min=1, max=100_000, help="letters to generate and read"),
    page_size: int = typer.Option(200, min=1, max=500),
    uploads: int = typer.Option(1000, min=0, help="uploads to one platform"),
    concurrency: int = typer.Option(8, min=1, max=64, help="uploads in flight"),
    seed: int = typer.Option(0),
) -> None:
    """Letters/s polled and uploads/s through the HTTP client from a simulator process."""
    import asyncio

    import orjson

    from shared.platforms.bench import run_platform_bench

    figures = asyncio.run(
        run_platform_bench(
            letters=letters,
            page_size=page_size,
            uploads=uploads,
            concurrency=concurrency,
            seed=seed,
        )
    )
    typer.echo(orjson.dumps(figures, option=orjson.OPT_INDENT_2).decode())


def register(app: typer.Typer, *, bench: typer.Typer) -> None:
    """Add `simulator` and `bench platforms`."""
    app.command("simulator")(simulator)
    bench.command("platforms")(bench_platforms)
