"""The development kit's commands, added to `mailbox` where the kit is present."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add `stack`, `simulator`, `demo` and the `bench` group."""
    from devkit import stack_cli
    from devkit.bench import cli as bench_cli
    from devkit.demo import cli as demo_cli
    from devkit.simulator import cli as simulator_cli

    stack_cli.register(app)
    simulator_cli.register(app)
    demo_cli.register(app)
    bench_app = typer.Typer(help="Benchmarks; each prints JSON figures.", no_args_is_help=True)
    bench_cli.register(bench_app)
    app.add_typer(bench_app, name="bench")
