"""`mailbox`: the operators' command-line tool, the one entry point of the project.

Each service contributes its own commands from its `cli.py`; this module only composes
them, so that no service imports another. Where the development kit is present (a
checkout, not the production image), its commands join: the local stack, the platform
simulator, the demo and the benchmarks.
"""

from __future__ import annotations

import importlib.util

import typer

app = typer.Typer(
    name="mailbox",
    help="Operate the public mailbox (公开信箱): local stack, services, tools.",
    no_args_is_help=True,
    add_completion=False,
)


def _register_all() -> None:
    # Imported here, not at module top, so `mailbox --help` stays fast and a
    # command's heavy imports (jieba, holidays) load only when it runs.
    from services.deadlines import cli as deadlines_cli
    from services.intake import cli as intake_cli
    from services.publishing import cli as publishing_cli
    from services.routing import cli as routing_cli
    from shared import dead_letters_cli
    from shared.events import cli as events_cli

    for module in (
        deadlines_cli,
        events_cli,
        dead_letters_cli,
        publishing_cli,
        routing_cli,
        intake_cli,
    ):
        module.register(app)
    eval_app = typer.Typer(
        help="Quality on annotated letters: redaction, classification (JSON figures).",
        no_args_is_help=True,
    )
    publishing_cli.register_eval(eval_app)
    routing_cli.register_eval(eval_app)
    app.add_typer(eval_app, name="eval")
    if importlib.util.find_spec("devkit") is not None:
        from devkit import cli as devkit_cli

        devkit_cli.register(app)


def main() -> None:
    """Entry point of the `mailbox` console script."""
    _register_all()
    app()


if __name__ == "__main__":
    main()
