"""`mailbox intake poll-once`: one polling pass over the platforms, from the command line."""

from __future__ import annotations

from typing import Any

import typer

intake_app = typer.Typer(
    help="The intake service: poll the platforms, register letters.", no_args_is_help=True
)


def logs_to_stderr(level: str = "WARNING") -> None:
    """Project logging, on stderr: stdout carries the command's JSON."""
    import logging
    import sys

    import structlog

    from shared.logging import configure_logging

    configure_logging(service="intake", level=level, json=False)
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(sys.stderr))
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(sys.stderr)


@intake_app.command("poll-once")
def poll_once(
    platform: str | None = typer.Option(
        None, "--platform", help="poll only this platform id (default: every enabled one)"
    ),
) -> None:
    """Poll the configured platforms once on the local stack and print what each brought."""
    import asyncio

    import orjson

    try:
        summaries = asyncio.run(_poll_once(platform))
    except LookupError as error:
        raise typer.BadParameter(str(error), param_hint="--platform") from None
    except OSError as error:
        typer.echo(f"the local stack is not reachable ({error}); try `mailbox stack up`", err=True)
        raise typer.Exit(1) from None
    typer.echo(orjson.dumps({"platforms": summaries}, option=orjson.OPT_INDENT_2).decode())


async def _poll_once(platform: str | None) -> list[dict[str, Any]]:
    from dataclasses import asdict

    from pymongo.errors import ServerSelectionTimeoutError

    from services.intake.settings import IntakeSettings
    from services.intake.wiring import OUTBOX_COLLECTIONS, open_intake, platform_configs
    from shared.clock import SystemClock
    from shared.runtime import Runtime

    settings = IntakeSettings()
    configs = platform_configs(settings)
    known = {c.id: c for c in configs}
    if platform is not None and platform not in known:
        raise LookupError(f"no platform {platform!r}; configured: {', '.join(known)}")
    ids = [platform] if platform else [c.id for c in configs if c.enabled]
    logs_to_stderr()
    clock = SystemClock()

    try:
        async with (
            Runtime.open(
                service="intake",
                settings=settings,
                clock=clock,
                outbox_collections=OUTBOX_COLLECTIONS,
            ) as runtime,
            open_intake(
                runtime, settings=settings, clock=clock, configs=configs, poll=False
            ) as intake,
        ):
            summaries = [await intake.poller.poll(pid) for pid in ids]
            await intake.relay.drain(timeout_s=120)
    except ServerSelectionTimeoutError as error:
        raise OSError(str(error).split(",")[0]) from error
    rows = []
    for summary in summaries:
        row = asdict(summary)
        row.pop("errors")
        rows.append(row)
    return rows


def register(app: typer.Typer) -> None:
    """Add `intake poll-once`."""
    app.add_typer(intake_app, name="intake")
