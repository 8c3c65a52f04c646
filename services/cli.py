"""`mailbox`: the operators' command-line tool.

Each service contributes its own commands from its `cli.py`; this module only
composes them, so that no service imports another.
"""

from __future__ import annotations

import typer

app = typer.Typer(
    name="mailbox",
    help="Operate the public mailbox (公开信箱): local stack, services, tools.",
    no_args_is_help=True,
    add_completion=False,
)
bench_app = typer.Typer(help="Benchmarks; each prints JSON figures.", no_args_is_help=True)


def _register_all() -> None:
    # Imported here, not at module top, so `mailbox --help` stays fast and a
    # command's heavy imports (jieba, holidays) load only when it runs.
    from services import stack_cli

    stack_cli.register(app)
    app.add_typer(bench_app, name="bench")
    from services.deadlines import cli as deadlines_cli

    deadlines_cli.register(app, bench=bench_app)
    from shared.events import cli as events_cli

    events_cli.register(app, bench=bench_app)
    from shared.platforms import cli as platforms_cli

    platforms_cli.register(app, bench=bench_app)
    from shared import dead_letters_cli

    dead_letters_cli.register(app, bench=bench_app)
    from services.publishing import cli as publishing_cli

    publishing_cli.register(app, bench=bench_app)
    from services.publishing import archive_cli

    archive_cli.register(app, bench=bench_app)
    from services.routing import cli as routing_cli

    routing_cli.register(app, bench=bench_app)
    from services.routing import admin_cli as routing_admin_cli

    routing_admin_cli.register(app, bench=bench_app)
    from services.intake import cli as intake_cli

    intake_cli.register(app, bench=bench_app)
    from services import demo_cli

    demo_cli.register(app, bench=bench_app)
    from services import bench_cli

    bench_cli.register(app, bench=bench_app)


def main() -> None:
    """Entry point of the `mailbox` console script."""
    _register_all()
    app()


if __name__ == "__main__":
    main()
