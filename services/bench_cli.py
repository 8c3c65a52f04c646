"""`mailbox bench pipeline`: the whole pipeline's figures beside the bare broker and database."""

from __future__ import annotations

from pathlib import Path

import typer


def bench_pipeline(
    letters: int = typer.Option(2000, min=1, max=20_000, help="letters of the throughput phase"),
    rate: float = typer.Option(
        20.0, "--rate", min=0.1, max=1000, help="letters put per second in the latency phase"
    ),
    latency_letters: int = typer.Option(
        200, min=1, max=20_000, help="letters of the latency phase"
    ),
    concurrency: int = typer.Option(48, min=1, max=512, help="letters the actors work at once"),
    not_accepted_share: float = typer.Option(
        0.1, min=0.0, max=1.0, help="share of letters the office does not accept"
    ),
    baseline_n: int = typer.Option(
        2000, min=1, max=100_000, help="messages and documents of each baseline loop"
    ),
    timeout_s: float = typer.Option(
        1800.0, min=5, help="longest wait for a phase's letters to be published"
    ),
    quick: bool = typer.Option(
        False, "--quick", help="a smoke run: 20 letters, 10 at 50/s, baselines of 200"
    ),
    log_dir: Path | None = typer.Option(
        None, file_okay=False, help="the services' logs (default var/log/services)"
    ),
) -> None:
    """N letters through intake, routing, deadlines and publishing with scripted people (JSON)."""
    import orjson

    from services.bench_pipeline import PipelineOptions, pipeline_figures

    if quick:
        letters, latency_letters, rate, baseline_n = 20, 10, 50.0, 200
    options = PipelineOptions(
        letters=letters,
        rate_per_s=rate,
        latency_letters=latency_letters,
        concurrency=concurrency,
        not_accepted_share=not_accepted_share,
        baseline_n=baseline_n,
        timeout_s=timeout_s,
        log_dir=log_dir,
        progress=lambda text: typer.echo(text, err=True),
    )
    figures = pipeline_figures(options)
    typer.echo(orjson.dumps(figures, option=orjson.OPT_INDENT_2).decode())
    if "error" in figures:
        raise typer.Exit(1)


def register(app: typer.Typer, *, bench: typer.Typer) -> None:
    """Add `bench pipeline`."""
    del app
    bench.command(name="pipeline")(bench_pipeline)
